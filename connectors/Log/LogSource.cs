using Streams.Connectors.Formats;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Log;

namespace Streams.Connectors.Log;

/// <summary>A topic as a SQL source: one source partition per topic partition.</summary>
internal sealed class LogSource(LogTopic topic, ConnectorContext context, bool bounded, int idleMs, IsolationLevel isolation) : ISourceConnector
{
    public int PartitionCount => topic.Partitions.Count;

    public bool IsBounded => bounded;

    public ISourceReader OpenPartition(int partition, long offset)
    {
        if ((uint)partition >= (uint)topic.Partitions.Count)
        {
            throw new ConnectorException($"stream '{context.StreamName}': topic '{topic.Name}' has no partition {partition}");
        }

        var log = topic.Partitions[partition];
        log.RefreshFromDisk();
        // A bounded read stops at the end seen now: for read-committed, what is committed now (an open transaction may never end).
        var stopAt = !bounded ? long.MaxValue : isolation == IsolationLevel.ReadCommitted ? log.LastStableOffset : log.EndOffset;
        return new LogSourceReader(log, context, offset, stopAt, idleMs, isolation);
    }
}

/// <summary>
/// Reads one partition into column batches with the shared <see cref="NdjsonDecoder"/>; the metadata columns <c>_key</c>,
/// <c>_partition</c>, <c>_offset</c> and <c>_timestamp</c> take the record's metadata. <see cref="Offset"/> is the next log offset.
/// </summary>
internal sealed class LogSourceReader : ISourceReader
{
    private readonly PartitionLog _log;
    private readonly ConnectorContext _context;
    private readonly NdjsonDecoder _decoder;
    private readonly MetaColumn[] _meta;
    private readonly bool _hasMeta;
    private readonly long _stopAt;
    private readonly int _idleMs;
    private readonly IsolationLevel _isolation;
    private long _offset;

    private enum MetaColumn : byte
    {
        None,
        Key,
        Partition,
        Offset,
        Timestamp,
    }

    public LogSourceReader(PartitionLog log, ConnectorContext context, long offset, long stopAt, int idleMs, IsolationLevel isolation)
    {
        _log = log;
        _context = context;
        _decoder = new NdjsonDecoder(context.Schema);
        _meta = [.. context.Schema.Fields.Select(f => f.Name.ToLowerInvariant() switch
        {
            "_key" when f.Type == DataType.String => MetaColumn.Key,
            "_partition" when f.Type == DataType.Int32 => MetaColumn.Partition,
            "_offset" when f.Type == DataType.Int64 => MetaColumn.Offset,
            "_timestamp" when f.Type is DataType.Int64 or DataType.Timestamp => MetaColumn.Timestamp,
            _ => MetaColumn.None,
        })];
        _hasMeta = _meta.Any(m => m != MetaColumn.None);
        _offset = Math.Max(offset, log.StartOffset);
        _stopAt = stopAt;
        _idleMs = idleMs;
        _isolation = isolation;
    }

    public long Offset => _offset;

    public async ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_offset >= _stopAt)
            {
                return null;
            }

            var batch = Fill();
            if (batch is not null)
            {
                return batch;
            }

            if (_stopAt != long.MaxValue || _idleMs == 0)
            {
                // Bounded (the end seen at open is not readable yet only while a writer is mid-append) or a plain follower: wait.
                await _log.WaitForDataAsync(_offset, cancellationToken, _isolation).ConfigureAwait(false);
                continue;
            }

            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(_idleMs);
            try
            {
                await _log.WaitForDataAsync(_offset, idle.Token, _isolation).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Idle: hand back an empty batch so the runtime can pass barriers and watermarks.
                return _context.Pool.Rent(_context.Schema);
            }
        }
    }

    private ColumnBatch? Fill()
    {
        using var fetched = _log.Fetch(_offset, isolation: _isolation);
        if (fetched.IsEmpty)
        {
            return null;
        }

        var batch = _context.Pool.Rent(_context.Schema);
        foreach (var record in fetched)
        {
            if (batch.IsFull || record.Offset >= _stopAt)
            {
                break;
            }

            _offset = record.Offset + 1;
            if (!_decoder.TryDecode(record.Value, batch, out var problem))
            {
                _context.DeadLetters.Report(new DeadLetter(_context.StreamName, $"{_log.Topic}/{_log.Partition}@{record.Offset}", problem!,
                    System.Text.Encoding.UTF8.GetString(record.Value)));
                continue;
            }

            if (_hasMeta)
            {
                SetMetadata(record, batch, batch.Count - 1);
            }
        }

        if (!batch.IsFull && _offset < fetched.NextOffset && fetched.NextOffset <= _stopAt)
        {
            // Everything fetched was consumed (control batches and aborted transactions included).
            _offset = fetched.NextOffset;
        }

        return batch;
    }

    private void SetMetadata(in LogRecordView record, ColumnBatch batch, int row)
    {
        for (var c = 0; c < _meta.Length; c++)
        {
            var column = batch.Columns[c];
            switch (_meta[c])
            {
                case MetaColumn.Key when record.HasKey:
                    ((Column<string?>)column).Values[row] = System.Text.Encoding.UTF8.GetString(record.Key);
                    column.SetNull(row, false);
                    break;
                case MetaColumn.Partition:
                    ((Column<int>)column).Values[row] = _log.Partition;
                    column.SetNull(row, false);
                    break;
                case MetaColumn.Offset:
                    ((Column<long>)column).Values[row] = record.Offset;
                    column.SetNull(row, false);
                    break;
                case MetaColumn.Timestamp:
                    ((Column<long>)column).Values[row] = record.Timestamp;
                    column.SetNull(row, false);
                    break;
            }
        }
    }

    public void Dispose()
    {
    }
}
