using Streams.Engine.Data;

namespace Streams.Engine.Operators;

/// <summary>Which side of a two-input operator a batch arrived on.</summary>
public enum JoinSide : byte
{
    /// <summary>The first (left, probe) input.</summary>
    Left = 0,
    /// <summary>The second (right, build) input.</summary>
    Right = 1,
}

/// <summary>
/// An operator with two inputs (joins, union of two streams). The runtime aligns checkpoint barriers across both
/// inputs and delivers the minimum of their watermarks, so only <see cref="OnBatch"/> is mandatory.
/// </summary>
public interface ITwoInputOperator
{
    /// <summary>Processes a batch from <paramref name="side"/> that it now owns.</summary>
    void OnBatch(JoinSide side, ColumnBatch batch, IOperatorOutput output);

    /// <summary>The combined watermark (min of both inputs) advanced.</summary>
    void OnWatermark(long watermark, IOperatorOutput output) => output.EmitWatermark(watermark);

    /// <summary>Barriers of one checkpoint arrived on both inputs: snapshot state, then forward.</summary>
    void OnBarrier(CheckpointBarrier barrier, IOperatorOutput output) => output.EmitBarrier(barrier);

    /// <summary>Both inputs ended.</summary>
    void OnEndOfInput(IOperatorOutput output)
    {
    }
}
