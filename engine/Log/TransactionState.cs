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
    /// <summary>A producer opens a transaction on the partition: its offset is where the transaction starts, its tag the transaction timeout in milliseconds (0: the topic's maximum).</summary>
    Begin = 0,
    /// <summary>The producer staged the transaction durably under a tag (a checkpoint id); it stays invisible until committed.</summary>
    Prepare = 1,
    /// <summary>The transaction's data becomes visible to read-committed readers.</summary>
    Commit = 2,
    /// <summary>
    /// The transaction's data is discarded; with nothing open it only records (fences with) the producer's epoch. Its tag is 0
    /// when the producer aborted, or the timeout in milliseconds when the log aborted an expired transaction.
    /// </summary>
    Abort = 3,
}

/// <summary>A transaction still open on a partition.</summary>
/// <param name="ProducerId">The producer that owns it.</param>
/// <param name="Epoch">The epoch it was begun with.</param>
/// <param name="FirstOffset">The offset of its begin marker (the last stable offset cannot pass it).</param>
/// <param name="PreparedTag">The tag it was prepared under, or -1 while data may still be added.</param>
/// <param name="StartedMs">When it began (its begin marker's timestamp, by the log's clock), Unix milliseconds.</param>
/// <param name="TimeoutMs">How long it may stay open: once <see cref="ExpiresAtMs"/> passes, the log aborts it.</param>
public readonly record struct OpenTransaction(long ProducerId, short Epoch, long FirstOffset, long PreparedTag, long StartedMs, long TimeoutMs)
{
    /// <summary>True once a prepare marker was written.</summary>
    public bool IsPrepared => PreparedTag >= 0;

    /// <summary>When the transaction times out (Unix milliseconds): from then on it counts as aborted and can no longer commit.</summary>
    public long ExpiresAtMs => StartedMs + TimeoutMs;
}

