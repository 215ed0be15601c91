using System.Buffers.Binary;

namespace Streams.Engine.Log;

/// <summary>How a reader treats transactional data.</summary>
public enum IsolationLevel
{
    /// <summary>Only records below the last stable offset, without aborted transactions or control batches (the default).</summary>
    ReadCommitted,
    /// <summary>Everything written, including open and aborted transactions (control batches are still hidden).</summary>
    ReadUncommitted,
}

/// <summary>What a control batch marks (stored in its single record's value).</summary>
public enum ControlType : ushort
{
    /// <summary>A producer opens a transaction on the partition: its offset is where the transaction starts.</summary>
    Begin = 0,
    /// <summary>The producer staged the transaction durably under a tag (a checkpoint id); it stays invisible until committed.</summary>
    Prepare = 1,
    /// <summary>The transaction's data becomes visible to read-committed readers.</summary>
    Commit = 2,
    /// <summary>The transaction's data is discarded; with nothing open it only records (fences with) the producer's epoch.</summary>
    Abort = 3,
}

/// <summary>A transaction still open on a partition.</summary>
/// <param name="ProducerId">The producer that owns it.</param>
/// <param name="Epoch">The epoch it was begun with.</param>
/// <param name="FirstOffset">The offset of its begin marker (the last stable offset cannot pass it).</param>
/// <param name="PreparedTag">The tag it was prepared under, or -1 while data may still be added.</param>
public readonly record struct OpenTransaction(long ProducerId, short Epoch, long FirstOffset, long PreparedTag)
{
    /// <summary>True once a prepare marker was written.</summary>
    public bool IsPrepared => PreparedTag >= 0;
}

/// <summary>An aborted transaction: read-committed readers skip its producer's batches in [FirstOffset, LastOffset].</summary>
/// <param name="ProducerId">The producer.</param>
/// <param name="FirstOffset">Its begin marker's offset.</param>
/// <param name="LastOffset">Its abort marker's offset.</param>
public readonly record struct AbortedTransaction(long ProducerId, long FirstOffset, long LastOffset);

/// <summary>
/// Per-partition transaction bookkeeping: the open transactions (which hold the last stable offset back) and the aborted
/// ones (which read-committed readers skip). Fed by every appended batch and, on open, by replaying segments; saved with
/// the producer snapshot when a segment rolls so reopening replays only the active segment.
/// </summary>
internal sealed class TransactionState
{
    /// <summary>Bytes of a control record's value: u16 version, u16 type, i64 tag.</summary>
    public const int ControlValueSize = 12;

    /// <summary>Bytes of a whole control batch: header plus one unkeyed record with a control value and no headers.</summary>
    public const int ControlBatchSize = RecordBatchFormat.HeaderSize + RecordBatchFormat.MinRecordSize + ControlValueSize;

    private readonly Dictionary<long, OpenTransaction> _open = [];
    private readonly List<AbortedTransaction> _aborted = [];
    private long _firstOpenOffset = long.MaxValue;

    /// <summary>The lowest first offset of an open transaction, or <see cref="long.MaxValue"/> when none is open.</summary>
    public long FirstOpenOffset => _firstOpenOffset;

    public IReadOnlyCollection<OpenTransaction> Open => _open.Values;

    public IReadOnlyList<AbortedTransaction> Aborted => _aborted;

    /// <summary>The control type and tag of a control batch (one record, value of <see cref="ControlValueSize"/> bytes).</summary>
    public static (ControlType Type, long Tag) ReadControl(ReadOnlySpan<byte> batch)
    {
        // Record layout: i32 size, i64 timestamp, i32 key length (-1), i32 value length, value.
        var value = batch[(RecordBatchFormat.HeaderSize + 4 + 8 + 4 + 4)..];
        return ((ControlType)BinaryPrimitives.ReadUInt16LittleEndian(value[2..]), BinaryPrimitives.ReadInt64LittleEndian(value[4..]));
    }

    public static void WriteControlValue(Span<byte> value, ControlType type, long tag)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(value, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(value[2..], (ushort)type);
        BinaryPrimitives.WriteInt64LittleEndian(value[4..], tag);
    }

