using System.Text;
using Streams.Engine.Data;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>
/// Materialises a changelog into the result it describes (+I/+U add a row, -U/-D remove one), so a bounded query
/// whose result updates prints its final answer once, in the order rows first appeared (or sorted by ORDER BY).
/// </summary>
internal sealed class FinalResult(Schema schema)
{
    private readonly Dictionary<string, Entry> _rows = [];
    private readonly StringBuilder _key = new();
    private long _sequence;

    private sealed class Entry(object?[] row, long sequence)
    {
        public object?[] Row { get; } = row;

        public long Sequence { get; } = sequence;

        public int Count { get; set; }
    }

    public void Apply(ColumnBatch batch)
    {
        var values = new object?[schema.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            _key.Clear();
            for (var c = 0; c < schema.Count; c++)
            {
                values[c] = batch.Columns[c].GetBoxed(i);
                _key.Append(values[c] is null ? "\u0001" : Convert.ToString(values[c], System.Globalization.CultureInfo.InvariantCulture)).Append('\u0000');
            }

            var key = _key.ToString();
            var kind = batch.KindOf(i);
            if (kind is RowKind.Insert or RowKind.UpdateAfter)
            {
                if (!_rows.TryGetValue(key, out var e))
                {
                    e = new Entry((object?[])values.Clone(), _sequence++);
                    _rows[key] = e;
                }

                e.Count++;
            }
            else if (_rows.TryGetValue(key, out var e))
            {
                if (--e.Count == 0)
                {
                    _rows.Remove(key);
                }
            }
        }
    }

    public IReadOnlyList<object?[]> Rows(SortLimitNode? sort)
    {
        var entries = _rows.Values.OrderBy(e => e.Sequence).SelectMany(e => Enumerable.Repeat(e.Row, e.Count));
        if (sort is not null && sort.Order.Count > 0)
        {
            entries = entries.OrderBy(r => r, new RowComparer(sort.Order));
        }

        if (sort?.Limit is { } limit)
        {
            entries = entries.Take((int)Math.Min(limit, int.MaxValue));
        }

        return entries.ToArray();
    }

    /// <summary>SQL ordering: NULLs last ascending, first descending (PostgreSQL's default).</summary>
    internal sealed class RowComparer(IReadOnlyList<(int Column, bool Descending)> order) : IComparer<object?[]>
    {
        public int Compare(object?[]? x, object?[]? y)
        {
            foreach (var (col, desc) in order)
            {
                var a = x![col];
                var b = y![col];
                int c;
                if (a is null || b is null)
                {
                    c = a is null ? (b is null ? 0 : 1) : -1;
                }
                else
                {
                    c = a is string sa ? string.CompareOrdinal(sa, (string)b) : Comparer<object>.Default.Compare(a, b);
                }

                if (c != 0)
                {
                    return desc ? -c : c;
                }
            }

            return 0;
        }
    }
}
