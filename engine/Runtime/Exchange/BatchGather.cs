using Streams.Engine.Data;

namespace Streams.Engine.Runtime.Exchange;

/// <summary>Copies selected rows of a batch into another batch of the same schema, a column at a time with typed loops.</summary>
internal static class BatchGather
{
    /// <summary>Appends rows <paramref name="rows"/> of <paramref name="source"/> to <paramref name="target"/> (same schema) after its current rows.</summary>
    public static void Append(ColumnBatch source, ReadOnlySpan<int> rows, ColumnBatch target)
    {
        var start = target.Count;
        for (var c = 0; c < source.Columns.Length; c++)
        {
            var from = source.Columns[c];
            var to = target.Columns[c];
            switch (from)
            {
                case Column<long> s: Gather(s.Values, rows, ((Column<long>)to).Values, start); break;
                case Column<int> s: Gather(s.Values, rows, ((Column<int>)to).Values, start); break;
                case Column<double> s: Gather(s.Values, rows, ((Column<double>)to).Values, start); break;
                case Column<bool> s: Gather(s.Values, rows, ((Column<bool>)to).Values, start); break;
                case Column<decimal> s: Gather(s.Values, rows, ((Column<decimal>)to).Values, start); break;
                case Column<string?> s: Gather(s.Values, rows, ((Column<string?>)to).Values, start); break;
                default: throw new NotSupportedException("cannot copy a column of " + from.Type);
            }

            if (from.HasNulls)
            {
                for (var i = 0; i < rows.Length; i++)
                {
                    if (from.IsNull(rows[i]))
                    {
                        to.SetNull(start + i);
                    }
                }
            }
        }

        if (source.HasRowKinds)
        {
            for (var i = 0; i < rows.Length; i++)
            {
                target.SetKind(start + i, source.KindOf(rows[i]));
            }
        }

        target.Count = start + rows.Length;
    }

    /// <summary>A copy of the live rows of <paramref name="source"/> in a new batch from the same pool.</summary>
    public static ColumnBatch CopyLive(ColumnBatch source)
    {
        var copy = source.Pool.Rent(source.Schema, source.Capacity);
        Span<int> rows = source.Count <= 1024 ? stackalloc int[source.Count] : new int[source.Count];
        var n = 0;
        for (var i = 0; i < source.Count; i++)
        {
            if (source.IsLive(i))
            {
                rows[n++] = i;
            }
        }

        Append(source, rows[..n], copy);
        return copy;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Gather<T>(T[] from, ReadOnlySpan<int> rows, T[] to, int start)
    {
        var dst = to.AsSpan(start, rows.Length);
        for (var i = 0; i < dst.Length; i++)
        {
            dst[i] = from[rows[i]];
        }
    }
}
