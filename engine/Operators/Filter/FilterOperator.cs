using Streams.Engine.Data;

namespace Streams.Engine.Operators.Filter;

/// <summary>Marks the rows of a batch that fail a predicate as filtered out (sets their bit in <see cref="ColumnBatch.FilteredBits"/>).</summary>
/// <param name="batch">The batch to filter in place; rows already filtered stay filtered.</param>
public delegate void BatchFilter(ColumnBatch batch);

/// <summary>
/// WHERE: filters batches in place through a compiled predicate. If the predicate throws, the batch is re-filtered
/// row by row and only the failing rows go to the dead letters. Rows are never copied; downstream operators skip
/// filtered rows through the bitvector, and batches left with no live row are recycled at once.
/// </summary>
public sealed class FilterOperator(BatchFilter filter) : IOperator, State.IStatelessOperator
{
    /// <inheritdoc />
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        try
        {
            filter(batch);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One bad row must not fail the batch: find it row by row.
            _ = ex;
            SingleRowRetry.Filter(batch, filter, output);
        }

        if (batch.HasFiltered && batch.LiveCount() == 0)
        {
            batch.Dispose();
            return;
        }

        output.Emit(batch);
    }
}
