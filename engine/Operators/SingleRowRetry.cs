using Streams.Engine.Data;
using Streams.Engine.Runtime.Exchange;

namespace Streams.Engine.Operators;

/// <summary>
/// When a compiled batch delegate throws, re-runs it one row at a time so only the rows that fail go to the dead
/// letters (with the exception's message) and the rest of the batch carries on.
/// </summary>
internal static class SingleRowRetry
{
    /// <summary>Filters <paramref name="batch"/> row by row; rows whose predicate throws are dead-lettered and filtered out.</summary>
    public static void Filter(ColumnBatch batch, Filter.BatchFilter filter, IOperatorOutput output)
    {
        using var single = batch.Pool.Rent(batch.Schema, 64);
        Span<int> row = stackalloc int[1];
        for (var r = 0; r < batch.Count; r++)
        {
            if (!batch.IsLive(r))
            {
                continue;
            }

            single.Clear();
            row[0] = r;
            BatchGather.Append(batch, row, single);
            try
            {
                filter(single);
                if (!single.IsLive(0))
                {
                    batch.FilterOut(r);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                output.EmitError(batch, r, "filter failed: " + ex.Message);
                batch.FilterOut(r);
            }
        }
    }

    /// <summary>Projects <paramref name="input"/> into <paramref name="result"/> row by row; rows whose projection throws are dead-lettered and filtered out.</summary>
    public static void Project(ColumnBatch input, ColumnBatch result, Project.BatchProjector projector, IOperatorOutput output)
    {
        using var single = input.Pool.Rent(input.Schema, 64);
        using var projected = input.Pool.Rent(result.Schema, 64);
        Span<int> row = stackalloc int[1];
        Span<int> first = stackalloc int[1];
        for (var c = 0; c < result.Columns.Length; c++)
        {
            result.Columns[c].ClearNulls();
        }

        for (var r = 0; r < input.Count; r++)
        {
            if (!input.IsLive(r))
            {
                result.FilterOut(r);
                continue;
            }

            single.Clear();
            projected.Clear();
            row[0] = r;
            BatchGather.Append(input, row, single);
            projected.Count = 1;
            try
            {
                projector(single, projected);
                for (var c = 0; c < result.Columns.Length; c++)
                {
                    projected.Columns[c].CopyRowTo(0, result.Columns[c], r);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                output.EmitError(input, r, "projection failed: " + ex.Message);
                result.FilterOut(r);
            }
        }
    }
}
