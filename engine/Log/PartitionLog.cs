using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Streams.Engine.Log;

/// <summary>Where an append landed.</summary>
/// <param name="BaseOffset">The offset of the batch's first record.</param>
/// <param name="Count">How many records the batch held.</param>
/// <param name="Duplicate">True when an idempotent retry was recognised: nothing was written, the offsets are the original ones.</param>
public readonly record struct AppendResult(long BaseOffset, int Count, bool Duplicate)
{
    /// <summary>The offset of the batch's last record.</summary>
    public long LastOffset => BaseOffset + Count - 1;
}

/// <summary>What a retention pass did on one partition.</summary>
/// <param name="DeletedSegments">Sealed segments deleted.</param>
/// <param name="DeletedBytes">Bytes freed.</param>
/// <param name="HeldSegments">Segments retention wanted to delete but kept because a live group has not read them.</param>
/// <param name="HeldBy">The groups (with their committed offsets) that held retention back.</param>
/// <param name="StartOffset">The partition's first offset afterwards.</param>
public sealed record RetentionResult(int DeletedSegments, long DeletedBytes, int HeldSegments, IReadOnlyList<GroupOffset> HeldBy, long StartOffset);

/// <summary>A group's committed offset (the next offset it will read) on one partition.</summary>
/// <param name="Group">The group name.</param>
/// <param name="Committed">The next offset the group reads.</param>
public readonly record struct GroupOffset(string Group, long Committed);

/// <summary>
/// One partition of a topic: an ordered list of segments, appended to under one lock with group commit, read lock-free.
/// Opening it recovers the active segment (torn or corrupt tail batches are cut and reported).
/// </summary>
public sealed class PartitionLog : IDisposable
{
    internal const string ProducerSnapshotFile = "producers.snapshot";

    private readonly Lock _appendLock = new();
    private readonly string _directory;
    private readonly TopicConfig _config;
    private readonly Action<string> _report;
    private readonly TimeProvider _clock;
    private readonly ProducerStateTable _producers;
    private readonly GroupCommit _groupCommit;
    private readonly Timer? _intervalFlush;
    private volatile LogSegment[] _segments;
    private long _endOffset;
    private long _firstOpenTransaction = long.MaxValue;
    private long _firstExpiryMs = long.MaxValue;
    private RecordBatchBuilder? _timeoutMarker;
    private int _hasWaiters;
    private TaskCompletionSource _dataSignal = NewSignal();
    private bool _disposed;

    internal PartitionLog(string topic, int partition, string directory, TopicConfig config, bool writable, Action<string> report, TimeProvider clock)
    {
        Topic = topic;
        Partition = partition;
        IsWritable = writable;
        _directory = directory;
        _config = config;
        _report = report;
        _clock = clock;
        _producers = new ProducerStateTable(config.TransactionMaxTimeoutMs);
        Directory.CreateDirectory(directory);
        _segments = OpenSegments();
        _endOffset = _segments[^1].NextOffset;
        PublishTransactionBounds();
        _groupCommit = new GroupCommit(() => Volatile.Read(ref _endOffset), SyncActive);
        if (writable && config.Fsync == FsyncMode.Interval)
        {
            _intervalFlush = new Timer(static s => ((PartitionLog)s!).IntervalFlush(), this, config.FsyncIntervalMs, config.FsyncIntervalMs);
        }

        if (writable)
        {
            // A producer that stopped while the log was closed may have left a transaction that expired in the meantime.
            AbortExpiredTransactions();
        }
    }

    /// <summary>The log's clock in Unix milliseconds: transaction markers are stamped with it and timeouts measured in it.</summary>
    internal long NowMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The topic name.</summary>
    public string Topic { get; }

    /// <summary>The partition number.</summary>
    public int Partition { get; }

    /// <summary>False when another process holds the topic's writer lock: this handle only reads (and follows the file tail).</summary>
    public bool IsWritable { get; }

    /// <summary>The first offset still stored (retention moves it forward).</summary>
    public long StartOffset => _segments[0].BaseOffset;

