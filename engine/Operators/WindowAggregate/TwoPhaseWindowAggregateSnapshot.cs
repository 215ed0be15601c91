using Streams.Engine.State;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>The global phase's state is its inner window aggregate over partial rows; the raw-row path keeps none.</summary>
internal sealed partial class TwoPhaseWindowAggregateOperator : ICheckpointableOperator
{
    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer) => _global.Snapshot(writer);

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader) => _global.Restore(reader);
}
