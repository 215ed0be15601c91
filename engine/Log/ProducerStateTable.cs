using System.Buffers.Binary;

namespace Streams.Engine.Log;

/// <summary>
/// Per-partition memory of idempotent producers: their epoch, last sequence, and the last few batches they wrote, so a
/// retried batch is answered with its original offsets instead of being written twice, plus the partition's
/// <see cref="TransactionState"/>. Rebuilt from batch headers on open (or loaded from the snapshot taken at the last roll).
/// </summary>
/// <param name="maxTransactionTimeoutMs">The topic's cap on transaction timeouts (see <see cref="TransactionState"/>).</param>
internal sealed class ProducerStateTable(long maxTransactionTimeoutMs)
{
    /// <summary>How many recent batches per producer are remembered for duplicate answers (Kafka keeps 5 in flight).</summary>
    public const int RememberedBatches = 5;

    private readonly Dictionary<long, Entry> _producers = [];

    public int Count => _producers.Count;

    /// <summary>Open and aborted transactions of the partition.</summary>
    public TransactionState Transactions { get; } = new(maxTransactionTimeoutMs);

    /// <summary>Refuses a control marker from an epoch older than the producer's newest one.</summary>
    public void CheckEpoch(long producerId, short epoch, string where)
    {
        if (_producers.TryGetValue(producerId, out var entry) && epoch < entry.Epoch)
        {
            throw Fenced(producerId, epoch, entry.Epoch, where);
        }
    }

    /// <summary>The fencing error; when the newer epoch is the log's own timeout abort, it says so.</summary>
    private ProducerFencedException Fenced(long producerId, short epoch, short newest, string where) =>
        Transactions.TimedOutWith(producerId, newest) is { } timedOut
            ? new TransactionTimedOutException(TransactionState.TimedOutMessage(where, producerId, epoch, timedOut.FirstOffset, timedOut.TimeoutMs, timedOut.LastOffset))
            : new ProducerFencedException($"{where}: producer {producerId} epoch {epoch} is fenced by epoch {newest}");

    /// <summary>Records a control marker's epoch: a newer epoch fences every older instance and restarts sequences at 0.</summary>
    public void Fence(long producerId, short epoch)
    {
        if (!_producers.TryGetValue(producerId, out var entry) || epoch > entry.Epoch)
        {
            _producers[producerId] = new Entry { Epoch = epoch };
        }
    }

    /// <summary>The newest epoch seen for <paramref name="producerId"/>, or -1 when the producer never wrote here.</summary>
    public short EpochOf(long producerId) => _producers.TryGetValue(producerId, out var entry) ? entry.Epoch : (short)-1;

    /// <summary>Decides what to do with a batch: append (null result) or answer a duplicate (its original base offset); throws on gaps or fencing.</summary>
    public long? Check(long producerId, short epoch, int baseSequence, int count, string where)
    {
        if (!_producers.TryGetValue(producerId, out var entry))
        {
            if (baseSequence != 0)
            {
                throw new OutOfOrderSequenceException($"{where}: producer {producerId} is unknown here and its first batch starts at sequence {baseSequence}, not 0; records before it would be missing");
            }

            return null;
        }

        if (epoch < entry.Epoch)
        {
            throw Fenced(producerId, epoch, entry.Epoch, where);
        }

        if (epoch > entry.Epoch)
        {
            if (baseSequence != 0)
            {
                throw new OutOfOrderSequenceException($"{where}: producer {producerId} started epoch {epoch} at sequence {baseSequence}, not 0");
            }

            return null;
        }

        foreach (var b in entry.Recent)
        {
            if (b.BaseSequence == baseSequence && b.Count == count)
            {
                return b.BaseOffset;
            }
        }

        if (baseSequence == entry.LastSequence + 1)
        {
            return null;
        }

        if (baseSequence <= entry.LastSequence)
        {
            throw new OutOfOrderSequenceException($"{where}: producer {producerId} re-sent sequence {baseSequence}, older than the {RememberedBatches} batches remembered (last sequence {entry.LastSequence})");
        }

        throw new OutOfOrderSequenceException($"{where}: producer {producerId} sent sequence {baseSequence} but {entry.LastSequence + 1} was expected: {baseSequence - entry.LastSequence - 1} records are missing");
    }

