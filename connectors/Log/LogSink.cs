using System.Globalization;
using System.Text;
using Streams.Connectors.Formats;
using Streams.Engine.Checkpoints;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Log;

namespace Streams.Connectors.Log;

/// <summary>How a log sink's transactions behave: their timeout, and what recovery does when the log aborted one a checkpoint covers.</summary>
/// <param name="TransactionalId">The sink's transactional id (each writer task appends <c>#task</c>).</param>
/// <param name="TimeoutMs">The transaction timeout each producer asks for.</param>
/// <param name="AcceptLoss">True to resume past a checkpoint whose output the log aborted (reported); false to fail recovery.</param>
/// <param name="Report">Where an accepted loss is reported.</param>
internal sealed record LogSinkTransactions(string TransactionalId, long TimeoutMs, bool AcceptLoss, Action<string> Report);

/// <summary>A topic as a SQL sink: rows become JSON-object records (the shared NDJSON encoding), keyed by <c>key.field</c> when given.</summary>
internal sealed class LogSink(LogTopic topic, Schema schema, string? keyField, LogSinkTransactions transactions) : ISinkConnector
{
    public ISinkWriter OpenWriter(int task) =>
        new LogSinkWriter(topic, schema, keyField is null ? -1 : schema.IndexOf(keyField),
            transactions with { TransactionalId = $"{transactions.TransactionalId}#{task.ToString(CultureInfo.InvariantCulture)}" });
}

/// <summary>
/// Buffers rows per partition and appends them when a batch fills and on <see cref="Flush"/>. Without checkpoints the
/// appends go through an idempotent producer and are visible at once. Under checkpoints (the runtime calls
/// <see cref="RecoverTransactions"/> first) each checkpoint epoch's rows go into a log transaction: <see cref="PreCommit"/>
/// makes them durable and prepared under the checkpoint id (still invisible to read-committed readers), <see cref="Commit"/>
/// writes the commit markers once the manifest is durable. A transaction is written by one of a few producer slots
/// (producer id from <c>transactional.id#task/slot</c>) so the next epoch can be written while the previous one awaits its
/// commit. Changelog rows carry their kind in an <c>op</c> field (+I, -U, +U, -D).
/// <para>Each transaction has a timeout (<c>transaction.timeout.ms</c>). When the job stays stopped for longer, the log aborts
/// the prepared transactions it left; if the last complete checkpoint covers one of them its output is gone, and
/// <see cref="RecoverTransactions"/> fails with the reason instead of counting that checkpoint as published (unless
/// <c>transaction.timeout.on-recovery</c> = <c>accept-loss</c>).</para>
/// </summary>
internal sealed class LogSinkWriter : ITransactionalSinkWriter
{
    /// <summary>Transactions one writer can have open at once: the one being written plus those prepared and awaiting commit.</summary>
    internal const int Slots = 4;

    private readonly LogTopic _topic;
    private readonly int _keyColumn;
    private readonly int _timeColumn;
    private readonly string _transactionalId;
    private readonly LogSinkTransactions _transactions;
    private readonly RecordBatchBuilder[] _builders;
    private readonly NdjsonEncoder _encoder;
    private readonly Lazy<NdjsonEncoder> _changelogEncoder;
    private readonly IdempotentProducer _idempotent = new();
    private readonly List<(long Checkpoint, int Slot, int[] Partitions)> _prepared = [];
    private readonly bool[] _touched;
    private TransactionalProducer[]? _producers;
    private int _slot = -1;

    public LogSinkWriter(LogTopic topic, Schema schema, int keyColumn, LogSinkTransactions transactions)
    {
        _topic = topic;
        _keyColumn = keyColumn;
        _timeColumn = schema.EventTimeIndex;
        _transactions = transactions;
        _transactionalId = transactions.TransactionalId;
        _builders = [.. topic.Partitions.Select(_ => new RecordBatchBuilder(maxBytes: topic.Config.MaxBatchBytes))];
        _touched = new bool[topic.Partitions.Count];
        // Record metadata columns (_key, _partition, _offset, _timestamp) are the log's to fill, not part of the value.
        var metadata = new HashSet<string>(["_key", "_partition", "_offset", "_timestamp"], StringComparer.OrdinalIgnoreCase);
        _encoder = new NdjsonEncoder(schema, Stream.Null, new NdjsonEncoderOptions { OmitFields = metadata });
        _changelogEncoder = new Lazy<NdjsonEncoder>(() => new NdjsonEncoder(schema, Stream.Null, new NdjsonEncoderOptions { ChangelogOp = true, OmitFields = metadata }));
    }