    /// <summary>The offset the next record will get (log end).</summary>
    public long EndOffset => Volatile.Read(ref _endOffset);

    /// <summary>
    /// The last stable offset (LSO): the first offset of the oldest open transaction that has not outlived its timeout, or
    /// <see cref="EndOffset"/> when none is open. Read-committed readers see nothing at or past it.
    /// </summary>
    public long LastStableOffset => StableOffsetAt(NowMs);

    private long StableOffsetAt(long nowMs)
    {
        var end = EndOffset;
        var first = Volatile.Read(ref _firstOpenTransaction);
        if (first >= end || nowMs < Volatile.Read(ref _firstExpiryMs))
        {
            return Math.Min(end, first);
        }

        // An expired transaction can never commit: it no longer holds readers back, even before its abort marker is written.
        lock (_appendLock)
        {
            return Math.Min(_endOffset, _producers.Transactions.FirstLiveOffset(nowMs));
        }
    }

    private void PublishTransactionBounds()
    {
        Volatile.Write(ref _firstExpiryMs, _producers.Transactions.FirstExpiryMs);
        Volatile.Write(ref _firstOpenTransaction, _producers.Transactions.FirstOpenOffset);
    }
    /// <summary>The transactions open on this partition (for recovery of transactional producers and for tools).</summary>
    public IReadOnlyList<OpenTransaction> OpenTransactions
    {
        get
        {
            lock (_appendLock)
            {
                return [.. _producers.Transactions.Open];
            }
        }
    }

    /// <summary>The aborted transactions still covered by stored data.</summary>
    public IReadOnlyList<AbortedTransaction> AbortedTransactions
    {
        get
        {
            lock (_appendLock)
            {
                return [.. _producers.Transactions.Aborted];
            }
        }
    }

    /// <summary>The newest epoch <paramref name="producerId"/> wrote here with, or -1 when it never did.</summary>
    public short ProducerEpoch(long producerId)
    {
        lock (_appendLock)
        {
            return _producers.EpochOf(producerId);
        }
    }

    /// <summary>Bytes stored across segments.</summary>
    public long SizeBytes => _segments.Sum(s => s.Size);

    /// <summary>How many segment files the partition has.</summary>
    public int SegmentCount => _segments.Length;

    /// <summary>How many fsyncs group commit issued (compare with appends to see the grouping).</summary>
    public long SyncCount => _groupCommit.Syncs;

    private string Where => $"topic '{Topic}' partition {Partition}";

    /// <summary>Appends a batch and waits for the topic's durability (or <paramref name="fsync"/> when given).</summary>
    public AppendResult Append(RecordBatchBuilder batch, FsyncMode? fsync = null)
    {
        var result = AppendCore(batch);
        if ((fsync ?? _config.Fsync) == FsyncMode.Always)
        {
            _groupCommit.WaitDurableAsync(result.BaseOffset + result.Count).GetAwaiter().GetResult();
        }

        return result;
    }

    /// <summary>
    /// Appends a batch and completes once it is as durable as the topic (or <paramref name="fsync"/>) demands. The batch is
    /// already written when this returns, so the builder may be reused while the durability wait is pending: producers can
    /// keep several batches in flight and one group-commit fsync acknowledges them all.
    /// </summary>
    public async ValueTask<AppendResult> AppendAsync(RecordBatchBuilder batch, FsyncMode? fsync = null)
    {
        var result = AppendCore(batch);
        if ((fsync ?? _config.Fsync) == FsyncMode.Always)
        {
            await _groupCommit.WaitDurableAsync(result.BaseOffset + result.Count).ConfigureAwait(false);
        }

        return result;
    }