    /// <summary>Remembers a batch that was written (or found while rebuilding).</summary>
    public void Record(long producerId, short epoch, int baseSequence, int count, long baseOffset)
    {
        if (!_producers.TryGetValue(producerId, out var entry) || epoch > entry.Epoch)
        {
            entry = new Entry { Epoch = epoch };
            _producers[producerId] = entry;
        }

        entry.LastSequence = baseSequence + count - 1;
        entry.Recent.Enqueue(new RecentBatch(baseSequence, count, baseOffset));
        if (entry.Recent.Count > RememberedBatches)
        {
            entry.Recent.Dequeue();
        }
    }

    /// <summary>Feeds a batch header from disk.</summary>
    public void Replay(ReadOnlySpan<byte> batch)
    {
        var pid = RecordBatchFormat.ProducerId(batch);
        if ((RecordBatchFormat.Attributes(batch) & BatchAttributes.Control) != 0)
        {
            Fence(pid, RecordBatchFormat.Epoch(batch));
            Transactions.Apply(batch);
        }
        else if (pid >= 0)
        {
            Record(pid, RecordBatchFormat.Epoch(batch), RecordBatchFormat.BaseSequence(batch), RecordBatchFormat.Count(batch), RecordBatchFormat.BaseOffset(batch));
        }
    }

    /// <summary>Serialises the table (written when a segment is sealed and on close).</summary>
    public byte[] Serialize(long coversUpTo)
    {
        var size = 12 + _producers.Sum(p => 16 + p.Value.Recent.Count * 16) + Transactions.SerializedSize;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(span, coversUpTo);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], _producers.Count);
        var at = 12;
        foreach (var (pid, e) in _producers)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], pid);
            BinaryPrimitives.WriteInt16LittleEndian(span[(at + 8)..], e.Epoch);
            BinaryPrimitives.WriteInt16LittleEndian(span[(at + 10)..], (short)e.Recent.Count);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 12)..], e.LastSequence);
            at += 16;
            foreach (var b in e.Recent)
            {
                BinaryPrimitives.WriteInt32LittleEndian(span[at..], b.BaseSequence);
                BinaryPrimitives.WriteInt32LittleEndian(span[(at + 4)..], b.Count);
                BinaryPrimitives.WriteInt64LittleEndian(span[(at + 8)..], b.BaseOffset);
                at += 16;
            }
        }

        Transactions.Serialize(span[at..]);
        return bytes;
    }

    /// <summary>Loads a snapshot; returns the offset it covers up to, or -1 when it is unreadable.</summary>
    public long Load(byte[] bytes, long nowMs)
    {
        _producers.Clear();
        try
        {
            var span = bytes.AsSpan();
            var covers = BinaryPrimitives.ReadInt64LittleEndian(span);
            var n = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
            var at = 12;
            for (var i = 0; i < n; i++)
            {
                var pid = BinaryPrimitives.ReadInt64LittleEndian(span[at..]);
                var entry = new Entry
                {
                    Epoch = BinaryPrimitives.ReadInt16LittleEndian(span[(at + 8)..]),
                    LastSequence = BinaryPrimitives.ReadInt32LittleEndian(span[(at + 12)..]),
                };
                var recent = BinaryPrimitives.ReadInt16LittleEndian(span[(at + 10)..]);
                at += 16;
                for (var j = 0; j < recent; j++)
                {
                    entry.Recent.Enqueue(new RecentBatch(
                        BinaryPrimitives.ReadInt32LittleEndian(span[at..]),
                        BinaryPrimitives.ReadInt32LittleEndian(span[(at + 4)..]),
                        BinaryPrimitives.ReadInt64LittleEndian(span[(at + 8)..])));
                    at += 16;
                }

                _producers[pid] = entry;
            }

            Transactions.Load(span[at..], nowMs);
            return covers;
        }
        catch (ArgumentOutOfRangeException)
        {
            Clear();
            return -1;
        }
    }

    public void Clear()
    {
        _producers.Clear();
        Transactions.Clear();
    }

    private sealed class Entry
    {
        public short Epoch;
        public int LastSequence = -1;
        public readonly Queue<RecentBatch> Recent = new();
    }

    private readonly record struct RecentBatch(int BaseSequence, int Count, long BaseOffset);
}
