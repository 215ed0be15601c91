using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators.Filter;
using Streams.Engine.Operators.Project;

namespace Streams.Query.Execution;

/// <summary>
/// A source whose batches get their computed columns (and a pushed-down filter) inside the reader, so a WATERMARK
/// declared on a computed column (<c>ts AS TO_TIMESTAMP(...)</c>) is generated per partition like any other.
/// </summary>
internal sealed class ComputedColumnsSource(ISourceConnector inner, BatchFilter? filter, BatchProjector projector, Schema output) : ISourceConnector
{
    public int PartitionCount => inner.PartitionCount;

    public bool IsBounded => inner.IsBounded;

    public ISourceReader OpenPartition(int partition, long offset) => new Reader(inner.OpenPartition(partition, offset), filter, projector, output);

    private sealed class Reader(ISourceReader inner, BatchFilter? filter, BatchProjector projector, Schema output) : ISourceReader
    {
        public long Offset => inner.Offset;

        public async ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
        {
            var batch = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (batch is null)
            {
                return null;
            }

            filter?.Invoke(batch);
            var result = batch.Pool.Rent(output, batch.Capacity);
            result.Count = batch.Count;
            projector(batch, result);
            if (batch.HasFiltered)
            {
                batch.FilteredBits.CopyTo(result.FilteredBits);
                result.MarkFiltered();
            }

            batch.Dispose();
            return result;
        }

        public void Dispose() => inner.Dispose();
    }
}
