using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Engine.Runtime.Sources;

/// <summary>
/// A source over rows held in memory (boxed values, SQL NULL = null), one list per partition: for tests, VALUES
/// clauses and small embedded inputs. Offsets are row numbers, so a reader can resume where a checkpoint left it.
/// </summary>
public sealed class InMemorySource : ISourceConnector
{
    private readonly Schema _schema;
    private readonly IReadOnlyList<IReadOnlyList<object?[]>> _partitions;
    private readonly int _batchSize;
    private readonly BatchPool _pool;
    private readonly Task? _holdOpenUntil;

    /// <summary>
    /// Creates a source with one partition per list in <paramref name="partitions"/>. With <paramref name="holdOpenUntil"/>,
    /// partitions wait for that task after their last row instead of ending (an unbounded source that went quiet).
    /// </summary>
    public InMemorySource(Schema schema, IReadOnlyList<IReadOnlyList<object?[]>> partitions, int batchSize = 1024, BatchPool? pool = null, Task? holdOpenUntil = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _schema = schema;
        _partitions = partitions;
        _batchSize = batchSize;
        _pool = pool ?? BatchPool.Shared;
        _holdOpenUntil = holdOpenUntil;
    }

    /// <inheritdoc />
    public int PartitionCount => _partitions.Count;

    /// <inheritdoc />
    public bool IsBounded => _holdOpenUntil is null;

    /// <inheritdoc />
    public ISourceReader OpenPartition(int partition, long offset) => new Reader(this, _partitions[partition], offset);

    private sealed class Reader(InMemorySource source, IReadOnlyList<object?[]> rows, long offset) : ISourceReader
    {
        public long Offset { get; private set; } = offset;

        public async ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
        {
            if (Offset >= rows.Count)
            {
                if (source._holdOpenUntil is { } hold)
                {
                    await hold.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                return null;
            }

            var batch = source._pool.Rent(source._schema, source._batchSize);
            var n = (int)Math.Min(source._batchSize, rows.Count - Offset);
            for (var r = 0; r < n; r++)
            {
                var row = rows[(int)Offset + r];
                for (var c = 0; c < batch.Columns.Length; c++)
                {
                    batch.Columns[c].SetBoxed(r, row[c]);
                }
            }

            batch.Count = n;
            Offset += n;
            return batch;
        }

        public void Dispose()
        {
        }
    }
}