    private AppendResult AppendCore(RecordBatchBuilder batch)
    {
        if (batch.SizeBytes > _config.MaxBatchBytes)
        {
            throw new RecordTooLargeException($"{Where}: a batch of {batch.SizeBytes} bytes exceeds max-batch-bytes {_config.MaxBatchBytes}");
        }

        // The CRC is computed outside the lock so concurrent producers checksum in parallel.
        var span = batch.Seal();
        var count = batch.Count;
        lock (_appendLock)
        {
            if (_disposed || !IsWritable)
            {
                ThrowNotWritable();
            }

            if (count == 0)
            {
                return new AppendResult(_endOffset, 0, false);
            }

            var control = (batch.Attributes & BatchAttributes.Control) != 0;
            if (control)
            {
                if (count != 1 || span.Length != TransactionState.ControlBatchSize || batch.ProducerId < 0)
                {
                    throw new InvalidTransactionStateException($"{Where}: a control batch holds exactly one marker record of a producer");
                }

                _producers.CheckEpoch(batch.ProducerId, batch.ProducerEpoch, Where);
                var (type, tag) = TransactionState.ReadControl(span);
                if (type != ControlType.Abort)
                {
                    ThrowIfExpired(batch.ProducerId);
                }

                _producers.Transactions.CheckAppend(batch.ProducerId, batch.ProducerEpoch, batch.Attributes, type, tag, Where);
            }
            else if (batch.ProducerId >= 0)
            {
                var original = _producers.Check(batch.ProducerId, batch.ProducerEpoch, batch.BaseSequence, count, Where);
                if (original is { } o)
                {
                    return new AppendResult(o, count, true);
                }

                if ((batch.Attributes & BatchAttributes.Transactional) != 0)
                {
                    ThrowIfExpired(batch.ProducerId);
                    _producers.Transactions.CheckAppend(batch.ProducerId, batch.ProducerEpoch, batch.Attributes, default, 0, Where);
                }
            }

            return WriteLocked(span, count, batch.MaxTimestamp, control, batch.ProducerId, batch.ProducerEpoch, batch.BaseSequence);
        }
    }

    /// <summary>Writes a checked, sealed batch at the log end (under the append lock).</summary>
    private AppendResult WriteLocked(Span<byte> span, int count, long maxTimestamp, bool control, long producerId, short epoch, int baseSequence)
    {
        var active = _segments[^1];
        if (active.Size > 0 && (active.Size + span.Length > _config.SegmentBytes ||
                                (_config.SegmentMs > 0 && Environment.TickCount64 - active.CreatedAtMs > _config.SegmentMs)))
        {
            active = Roll(active);
        }

        var baseOffset = _endOffset;
        BinaryPrimitives.WriteInt64LittleEndian(span, baseOffset);
        active.Append(span, baseOffset, count, maxTimestamp, _config.IndexIntervalBytes);
        if (control)
        {
            _producers.Replay(span);
            PublishTransactionBounds();
        }
        else if (producerId >= 0)
        {
            _producers.Record(producerId, epoch, baseSequence, count, baseOffset);
        }

        Volatile.Write(ref _endOffset, baseOffset + count);
        if (Interlocked.Exchange(ref _hasWaiters, 0) != 0)
        {
            Interlocked.Exchange(ref _dataSignal, NewSignal()).TrySetResult();
        }

        return new AppendResult(baseOffset, count, false);
    }

    /// <summary>A producer writing into, preparing or committing a transaction past its timeout: the log aborts it now and refuses.</summary>
    private void ThrowIfExpired(long producerId)
    {
        if (Volatile.Read(ref _firstExpiryMs) == long.MaxValue || _producers.Transactions.ExpiredOf(producerId, NowMs) is not { } expired)
        {
            return;
        }

        var abort = AbortTimedOutLocked(expired);
        throw new TransactionTimedOutException(TransactionState.TimedOutMessage(Where, producerId, expired.Epoch, expired.FirstOffset, expired.TimeoutMs, abort));
    }

    /// <summary>
    /// Writes the abort marker of every open transaction past its timeout (Kafka's coordinator does this for timed-out
    /// transactions): its data becomes invisible to read-committed readers for good and its producer is fenced. Returns how
    /// many it aborted; read-only handles abort none (the writer does, and meanwhile they treat expired transactions as aborted).
    /// </summary>
    public int AbortExpiredTransactions()
    {
        var aborted = 0;
        lock (_appendLock)
        {
            if (_disposed || !IsWritable || _producers.Transactions.Expired(NowMs) is not { } expired)
            {
                return 0;
            }

            foreach (var t in expired)
            {
                AbortTimedOutLocked(t);
                aborted++;
            }
        }

        _groupCommit.SyncNow();
        return aborted;
    }

