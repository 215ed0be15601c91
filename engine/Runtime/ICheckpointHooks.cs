using Streams.Engine.Operators;

namespace Streams.Engine.Runtime;

/// <summary>
/// The points where the runtime hands control to the checkpoint layer (<see cref="JobOptions.Checkpoints"/>;
/// implemented by <c>Streams.Engine.Checkpoints.JobCheckpointing</c>). Instantiation-time calls happen before any
/// task runs; the others on the task's own thread.
/// </summary>
public interface ICheckpointHooks
{
    /// <summary>A source partition task is created: registers it and returns the offset to open it at (0 = beginning).</summary>
    long OpenSourcePartition(string source, int partition, int partitionCount);

    /// <summary>A source partition injects <paramref name="barrier"/> after the rows up to <paramref name="offset"/>, just before the barrier goes downstream.</summary>
    void OnSourceBarrier(string source, int partition, CheckpointBarrier barrier, long offset);

    /// <summary>A bounded source partition ended at <paramref name="offset"/>, just before end of input goes downstream.</summary>
    void OnSourceEnded(string source, int partition, long offset);

    /// <summary>An operator instance of a chain is created: returns what the task runs instead (the operator itself, or a wrapper that snapshots it).</summary>
    IOperator WrapOperator(string node, string operatorName, int task, IOperator @operator);

    /// <summary>A two-input operator instance is created: returns what the task runs instead.</summary>
    ITwoInputOperator WrapTwoInput(string node, int task, ITwoInputOperator @operator);
}