    /// <summary>The producer id of a writer's transaction slot.</summary>
    internal static long ProducerIdOf(string transactionalId, int slot) => TransactionalProducer.IdFor($"{transactionalId}/{slot.ToString(CultureInfo.InvariantCulture)}");

    public void Write(ColumnBatch batch)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var encoder = batch.HasRowKinds ? _changelogEncoder.Value : _encoder;
        for (var row = 0; row < batch.Count; row++)
        {
            if (!batch.IsLive(row))
            {
                continue;
            }

            var value = encoder.EncodeRow(batch, row);
            var timestamp = _timeColumn >= 0 && !batch.Columns[_timeColumn].IsNull(row) ? batch.ColumnAt<long>(_timeColumn).Values[row] : now;
            byte[]? key = null;
            if (_keyColumn >= 0 && batch.Columns[_keyColumn].GetBoxed(row) is { } k)
            {
                key = Encoding.UTF8.GetBytes(Convert.ToString(k, CultureInfo.InvariantCulture)!);
            }

            var partition = key is null ? _topic.NextUnkeyedPartition() : _topic.PartitionFor(key);
            var builder = _builders[partition];
            if (!Add(builder, key, value, timestamp))
            {
                Send(partition);
                if (!Add(builder, key, value, timestamp))
                {
                    throw new ConnectorException($"topic '{_topic.Name}': a row of {value.Length} bytes exceeds max-batch-bytes {_topic.Config.MaxBatchBytes}");
                }
            }

            if (builder.Count >= 1000)
            {
                Send(partition);
            }
        }
    }

    private static bool Add(RecordBatchBuilder builder, byte[]? key, ReadOnlySpan<byte> value, long timestamp) =>
        key is null ? builder.TryAddUnkeyed(value, timestamp) : builder.TryAdd(key, value, timestamp);

    private void Send(int partition)
    {
        var builder = _builders[partition];
        if (builder.Count == 0)
        {
            return;
        }

        var log = _topic.Partitions[partition];
        if (_producers is null)
        {
            _idempotent.Send(log, builder);
        }
        else
        {
            if (_slot < 0)
            {
                _slot = FreeSlot();
            }

            try
            {
                _producers[_slot].Send(log, builder);
            }
            catch (TransactionTimedOutException e)
            {
                throw TimedOut(e);
            }

            _touched[partition] = true;
        }

        builder.Clear();
    }

    /// <summary>A transaction outlived its timeout while the job ran: the log's reason plus the knob to turn.</summary>
    private ConnectorException TimedOut(TransactionTimedOutException e) => new(
        $"log sink '{_transactionalId}': {e.Message}. A checkpoint's transaction stays open for a checkpoint interval plus the time the " +
        $"checkpoint takes to complete: raise 'transaction.timeout.ms' (now {_transactions.TimeoutMs} ms) or checkpoint more often", e);

    private int FreeSlot()
    {
        for (var s = 0; s < Slots; s++)
        {
            if (!_prepared.Exists(p => p.Slot == s))
            {
                return s;
            }
        }

        throw new InvalidOperationException($"log sink '{_transactionalId}': {Slots - 1} checkpoints are prepared but none was committed; the checkpoint coordinator is not committing");
    }

    public void Flush()
    {
        for (var p = 0; p < _builders.Length; p++)
        {
            Send(p);
        }
    }

    /// <summary>Ends the epoch: its rows are synced and prepared under <paramref name="checkpointId"/> on every partition they went to.</summary>
    public void PreCommit(long checkpointId)
    {
        if (_producers is null)
        {
            throw new InvalidOperationException($"log sink '{_transactionalId}': PreCommit before RecoverTransactions (the checkpoint runtime resolves crashed transactions first)");
        }

        Flush();
        if (_slot < 0)
        {
            return;
        }

        var partitions = Enumerable.Range(0, _touched.Length).Where(p => _touched[p]).ToArray();
        try
        {
            foreach (var p in partitions)
            {
                _producers[_slot].Prepare(_topic.Partitions[p], checkpointId);
            }
        }
        catch (TransactionTimedOutException e)
        {
            throw TimedOut(e);
        }

        _prepared.Add((checkpointId, _slot, partitions));
        Array.Clear(_touched);
        _slot = -1;
    }

    /// <summary>Publishes every prepared transaction of checkpoint <paramref name="checkpointId"/> or earlier (commit markers, synced).</summary>
    public void Commit(long checkpointId)
    {
        for (var i = 0; i < _prepared.Count; i++)
        {
            var (checkpoint, slot, partitions) = _prepared[i];
            if (checkpoint > checkpointId)
            {
                continue;
            }

            try
            {
                foreach (var p in partitions)
                {
                    // Not synced: a commit marker lost in a crash is written again by RecoverTransactions, as the manifest covers it.
                    _producers![slot].Commit(_topic.Partitions[p], FsyncMode.Never);
                }
            }
            catch (TransactionTimedOutException e)
            {
                throw TimedOut(e);
            }

            _prepared.RemoveAt(i--);
        }
    }

    /// <summary>
    /// Takes the writer's producer ids over with a new epoch (fencing older instances) and resolves what a crashed run left:
    /// a transaction prepared under <paramref name="committedCheckpointId"/> or earlier is covered by a complete manifest and
    /// is committed; anything else open (prepared later, or never prepared) is aborted.
    /// </summary>
    public void RecoverTransactions(long committedCheckpointId)
    {
        var partitions = _topic.Partitions;
        var ids = Enumerable.Range(0, Slots).Select(s => ProducerIdOf(_transactionalId, s)).ToArray();
        // Mark what expired while the job was stopped, so the check below sees it (and nothing expires between check and commit).
        _topic.AbortExpiredTransactions();
        if (LostToTimeout(ids, committedCheckpointId) is { } lost)
        {
            if (!_transactions.AcceptLoss)
            {
                throw new ConnectorException(
                    $"log sink '{_transactionalId}': cannot resume from checkpoint {committedCheckpointId}: {lost}. Resuming would count " +
                    "that output as published although it is gone, so recovery stops. To resume anyway and accept the loss, set " +
                    "'transaction.timeout.on-recovery' = 'accept-loss' on the sink; to rebuild the output, run the job from scratch into a " +
                    "new topic with a new --state-dir. Keep 'transaction.timeout.ms' (and the topic's transaction-max-timeout-ms) above the " +
                    "longest time a job may stay stopped (docs/guarantees.md)");
            }

            _transactions.Report($"log sink '{_transactionalId}': resuming from checkpoint {committedCheckpointId} and accepting a loss ('transaction.timeout.on-recovery' = 'accept-loss'): {lost}");
        }

        var epoch = ids.Max(id => TransactionalProducer.NextEpoch(id, partitions));
        _producers = [.. ids.Select(id => new TransactionalProducer(id, epoch, _transactions.TimeoutMs))];
        foreach (var log in partitions)
        {
            var open = log.OpenTransactions;
            foreach (var producer in _producers)
            {
                if (open.Any(t => t.ProducerId == producer.ProducerId && t.IsPrepared && t.PreparedTag <= committedCheckpointId))
                {
                    producer.Commit(log);
                }
                else
                {
                    // Aborts an unfinished transaction, or with nothing open records the new epoch: older instances are fenced.
                    producer.Abort(log);
                }
            }
        }
    }

    /// <summary>
    /// Describes the transactions prepared under <paramref name="committedCheckpointId"/> or earlier that the log aborted on
    /// timeout since this sink last recovered (their abort marker's epoch is still the producer's newest), or null when none.
    /// </summary>
    private string? LostToTimeout(long[] ids, long committedCheckpointId)
    {
        var lost = new List<string>();
        foreach (var log in _topic.Partitions)
        {
            foreach (var a in log.AbortedTransactions)
            {
                if (a.TimedOut && a.PreparedTag >= 0 && a.PreparedTag <= committedCheckpointId && ids.Contains(a.ProducerId) && a.Epoch == log.ProducerEpoch(a.ProducerId))
                {
                    lost.Add($"the output of checkpoint {a.PreparedTag} on topic '{_topic.Name}' partition {log.Partition} (offsets {a.FirstOffset}-{a.LastOffset}) " +
                             $"was aborted by the log when its transaction outlived its timeout of {a.TimeoutMs} ms");
                }
            }
        }

        return lost.Count == 0 ? null : string.Join("; ", lost);
    }

    public void Dispose()
    {
        if (_producers is null)
        {
            Flush();
        }
        else if (_slot >= 0)
        {
            // Rows after the last checkpoint are not covered by any manifest: a rerun replays them.
            for (var p = 0; p < _touched.Length; p++)
            {
                if (!_touched[p])
                {
                    continue;
                }

                try
                {
                    _producers[_slot].Abort(_topic.Partitions[p]);
                }
                catch (ProducerFencedException)
                {
                    // A newer instance took over, or the log aborted the transaction on timeout: it is gone either way.
                }
            }
        }

        foreach (var b in _builders)
        {
            b.Dispose();
        }

        _encoder.Dispose();
        if (_changelogEncoder.IsValueCreated)
        {
            _changelogEncoder.Value.Dispose();
        }
    }
}