    /// <summary>Appends a timeout abort marker for <paramref name="expired"/> with the next epoch of its producer; returns the marker's offset.</summary>
    private long AbortTimedOutLocked(OpenTransaction expired)
    {
        var marker = _timeoutMarker ??= new RecordBatchBuilder(TransactionState.ControlBatchSize, TransactionState.ControlBatchSize);
        marker.Clear();
        Span<byte> value = stackalloc byte[TransactionState.ControlValueSize];
        TransactionState.WriteControlValue(value, ControlType.Abort, expired.TimeoutMs);
        marker.TryAddUnkeyed(value, NowMs);
        var newest = Math.Max(_producers.EpochOf(expired.ProducerId), expired.Epoch);
        marker.SetProducer(expired.ProducerId, newest < short.MaxValue ? (short)(newest + 1) : newest, -1);
        marker.SetAttributes(BatchAttributes.Control | BatchAttributes.Transactional);
        var offset = WriteLocked(marker.Seal(), 1, marker.MaxTimestamp, control: true, expired.ProducerId, 0, -1).BaseOffset;
        _report($"{Where}: aborted the transaction of producer {expired.ProducerId} epoch {expired.Epoch} begun at offset {expired.FirstOffset}" +
                (expired.IsPrepared ? $" (prepared under tag {expired.PreparedTag})" : "") +
                $": it stayed open longer than its timeout of {expired.TimeoutMs} ms; abort marker at offset {offset}, read_committed readers move past it");
        return offset;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNotWritable() =>
        throw new LogException(_disposed ? $"{Where} is closed" : $"{Where} is open read-only: another process holds its writer lock");

    private LogSegment Roll(LogSegment active)
    {
        active.Seal();
        var next = LogSegment.Create(_directory, active.NextOffset);
        NativeFile.WriteAtomically(Path.Combine(_directory, ProducerSnapshotFile), _producers.Serialize(next.BaseOffset));
        _segments = [.. _segments, next];
        return next;
    }

    /// <summary>Syncs everything written so far.</summary>
    public void Flush()
    {
        if (IsWritable && !_disposed)
        {
            _groupCommit.SyncNow();
        }
    }

    private void SyncActive() => NativeFile.FlushData(_segments[^1].Handle);

    private void IntervalFlush()
    {
        try
        {
            lock (_appendLock)
            {
                if (_disposed)
                {
                    return;
                }
            }

            _groupCommit.SyncNow();
        }
        catch (ObjectDisposedException)
        {
            // Closed between the check and the sync: close syncs anyway.
        }
        catch (IOException e)
        {
            _report($"{Where}: background fsync failed: {e.Message}");
        }
    }

    /// <summary>
    /// Reads whole batches from <paramref name="offset"/> (clamped to <see cref="StartOffset"/>) into a pooled buffer of about
    /// <paramref name="maxBytes"/>. Empty at the log end. Throws <see cref="LogCorruptionException"/> on a bad batch.
    /// <see cref="IsolationLevel.ReadCommitted"/> (the default) stops at the <see cref="LastStableOffset"/> and makes the
    /// enumeration skip aborted transactions; <see cref="IsolationLevel.ReadUncommitted"/> reads up to the log end.
    /// </summary>
    public FetchedRecords Fetch(long offset, int maxBytes = 1 << 20, IsolationLevel isolation = IsolationLevel.ReadCommitted)
    {
        if (isolation == IsolationLevel.ReadUncommitted)
        {
            return FetchRetrying(offset, maxBytes, EndOffset);
        }

        // One clock reading for the stable offset and the aborted list: a transaction expired for one is expired for the other.
        var now = NowMs;
        var fetched = FetchRetrying(offset, maxBytes, StableOffsetAt(now));
        // An abort recorded after the LSO was read cannot cover fetched data (it lay past the LSO), so a racy count is enough.
        if (fetched.IsEmpty || (_producers.Transactions.Aborted.Count == 0 && now < Volatile.Read(ref _firstExpiryMs)))
        {
            return fetched;
        }

        AbortedTransaction[]? aborted;
        lock (_appendLock)
        {
            aborted = _producers.Transactions.AbortedBetween(fetched.FirstBatchOffset, fetched.NextOffset, now);
        }

        return aborted is null ? fetched : fetched.WithAborted(aborted);
    }

    /// <summary>Fetches and cuts the result at the first batch at or past <paramref name="limit"/> (a batch boundary: the LSO or the end).</summary>
    private FetchedRecords FetchRetrying(long offset, int maxBytes, long limit)
    {
        if (offset >= limit)
        {
            return new FetchedRecords(null, 0, offset, offset, 0);
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var fetched = FetchCore(offset, maxBytes);
                return fetched.NextOffset > limit ? fetched.CutAt(limit) : fetched;
            }
            catch (ObjectDisposedException) when (attempt < 3 && !_disposed)
            {
                // Retention deleted the segment under us: retry against the new segment list.
            }
        }
    }

