using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Engine.Runtime.Sources;

/// <summary>Fills <paramref name="batch"/> with rows <paramref name="firstRow"/>..firstRow+rows of <paramref name="partition"/>; the source sets Count.</summary>
/// <param name="partition">The partition being generated.</param>
/// <param name="firstRow">The partition-local number of the first row to generate.</param>
/// <param name="rows">How many rows to write, starting at index 0 of every column.</param>
/// <param name="batch">The empty batch to fill.</param>
public delegate void BatchGenerator(int partition, long firstRow, int rows, ColumnBatch batch);

/// <summary>
/// A bounded source that computes its rows (benchmarks, load tests): each partition yields <c>rowsPerPartition</c>
/// rows in batches, written a column at a time by a <see cref="BatchGenerator"/>.
/// </summary>
public sealed class GeneratorSource(Schema schema, int partitions, long rowsPerPartition, BatchGenerator generator, int batchSize = BatchPool.DefaultCapacity, BatchPool? pool = null) : ISourceConnector
{
    private readonly BatchPool _pool = pool ?? BatchPool.Shared;
    private readonly Schema _schema = schema;
    private readonly long _rows = rowsPerPartition;
    private readonly BatchGenerator _generator = generator;
    private readonly int _batchSize = batchSize;

    /// <inheritdoc />
    public int PartitionCount => partitions;

    /// <inheritdoc />
    public bool IsBounded => true;

    /// <inheritdoc />
    public ISourceReader OpenPartition(int partition, long offset) => new Reader(this, partition, offset);

    private sealed class Reader(GeneratorSource source, int partition, long offset) : ISourceReader
    {
        public long Offset { get; private set; } = offset;

        public ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
        {
            var remaining = source._rows - Offset;
            if (remaining <= 0)
            {
                return ValueTask.FromResult<ColumnBatch?>(null);
            }

            var n = (int)Math.Min(source._batchSize, remaining);
            var batch = source._pool.Rent(source._schema, source._batchSize);
            source._generator(partition, Offset, n, batch);
            batch.Count = n;
            Offset += n;
            return ValueTask.FromResult<ColumnBatch?>(batch);
        }

        public void Dispose()
        {
        }
    }
}
