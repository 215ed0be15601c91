namespace Streams.Engine.State;

/// <summary>
/// Marks an operator that keeps no state between batches, so checkpointing has nothing to snapshot. Under
/// checkpointing every operator must be stateless (this marker) or implement
/// <see cref="ICheckpointableOperator"/>; any other operator is refused, because restoring a job without its state
/// would silently lose data.
/// </summary>
public interface IStatelessOperator;