    private FetchedRecords FetchCore(long offset, int maxBytes)
    {
        var segments = _segments;
        if (offset < segments[0].BaseOffset)
        {
            offset = segments[0].BaseOffset;
        }

        if (offset >= EndOffset)
        {
            return new FetchedRecords(null, 0, offset, offset, 0);
        }

        var i = segments.Length - 1;
        while (i > 0 && segments[i].BaseOffset > offset)
        {
            i--;
        }

        for (; i < segments.Length; i++)
        {
            var segment = segments[i];
            var (position, batchBase) = segment.FloorPosition(offset);
            while (true)
            {
                var (buffer, length, next, problem, problemAt) = segment.ReadBatches(position, batchBase, maxBytes);
                if (problem is not null)
                {
                    throw new LogCorruptionException(Topic, Partition, segment.FilePath, problemAt, problem);
                }

                if (buffer is null)
                {
                    if (segment.Problem is { } p && position >= segment.Size)
                    {
                        throw new LogCorruptionException(Topic, Partition, segment.FilePath, p.Position, p.Reason);
                    }

                    break;
                }

                if (next <= offset)
                {
                    // Only batches before the offset fit: skip past them.
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    position += length;
                    batchBase = next;
                    continue;
                }

                return new FetchedRecords(buffer, length, offset, next, (int)(next - offset));
            }
        }

        return new FetchedRecords(null, 0, offset, offset, 0);
    }

    /// <summary>The first offset whose record timestamp is ≥ <paramref name="timestamp"/>, or <see cref="EndOffset"/> when none is.</summary>
    public long OffsetForTimestamp(long timestamp)
    {
        foreach (var segment in _segments)
        {
            if (segment.OffsetForTimestamp(timestamp) is not { } candidate)
            {
                continue;
            }

            // The time index names the batch; scan its records for the first one at or after the timestamp.
            var offset = Math.Max(candidate, StartOffset);
            while (offset < EndOffset)
            {
                using var fetched = Fetch(offset, 256 * 1024);
                if (fetched.IsEmpty)
                {
                    break;
                }

                foreach (var record in fetched)
                {
                    if (record.Timestamp >= timestamp)
                    {
                        return record.Offset;
                    }
                }

                offset = fetched.NextOffset;
            }
        }

        return EndOffset;
    }

