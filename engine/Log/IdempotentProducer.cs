using System.Security.Cryptography;

namespace Streams.Engine.Log;

/// <summary>
/// Stamps batches with a producer id, epoch and per-partition sequence so the log writes each batch at most once:
/// re-sending a batch after a lost acknowledgement returns the original offsets and writes nothing.
/// Retry by calling <see cref="Send"/> again with the same, unchanged builder.
/// </summary>
public sealed class IdempotentProducer
{
    private readonly Dictionary<(string Topic, int Partition), int> _nextSequence = [];
    private readonly Dictionary<RecordBatchBuilder, (string Topic, int Partition, int Sequence)> _pending = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _gate = new();

    /// <summary>Creates a producer; a random 63-bit id unless one is given (reuse an id with a higher epoch to fence an old instance).</summary>
    public IdempotentProducer(long? producerId = null, short epoch = 0)
    {
        ProducerId = producerId ?? (long)(((ulong)(uint)RandomNumberGenerator.GetInt32(int.MaxValue) << 31) | (uint)RandomNumberGenerator.GetInt32(int.MaxValue));
        Epoch = epoch;
    }

    /// <summary>The producer id.</summary>
    public long ProducerId { get; }

    /// <summary>The producer epoch.</summary>
    public short Epoch { get; }

    /// <summary>
    /// Appends <paramref name="batch"/> to <paramref name="log"/>. The first call assigns the next sequence numbers; a repeated
    /// call with the same builder (a retry) reuses them, so the log recognises it as a duplicate.
    /// </summary>
    public AppendResult Send(PartitionLog log, RecordBatchBuilder batch, FsyncMode? fsync = null)
    {
        Stamp(log, batch);
        var result = log.Append(batch, fsync);
        Acknowledge(batch);
        return result;
    }

    /// <summary>Async form of <see cref="Send"/>.</summary>
    public async ValueTask<AppendResult> SendAsync(PartitionLog log, RecordBatchBuilder batch, FsyncMode? fsync = null)
    {
        Stamp(log, batch);
        var result = await log.AppendAsync(batch, fsync).ConfigureAwait(false);
        Acknowledge(batch);
        return result;
    }

    private void Stamp(PartitionLog log, RecordBatchBuilder batch)
    {
        lock (_gate)
        {
            var key = (log.Topic, log.Partition);
            if (_pending.TryGetValue(batch, out var pending) && pending.Topic == key.Topic && pending.Partition == key.Partition)
            {
                // A retry: same sequence as the first attempt.
                batch.SetProducer(ProducerId, Epoch, pending.Sequence);
                return;
            }

            var sequence = _nextSequence.GetValueOrDefault(key);
            _nextSequence[key] = sequence + batch.Count;
            _pending[batch] = (key.Topic, key.Partition, sequence);
            batch.SetProducer(ProducerId, Epoch, sequence);
        }
    }

    private void Acknowledge(RecordBatchBuilder batch)
    {
        lock (_gate)
        {
            _pending.Remove(batch);
        }
    }
}
