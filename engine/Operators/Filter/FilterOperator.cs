using Streams.Engine.Data;

namespace Streams.Engine.Operators.Filter;

/// <summary>Marks the rows of a batch that fail a predicate as filtered out (sets their bit in <see cref="ColumnBatch.FilteredBits"/>).</summary>
/// <param name="batch">The batch to filter in place; rows already filtered stay filtered.</param>
public delegate void BatchFilter(ColumnBatch batch);

/// <summary>
/// WHERE: filters batches in place through a compiled predicate. Rows are never copied; downstream operators skip
/// filtered rows through the bitvector, and batches left with no live row are recycled at once.
/// </summary>
public sealed class FilterOperator(BatchFilter filter) : IOperator
{
    /// <inheritdoc />
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        filter(batch);
        if (batch.HasFiltered && batch.LiveCount() == 0)
        {
            batch.Dispose();
            return;
        }

        output.Emit(batch);
    }
}
