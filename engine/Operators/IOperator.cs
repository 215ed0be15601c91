using Streams.Engine.Data;

namespace Streams.Engine.Operators;

/// <summary>A checkpoint barrier flowing with the data (aligned checkpoints, Chandy-Lamport style).</summary>
/// <param name="CheckpointId">The checkpoint the barrier belongs to; increases by one per checkpoint.</param>
/// <param name="TimestampMs">Wall-clock time the coordinator injected it, in Unix milliseconds.</param>
public readonly record struct CheckpointBarrier(long CheckpointId, long TimestampMs);

/// <summary>
/// Names a side output of an operator (late data, rejected rows) and the schema of its rows.
/// Tags compare by reference: the operator and the graph that reads the side output share one instance.
/// </summary>
/// <param name="Name">A name for metrics and dead letters, e.g. <c>late</c>.</param>
/// <param name="Schema">The schema of batches sent to the side output.</param>
/// <param name="CountsAsLate">True when rows sent here are late events (counted by the late-records metric).</param>
public sealed record OutputTag(string Name, Schema Schema, bool CountsAsLate = false)
{
    /// <summary>Tags compare by reference so two operators' "late" outputs stay distinct.</summary>
    public bool Equals(OutputTag? other) => ReferenceEquals(this, other);

    /// <inheritdoc />
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>Where an operator sends what it produces. Emitting a batch hands over its ownership.</summary>
public interface IOperatorOutput
{
    /// <summary>Sends <paramref name="batch"/> downstream; the caller must not touch it afterwards.</summary>
    void Emit(ColumnBatch batch);

    /// <summary>Sends a watermark downstream: no later row will carry an event time at or below it.</summary>
    void EmitWatermark(long watermark);

    /// <summary>Sends a checkpoint barrier downstream.</summary>
    void EmitBarrier(CheckpointBarrier barrier);

    /// <summary>Routes one row that cannot be processed to the dead-letter output with the reason, instead of failing the pipeline.</summary>
    void EmitError(ColumnBatch batch, int row, string reason);

    /// <summary>
    /// Sends <paramref name="batch"/> (owned by the callee afterwards) to the side output <paramref name="tag"/>.
    /// Outputs that do not route side outputs report each live row through <see cref="EmitError"/>, so nothing vanishes.
    /// </summary>
    void EmitSide(OutputTag tag, ColumnBatch batch)
    {
        for (var row = 0; row < batch.Count; row++)
        {
            if (batch.IsLive(row))
            {
                EmitError(batch, row, "side output '" + tag.Name + "' has no consumer");
            }
        }

        batch.Dispose();
    }
}

/// <summary>
/// A single-input stream operator. Only <see cref="OnBatch"/> is mandatory; watermark, checkpoint and completion
/// hooks forward by default, so a stateless operator is one method.
/// </summary>
public interface IOperator
{
    /// <summary>Processes a batch it now owns: pass it on with <see cref="IOperatorOutput.Emit"/> or dispose it.</summary>
    void OnBatch(ColumnBatch batch, IOperatorOutput output);

    /// <summary>The input watermark advanced to <paramref name="watermark"/> (<see cref="long.MaxValue"/> at end of input).</summary>
    void OnWatermark(long watermark, IOperatorOutput output) => output.EmitWatermark(watermark);

    /// <summary>A barrier arrived: snapshot state, then forward the barrier.</summary>
    void OnBarrier(CheckpointBarrier barrier, IOperatorOutput output) => output.EmitBarrier(barrier);

    /// <summary>All input has been delivered: flush what is still held.</summary>
    void OnEndOfInput(IOperatorOutput output)
    {
    }
}