    /// <summary>
    /// Checks a transactional data batch or a control marker before it is appended; throws when it breaks the protocol.
    /// Epoch fencing itself is the producer table's job.
    /// </summary>
    public void CheckAppend(long producerId, short epoch, BatchAttributes attributes, ControlType type, string where)
    {
        var isOpen = _open.TryGetValue(producerId, out var open);
        if ((attributes & BatchAttributes.Control) == 0)
        {
            if (!isOpen)
            {
                throw new InvalidTransactionStateException($"{where}: producer {producerId} writes transactional data without a begun transaction");
            }

            if (open.Epoch != epoch)
            {
                throw new InvalidTransactionStateException($"{where}: producer {producerId} epoch {epoch} writes into a transaction begun by epoch {open.Epoch}; resolve it (commit or abort) first");
            }

            if (open.IsPrepared)
            {
                throw new InvalidTransactionStateException($"{where}: producer {producerId} writes into a transaction already prepared under tag {open.PreparedTag}");
            }

            return;
        }

        switch (type)
        {
            case ControlType.Begin when isOpen:
                throw new InvalidTransactionStateException($"{where}: producer {producerId} begins a transaction while one begun at offset {open.FirstOffset} is still open");
            case ControlType.Prepare when !isOpen:
                throw new InvalidTransactionStateException($"{where}: producer {producerId} prepares but has no open transaction");
            case ControlType.Commit when !isOpen:
                throw new InvalidTransactionStateException($"{where}: producer {producerId} commits but has no open transaction");
        }
    }

    /// <summary>Updates the state with a batch that is in the log (appended now or found while replaying).</summary>
    public void Apply(ReadOnlySpan<byte> batch)
    {
        var attributes = RecordBatchFormat.Attributes(batch);
        if ((attributes & BatchAttributes.Control) == 0)
        {
            return;
        }

        var producerId = RecordBatchFormat.ProducerId(batch);
        var offset = RecordBatchFormat.BaseOffset(batch);
        var (type, tag) = ReadControl(batch);
        switch (type)
        {
            case ControlType.Begin:
                _open[producerId] = new OpenTransaction(producerId, RecordBatchFormat.Epoch(batch), offset, -1);
                break;
            case ControlType.Prepare when _open.TryGetValue(producerId, out var open):
                _open[producerId] = open with { PreparedTag = tag };
                return;
            case ControlType.Commit:
                _open.Remove(producerId);
                break;
            case ControlType.Abort:
                if (_open.Remove(producerId, out var aborted))
                {
                    _aborted.Add(new AbortedTransaction(producerId, aborted.FirstOffset, offset));
                }

                break;
        }

        _firstOpenOffset = _open.Count == 0 ? long.MaxValue : _open.Values.Min(t => t.FirstOffset);
    }

    /// <summary>The aborted transactions that overlap [from, to) (null when none: the common case allocates nothing).</summary>
    public AbortedTransaction[]? AbortedBetween(long from, long to)
    {
        List<AbortedTransaction>? hits = null;
        foreach (var a in _aborted)
        {
            if (a.LastOffset >= from && a.FirstOffset < to)
            {
                (hits ??= []).Add(a);
            }
        }

        return hits?.ToArray();
    }

    /// <summary>Forgets aborted transactions that ended before <paramref name="startOffset"/> (retention deleted their data).</summary>
    public void PruneBefore(long startOffset) => _aborted.RemoveAll(a => a.LastOffset < startOffset);

    public void Clear()
    {
        _open.Clear();
        _aborted.Clear();
        _firstOpenOffset = long.MaxValue;
    }

    /// <summary>Serialized size (appended to the producer snapshot).</summary>
    public int SerializedSize => 8 + _open.Count * 26 + _aborted.Count * 24;

    public void Serialize(Span<byte> span)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span, _open.Count);
        var at = 4;
        foreach (var t in _open.Values)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], t.ProducerId);
            BinaryPrimitives.WriteInt16LittleEndian(span[(at + 8)..], t.Epoch);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 10)..], t.FirstOffset);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 18)..], t.PreparedTag);
            at += 26;
        }

        BinaryPrimitives.WriteInt32LittleEndian(span[at..], _aborted.Count);
        at += 4;
        foreach (var a in _aborted)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], a.ProducerId);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 8)..], a.FirstOffset);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], a.LastOffset);
            at += 24;
        }
    }

    /// <summary>Loads what <see cref="Serialize"/> wrote; an empty span (a snapshot from before transactions) means none.</summary>
    public void Load(ReadOnlySpan<byte> span)
    {
        Clear();
        if (span.IsEmpty)
        {
            return;
        }

        var open = BinaryPrimitives.ReadInt32LittleEndian(span);
        var at = 4;
        for (var i = 0; i < open; i++)
        {
            var t = new OpenTransaction(
                BinaryPrimitives.ReadInt64LittleEndian(span[at..]),
                BinaryPrimitives.ReadInt16LittleEndian(span[(at + 8)..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 10)..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 18)..]));
            _open[t.ProducerId] = t;
            at += 26;
        }

        var aborted = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        for (var i = 0; i < aborted; i++)
        {
            _aborted.Add(new AbortedTransaction(
                BinaryPrimitives.ReadInt64LittleEndian(span[at..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 8)..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 16)..])));
            at += 24;
        }

        _firstOpenOffset = _open.Count == 0 ? long.MaxValue : _open.Values.Min(t => t.FirstOffset);
    }
}
