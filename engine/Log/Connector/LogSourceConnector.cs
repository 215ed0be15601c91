using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Engine.Log.Connector;

/// <summary>A topic as a SQL source: one source partition per topic partition.</summary>
internal sealed class LogSourceConnector(LogTopic topic, ConnectorContext context, bool bounded, int idleMs) : ISourceConnector
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
        return new LogSourceReader(log, context, offset, bounded ? log.EndOffset : long.MaxValue, idleMs);
    }
}

/// <summary>Reads one partition into column batches; <see cref="Offset"/> is the next log offset.</summary>
internal sealed class LogSourceReader : ISourceReader
{
    private readonly PartitionLog _log;
    private readonly ConnectorContext _context;
    private readonly JsonRowDecoder _decoder;
    private readonly long _stopAt;
    private readonly int _idleMs;
    private long _offset;

    public LogSourceReader(PartitionLog log, ConnectorContext context, long offset, long stopAt, int idleMs)
    {
        _log = log;
        _context = context;
        _decoder = new JsonRowDecoder(context.Schema);
        _offset = Math.Max(offset, log.StartOffset);
        _stopAt = stopAt;
        _idleMs = idleMs;
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

            if (_stopAt != long.MaxValue)
            {
                // Bounded: the end seen at open is not there yet only if a writer is mid-append; wait for it.
                await _log.WaitForDataAsync(_offset, cancellationToken).ConfigureAwait(false);
                continue;
            }

            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(_idleMs);
            try
            {
                await _log.WaitForDataAsync(_offset, idle.Token).ConfigureAwait(false);
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
        using var fetched = _log.Fetch(_offset);
        if (fetched.IsEmpty)
        {
            return null;
        }

        var batch = _context.Pool.Rent(_context.Schema);
        var row = 0;
        foreach (var record in fetched)
        {
            if (row == batch.Capacity || record.Offset >= _stopAt)
            {
                break;
            }

            _offset = record.Offset + 1;
            if (_decoder.Decode(record, _log.Partition, batch, row) is { } problem)
            {
                _context.DeadLetters.Report(new DeadLetter(_context.StreamName, $"{_log.Topic}/{_log.Partition}@{record.Offset}", problem,
                    System.Text.Encoding.UTF8.GetString(record.Value)));
                continue;
            }

            row++;
        }

        if (row < batch.Capacity && _offset < fetched.NextOffset && fetched.NextOffset <= _stopAt)
        {
            // Everything fetched was consumed (control batches included).
            _offset = fetched.NextOffset;
        }

        batch.Count = row;
        return batch;
    }

    public void Dispose()
    {
    }
}
