using Streams.Engine.Data;

namespace Streams.Engine.Runtime.Execution;

/// <summary>What travels through a channel between tasks.</summary>
internal enum ElementKind : byte
{
    Batch,
    Watermark,
    Barrier,
    Idle,
    End,
}

/// <summary>One message on a channel: a batch, a watermark, a barrier, an idleness mark or end of input, tagged with its sender.</summary>
internal readonly struct StreamElement
{
    private StreamElement(ElementKind kind, int sender, ColumnBatch? batch, long value, long timestamp)
    {
        Kind = kind;
        Sender = sender;
        Batch = batch;
        Value = value;
        Timestamp = timestamp;
    }

    public ElementKind Kind { get; }

    /// <summary>The index of the sending task among all senders of the receiving task (left input first, then right).</summary>
    public int Sender { get; }

    public ColumnBatch? Batch { get; }

    /// <summary>The watermark, or the checkpoint id of a barrier.</summary>
    public long Value { get; }

    /// <summary>The barrier's timestamp.</summary>
    public long Timestamp { get; }

    public static StreamElement OfBatch(int sender, ColumnBatch batch) => new(ElementKind.Batch, sender, batch, 0, 0);

    public static StreamElement OfWatermark(int sender, long watermark) => new(ElementKind.Watermark, sender, null, watermark, 0);

    public static StreamElement OfBarrier(int sender, Operators.CheckpointBarrier barrier) =>
        new(ElementKind.Barrier, sender, null, barrier.CheckpointId, barrier.TimestampMs);

    public static StreamElement OfIdle(int sender) => new(ElementKind.Idle, sender, null, 0, 0);

    public static StreamElement OfEnd(int sender) => new(ElementKind.End, sender, null, 0, 0);

    public StreamElement WithSender(int sender) => new(Kind, sender, Batch, Value, Timestamp);
}