    /// <summary>
    /// Completes when the log end (or, for <see cref="IsolationLevel.ReadCommitted"/>, the last stable offset) is past
    /// <paramref name="offset"/>: writers in this process wake waiters directly; a read-only handle re-reads the file tail.
    /// </summary>
    public async Task WaitForDataAsync(long offset, CancellationToken cancellationToken, IsolationLevel isolation = IsolationLevel.ReadUncommitted)
    {
        while ((isolation == IsolationLevel.ReadCommitted ? LastStableOffset : EndOffset) <= offset)
        {
            if (!IsWritable)
            {
                RefreshFromDisk();
                if ((isolation == IsolationLevel.ReadCommitted ? LastStableOffset : EndOffset) > offset)
                {
                    return;
                }

                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
                continue;
            }

            Interlocked.Exchange(ref _hasWaiters, 1);
            var signal = Volatile.Read(ref _dataSignal);
            if ((isolation == IsolationLevel.ReadCommitted ? LastStableOffset : EndOffset) > offset)
            {
                return;
            }

            var expiry = Volatile.Read(ref _firstExpiryMs);
            if (isolation == IsolationLevel.ReadUncommitted || expiry == long.MaxValue)
            {
                await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                // An open transaction stops holding the stable offset back when it expires, which no append signals: look again by then.
                await signal.Task.WaitAsync(TimeSpan.FromMilliseconds(Math.Clamp(expiry - NowMs, 1, 1000)), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Re-check the stable offset.
            }
        }
    }

    /// <summary>For read-only handles: picks up batches and segments another process appended since the last look.</summary>
    public void RefreshFromDisk()
    {
        if (IsWritable)
        {
            return;
        }

        lock (_appendLock)
        {
            var active = _segments[^1];
            active.Extend(_config.IndexIntervalBytes, ReplayBatch);
            var newer = ListSegmentFiles().Where(s => s.BaseOffset > active.BaseOffset).ToList();
            if (newer.Count > 0 && active.NextOffset == newer[0].BaseOffset)
            {
                var added = new List<LogSegment>();
                foreach (var (path, baseOffset) in newer)
                {
                    var segment = LogSegment.Open(path, baseOffset, writable: false);
                    segment.Extend(_config.IndexIntervalBytes, ReplayBatch);
                    added.Add(segment);
                }

                _segments = [.. _segments, .. added];
            }

            PublishTransactionBounds();
            Volatile.Write(ref _endOffset, _segments[^1].NextOffset);
        }
    }

    /// <summary>
    /// Deletes whole sealed segments past retention (time: newest record older than retention-ms; size: partition over
    /// retention-bytes), oldest first, but keeps any segment a live group has not fully read unless retention-force is set,
    /// and never a segment reaching past the last stable offset (an open transaction may still commit data there).
    /// </summary>
    public RetentionResult ApplyRetention(long nowMs, IReadOnlyList<GroupOffset> liveGroups)
    {
        lock (_appendLock)
        {
            var segments = _segments;
            var stable = LastStableOffset;
            var total = segments.Sum(s => s.Size);
            var deleted = 0;
            var deletedBytes = 0L;
            var held = 0;
            var heldBy = new List<GroupOffset>();
            for (var i = 0; i < segments.Length - 1; i++)
            {
                var s = segments[i];
                var byTime = _config.RetentionMs >= 0 && (s.MaxTimestamp == long.MinValue || s.MaxTimestamp < nowMs - _config.RetentionMs);
                var bySize = _config.RetentionBytes >= 0 && total > _config.RetentionBytes;
                if (!byTime && !bySize)
                {
                    break;
                }

                total -= s.Size;
                if (s.NextOffset > stable)
                {
                    // The segment holds data of an open transaction: it cannot go before that transaction ends.
                    held++;
                    continue;
                }

                var blockers = liveGroups.Where(g => g.Committed < s.NextOffset).ToList();
                if (held > 0 || (blockers.Count > 0 && !_config.RetentionForce))
                {
                    // Deleting must stay a prefix: once one segment is held, every later one is held too.
                    held++;
                    foreach (var b in blockers)
                    {
                        if (!heldBy.Contains(b))
                        {
                            heldBy.Add(b);
                        }
                    }

                    continue;
                }

                deleted++;
                deletedBytes += s.Size;
            }

            if (deleted > 0)
            {
                _segments = segments[deleted..];
                foreach (var s in segments[..deleted])
                {
                    s.Delete();
                }

                NativeFile.FlushDirectory(_directory);
                _producers.Transactions.PruneBefore(StartOffset);
                _report($"{Where}: retention deleted {deleted} segment(s), {deletedBytes} bytes; log now starts at offset {StartOffset}");
            }

            if (held > 0)
            {
                _report(heldBy.Count > 0
                    ? $"{Where}: retention held back {held} segment(s) unread by live group(s) {string.Join(", ", heldBy.Select(g => $"'{g.Group}' (committed {g.Committed})"))}"
                    : $"{Where}: retention held back {held} segment(s) at or past the last stable offset {stable} (open transaction)");
            }

            return new RetentionResult(deleted, deletedBytes, held, heldBy, StartOffset);
        }
    }

    /// <summary>Syncs (writable handles) and closes the files.</summary>
    public void Dispose()
    {
        lock (_appendLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _intervalFlush?.Dispose();
        _timeoutMarker?.Dispose();
        if (IsWritable)
        {
            try
            {
                SyncActive();
            }
            catch (IOException e)
            {
                _report($"{Where}: final fsync failed: {e.Message}");
            }
        }

        foreach (var s in _segments)
        {
            s.Dispose();
        }

        _dataSignal.TrySetResult();
    }

    private bool ReplayBatch(long position, ReadOnlySpan<byte> batch)
    {
        _producers.Replay(batch);
        return true;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private List<(string Path, long BaseOffset)> ListSegmentFiles()
    {
        var list = new List<(string, long)>();
        foreach (var path in Directory.EnumerateFiles(_directory, "*.log"))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var b))
            {
                list.Add((path, b));
            }
        }

        list.Sort((a, b) => a.Item2.CompareTo(b.Item2));
        return list;
    }