/// <summary>An aborted transaction: read-committed readers skip its producer's batches in [FirstOffset, LastOffset].</summary>
/// <param name="ProducerId">The producer.</param>
/// <param name="FirstOffset">Its begin marker's offset.</param>
/// <param name="LastOffset">Its abort marker's offset (<see cref="long.MaxValue"/> for an expired transaction not yet marked).</param>
/// <param name="Epoch">The abort marker's epoch (a timeout abort takes the next epoch, fencing the producer that began it).</param>
/// <param name="PreparedTag">The tag it had been prepared under, or -1.</param>
/// <param name="TimeoutMs">The timeout it exceeded when the log aborted it, or 0 when its producer aborted it.</param>
public readonly record struct AbortedTransaction(long ProducerId, long FirstOffset, long LastOffset, short Epoch = 0, long PreparedTag = -1, long TimeoutMs = 0)
{
    /// <summary>True when the log aborted it because it outlived its transaction timeout.</summary>
    public bool TimedOut => TimeoutMs > 0;
}

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

    /// <summary>Marks the snapshot layout that carries timeouts (older snapshots start with the open count, never negative).</summary>
    private const int FormatWithTimeouts = -2;

    private readonly Dictionary<long, OpenTransaction> _open = [];
    private readonly List<AbortedTransaction> _aborted = [];
    private long _firstOpenOffset = long.MaxValue;
    private long _firstExpiryMs = long.MaxValue;

    /// <param name="maxTimeoutMs">The topic's transaction.max.timeout: caps every transaction's timeout, and is the timeout of one begun without.</param>
    public TransactionState(long maxTimeoutMs) => MaxTimeoutMs = maxTimeoutMs;

    public long MaxTimeoutMs { get; }

    /// <summary>The lowest first offset of an open transaction, or <see cref="long.MaxValue"/> when none is open.</summary>
    public long FirstOpenOffset => _firstOpenOffset;

    /// <summary>When the first open transaction expires (Unix milliseconds), or <see cref="long.MaxValue"/> when none is open.</summary>
    public long FirstExpiryMs => _firstExpiryMs;

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
    public void CheckAppend(long producerId, short epoch, BatchAttributes attributes, ControlType type, long tag, string where)
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
            case ControlType.Begin when tag > MaxTimeoutMs:
                throw new InvalidTransactionTimeoutException($"{where}: producer {producerId} asks for a transaction timeout of {tag} ms, more than the topic's transaction-max-timeout-ms {MaxTimeoutMs}");
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
                var timeout = tag <= 0 ? MaxTimeoutMs : Math.Min(tag, MaxTimeoutMs);
                _open[producerId] = new OpenTransaction(producerId, RecordBatchFormat.Epoch(batch), offset, -1, RecordBatchFormat.FirstTimestamp(batch), timeout);
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
                    _aborted.Add(new AbortedTransaction(producerId, aborted.FirstOffset, offset, RecordBatchFormat.Epoch(batch), aborted.PreparedTag, tag));
                }

                break;
        }

        UpdateFirsts();
    }

    private void UpdateFirsts()
    {
        _firstOpenOffset = long.MaxValue;
        _firstExpiryMs = long.MaxValue;
        foreach (var t in _open.Values)
        {
            _firstOpenOffset = Math.Min(_firstOpenOffset, t.FirstOffset);
            _firstExpiryMs = Math.Min(_firstExpiryMs, t.ExpiresAtMs);
        }
    }

    /// <summary>The lowest first offset of an open transaction not expired at <paramref name="nowMs"/>, or <see cref="long.MaxValue"/>.</summary>
    public long FirstLiveOffset(long nowMs)
    {
        var first = long.MaxValue;
        foreach (var t in _open.Values)
        {
            if (t.ExpiresAtMs > nowMs)
            {
                first = Math.Min(first, t.FirstOffset);
            }
        }

        return first;
    }

    /// <summary>The open transactions that expired at <paramref name="nowMs"/> (null when none).</summary>
    public List<OpenTransaction>? Expired(long nowMs)
    {
        if (nowMs < _firstExpiryMs)
        {
            return null;
        }

        List<OpenTransaction>? expired = null;
        foreach (var t in _open.Values)
        {
            if (t.ExpiresAtMs <= nowMs)
            {
                (expired ??= []).Add(t);
            }
        }

        return expired;
    }

    /// <summary>The open transaction of <paramref name="producerId"/> when it expired at <paramref name="nowMs"/>.</summary>
    public OpenTransaction? ExpiredOf(long producerId, long nowMs) =>
        _open.TryGetValue(producerId, out var t) && t.ExpiresAtMs <= nowMs ? t : null;

    /// <summary>The newest timeout abort of <paramref name="producerId"/> written with <paramref name="epoch"/>, if any (explains a fencing).</summary>
    public AbortedTransaction? TimedOutWith(long producerId, short epoch)
    {
        for (var i = _aborted.Count - 1; i >= 0; i--)
        {
            if (_aborted[i].ProducerId == producerId && _aborted[i].Epoch == epoch && _aborted[i].TimedOut)
            {
                return _aborted[i];
            }
        }

        return null;
    }

    /// <summary>Why a producer's write into a timed-out transaction is refused, in words a user can act on.</summary>
    public static string TimedOutMessage(string where, long producerId, short epoch, long firstOffset, long timeoutMs, long abortOffset) =>
        $"{where}: producer {producerId} epoch {epoch}: its transaction begun at offset {firstOffset} stayed open longer than its " +
        $"transaction timeout of {timeoutMs} ms and was aborted by the log" + (abortOffset == long.MaxValue ? "" : $" at offset {abortOffset}") +
        "; its data is discarded and this producer instance is fenced (a restarted job resumes from its last checkpoint)";

    /// <summary>
    /// The aborted transactions that overlap [from, to), counting open transactions expired at <paramref name="nowMs"/> as
    /// aborted up to the end (null when none: the common case allocates nothing).
    /// </summary>
    public AbortedTransaction[]? AbortedBetween(long from, long to, long nowMs)
    {
        List<AbortedTransaction>? hits = null;
        foreach (var a in _aborted)
        {
            if (a.LastOffset >= from && a.FirstOffset < to)
            {
                (hits ??= []).Add(a);
            }
        }

        if (nowMs >= _firstExpiryMs)
        {
            foreach (var t in _open.Values)
            {
                if (t.ExpiresAtMs <= nowMs && t.FirstOffset < to)
                {
                    // Expired but not yet marked: it can never commit, so readers treat it as aborted already.
                    (hits ??= []).Add(new AbortedTransaction(t.ProducerId, t.FirstOffset, long.MaxValue, t.Epoch, t.PreparedTag, t.TimeoutMs));
                }
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
        _firstExpiryMs = long.MaxValue;
    }

    /// <summary>Serialized size (appended to the producer snapshot).</summary>
    public int SerializedSize => 12 + (_open.Count + _aborted.Count) * 42;

    public void Serialize(Span<byte> span)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span, FormatWithTimeouts);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], _open.Count);
        var at = 8;
        foreach (var t in _open.Values)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], t.ProducerId);
            BinaryPrimitives.WriteInt16LittleEndian(span[(at + 8)..], t.Epoch);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 10)..], t.FirstOffset);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 18)..], t.PreparedTag);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 26)..], t.StartedMs);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 34)..], t.TimeoutMs);
            at += 42;
        }

        BinaryPrimitives.WriteInt32LittleEndian(span[at..], _aborted.Count);
        at += 4;
        foreach (var a in _aborted)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], a.ProducerId);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 8)..], a.FirstOffset);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], a.LastOffset);
            BinaryPrimitives.WriteInt16LittleEndian(span[(at + 24)..], a.Epoch);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 26)..], a.PreparedTag);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 34)..], a.TimeoutMs);
            at += 42;
        }
    }

    /// <summary>
    /// Loads what <see cref="Serialize"/> wrote; an empty span (a snapshot from before transactions) means none. A snapshot
    /// from before timeouts gives its open transactions the maximum timeout counted from <paramref name="nowMs"/>.
    /// </summary>
    public void Load(ReadOnlySpan<byte> span, long nowMs)
    {
        Clear();
        if (span.IsEmpty)
        {
            return;
        }

        var withTimeouts = BinaryPrimitives.ReadInt32LittleEndian(span) == FormatWithTimeouts;
        var at = withTimeouts ? 4 : 0;
        var open = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        for (var i = 0; i < open; i++)
        {
            var t = new OpenTransaction(
                BinaryPrimitives.ReadInt64LittleEndian(span[at..]),
                BinaryPrimitives.ReadInt16LittleEndian(span[(at + 8)..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 10)..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 18)..]),
                withTimeouts ? BinaryPrimitives.ReadInt64LittleEndian(span[(at + 26)..]) : nowMs,
                withTimeouts ? Math.Min(BinaryPrimitives.ReadInt64LittleEndian(span[(at + 34)..]), MaxTimeoutMs) : MaxTimeoutMs);
            _open[t.ProducerId] = t;
            at += withTimeouts ? 42 : 26;
        }

        var aborted = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        for (var i = 0; i < aborted; i++)
        {
            var a = new AbortedTransaction(
                BinaryPrimitives.ReadInt64LittleEndian(span[at..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 8)..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 16)..]));
            _aborted.Add(withTimeouts
                ? a with
                {
                    Epoch = BinaryPrimitives.ReadInt16LittleEndian(span[(at + 24)..]),
                    PreparedTag = BinaryPrimitives.ReadInt64LittleEndian(span[(at + 26)..]),
                    TimeoutMs = BinaryPrimitives.ReadInt64LittleEndian(span[(at + 34)..]),
                }
                : a);
            at += withTimeouts ? 42 : 24;
        }

        UpdateFirsts();
    }
}
