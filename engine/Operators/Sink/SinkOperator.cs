using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Engine.Operators.Sink;

/// <summary>
/// Ends a chain in an <see cref="ISinkWriter"/>: writes every batch, pre-commits on checkpoint barriers (two-phase
/// sinks stage their writes) and flushes at end of input.
/// </summary>
public sealed class SinkOperator(ISinkWriter writer) : IOperator, IDisposable
{
    /// <summary>The writer this operator ends in (the checkpoint layer commits and recovers its transactions).</summary>
    internal ISinkWriter Writer => writer;

    /// <inheritdoc />
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        try
        {
            writer.Write(batch);
        }
        finally
        {
            batch.Dispose();
        }
    }

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        // A sink has no downstream to tell.
    }

    /// <inheritdoc />
    public void OnBarrier(CheckpointBarrier barrier, IOperatorOutput output) => writer.PreCommit(barrier.CheckpointId);

    /// <inheritdoc />
    public void OnEndOfInput(IOperatorOutput output) => writer.Flush();

    /// <summary>Closes the writer.</summary>
    public void Dispose() => writer.Dispose();
}

/// <summary>Ends a chain in a user callback; calls from the parallel tasks of one sink share a lock so the callback needs none.</summary>
internal sealed class CallbackSinkOperator(Action<ColumnBatch> onBatch, Lock gate) : IOperator, State.IStatelessOperator
{
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        try
        {
            lock (gate)
            {
                onBatch(batch);
            }
        }
        finally
        {
            batch.Dispose();
        }
    }

    public void OnWatermark(long watermark, IOperatorOutput output)
    {
    }
}