    private LogSegment[] OpenSegments()
    {
        var files = ListSegmentFiles();
        if (files.Count == 0)
        {
            if (!IsWritable)
            {
                throw new LogException($"{Where} has no segment files in {_directory}");
            }

            return [LogSegment.Create(_directory, 0)];
        }

        var segments = new LogSegment[files.Count];
        var snapshotCovers = -1L;
        var snapshotPath = Path.Combine(_directory, ProducerSnapshotFile);
        if (File.Exists(snapshotPath))
        {
            snapshotCovers = _producers.Load(File.ReadAllBytes(snapshotPath), NowMs);
        }

        var replayAll = snapshotCovers != files[^1].BaseOffset;
        if (replayAll)
        {
            _producers.Clear();
        }

        for (var i = 0; i < files.Count; i++)
        {
            var (path, baseOffset) = files[i];
            var last = i == files.Count - 1;
            var segment = LogSegment.Open(path, baseOffset, writable: last && IsWritable);
            segments[i] = segment;
            if (!last)
            {
                segment.MarkSealed();
                if (!replayAll && segment.TryLoadIndexFiles())
                {
                    continue;
                }

                // Sealed data is never truncated: a bad header is remembered and reported to whoever reads that far.
                var (valid, problem) = segment.Rebuild(_config.IndexIntervalBytes, checkCrc: false, replayAll ? ReplayBatch : null);
                if (problem is not null)
                {
                    segment.Problem = (valid, problem);
                }

                continue;
            }

            // The active segment: every batch is checked, and the tail is cut at the first one that fails.
            var length = RandomAccess.GetLength(segment.Handle);
            var (validBytes, tailProblem) = segment.Rebuild(_config.IndexIntervalBytes, checkCrc: true, ReplayBatch);
            if (tailProblem is not null && validBytes < length)
            {
                if (IsWritable)
                {
                    segment.Truncate(validBytes);
                    _report($"recovery: {Where}: cut {length - validBytes} bytes from {path} at byte position {validBytes} ({tailProblem}); the log ends at offset {segment.NextOffset}");
                }
            }
        }

        for (var i = 0; i + 1 < segments.Length; i++)
        {
            if (segments[i].Problem is null && segments[i].NextOffset != segments[i + 1].BaseOffset)
            {
                segments[i].Problem = (segments[i].Size, $"segment ends at offset {segments[i].NextOffset} but the next segment starts at {segments[i + 1].BaseOffset}");
            }
        }

        return segments;
    }
}
