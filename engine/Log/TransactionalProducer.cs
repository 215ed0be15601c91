using System.Text;

namespace Streams.Engine.Log;

/// <summary>
/// Writes batches to partitions inside transactions: <see cref="Send"/> begins a transaction on a partition the first
/// time it writes there (a begin control batch), <see cref="Prepare"/> makes the data durable and marks it staged under a
/// tag, and <see cref="Commit"/> or <see cref="Abort"/> end it with a control batch. Read-committed readers see a
/// transaction's data only after its commit marker, never an aborted one's.
/// <para>A producer is a producer id plus an epoch: a new instance for the same id takes a higher epoch, and once it wrote
/// a marker on a partition every older instance gets <see cref="ProducerFencedException"/> there. A new instance may
/// commit or abort the transaction an older one left open (that is how a restarted job resolves a crash).</para>
/// <para>Each transaction has a timeout (<see cref="TimeoutMs"/>, counted from its begin marker on each partition): past it
/// the log aborts the transaction and fences this instance (<see cref="TransactionTimedOutException"/>), so a producer that
/// stopped never holds read-committed readers or retention back for longer.</para>
/// Not thread-safe: one producer per writing task.
/// </summary>
public sealed class TransactionalProducer
{
    private readonly Dictionary<PartitionLog, int> _nextSequence = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<PartitionLog> _begun = new(ReferenceEqualityComparer.Instance);
    private readonly RecordBatchBuilder _marker = new(TransactionState.ControlBatchSize, TransactionState.ControlBatchSize);

    /// <summary>The default transaction timeout: 15 minutes, the topics' default maximum.</summary>
    public const long DefaultTimeoutMs = TopicConfig.DefaultTransactionMaxTimeoutMs;

    /// <summary>
    /// Creates a producer with <paramref name="producerId"/> (see <see cref="IdFor"/>) and <paramref name="epoch"/> whose
    /// transactions time out after <paramref name="timeoutMs"/> (at most the topic's transaction-max-timeout-ms).
    /// </summary>
    public TransactionalProducer(long producerId, short epoch, long timeoutMs = DefaultTimeoutMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(producerId);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, 1);
        ProducerId = producerId;
        Epoch = epoch;
        TimeoutMs = timeoutMs;
    }

    /// <summary>How long a transaction of this producer may stay open on a partition before the log aborts it.</summary>
    public long TimeoutMs { get; }

    /// <summary>The producer id.</summary>
    public long ProducerId { get; }

    /// <summary>The epoch this instance writes with.</summary>
    public short Epoch { get; }

    /// <summary>The stable producer id of a transactional id (FNV-1a 64 of its UTF-8 bytes, made non-negative).</summary>
    public static long IdFor(string transactionalId)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(transactionalId))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return (long)(hash & long.MaxValue);
    }

    /// <summary>The epoch a new instance of <paramref name="producerId"/> takes: one above the newest any of <paramref name="partitions"/> has seen.</summary>
    public static short NextEpoch(long producerId, IEnumerable<PartitionLog> partitions)
    {
        var newest = partitions.Select(p => (int)p.ProducerEpoch(producerId)).DefaultIfEmpty(-1).Max();
        return newest >= short.MaxValue
            ? throw new LogException($"producer {producerId} has used every epoch up to {short.MaxValue}; give the writer a new transactional id")
            : (short)(newest + 1);
    }

    /// <summary>Appends <paramref name="batch"/> to the producer's transaction on <paramref name="log"/>, beginning one when needed. Not synced: <see cref="Prepare"/> syncs.</summary>
    public AppendResult Send(PartitionLog log, RecordBatchBuilder batch)
    {
        if (!_begun.Contains(log))
        {
            WriteMarker(log, ControlType.Begin, TimeoutMs, FsyncMode.Never);
            _begun.Add(log);
        }

        var sequence = _nextSequence.GetValueOrDefault(log);
        batch.SetProducer(ProducerId, Epoch, sequence);
        batch.SetAttributes(BatchAttributes.Transactional);
        var result = log.Append(batch, FsyncMode.Never);
        _nextSequence[log] = sequence + batch.Count;
        return result;
    }

    /// <summary>Makes the transaction on <paramref name="log"/> durable and marks it staged under <paramref name="tag"/> (still invisible); no more data may join it.</summary>
    public void Prepare(PartitionLog log, long tag)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tag);
        WriteMarker(log, ControlType.Prepare, tag, FsyncMode.Always);
    }

    /// <summary>
    /// Publishes the open transaction of this producer id on <paramref name="log"/> (also one an older instance left).
    /// The marker is synced unless <paramref name="fsync"/> says otherwise: a caller that can redo the commit after a crash
    /// (a prepared transaction covered by a durable checkpoint) may skip that sync.
    /// </summary>
    public void Commit(PartitionLog log, FsyncMode fsync = FsyncMode.Always)
    {
        WriteMarker(log, ControlType.Commit, 0, fsync);
        _begun.Remove(log);
    }

    /// <summary>
    /// Discards the open transaction of this producer id on <paramref name="log"/> (also one an older instance left); with
    /// nothing open it only records this instance's epoch there, fencing older instances.
    /// </summary>
    public void Abort(PartitionLog log)
    {
        WriteMarker(log, ControlType.Abort, 0, FsyncMode.Always);
        _begun.Remove(log);
    }

    private void WriteMarker(PartitionLog log, ControlType type, long tag, FsyncMode fsync)
    {
        _marker.Clear();
        Span<byte> value = stackalloc byte[TransactionState.ControlValueSize];
        TransactionState.WriteControlValue(value, type, tag);
        // Stamped by the log's clock: a begin marker's timestamp is when the transaction's timeout starts.
        _marker.TryAddUnkeyed(value, log.NowMs);
        _marker.SetProducer(ProducerId, Epoch, -1);
        _marker.SetAttributes(BatchAttributes.Control | BatchAttributes.Transactional);
        log.Append(_marker, fsync);
    }
}
