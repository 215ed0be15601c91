using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Engine.Runtime.Sinks;

/// <summary>One row a <see cref="CollectingSink"/> received: its changelog kind and its values (SQL NULL = null).</summary>
/// <param name="Kind">+I, -U, +U or -D.</param>
/// <param name="Values">The column values in schema order.</param>
public sealed record CollectedRow(RowKind Kind, object?[] Values)
{
    /// <summary>The value of column <paramref name="index"/>.</summary>
    public object? this[int index] => Values[index];

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        RowKind.Insert => "+I",
        RowKind.UpdateBefore => "-U",
        RowKind.UpdateAfter => "+U",
        _ => "-D",
    } + "[" + string.Join(", ", Values.Select(v => v?.ToString() ?? "NULL")) + "]";
}

/// <summary>
/// A sink that keeps every live row in memory, in arrival order, for tests and small embedded queries.
/// Thread-safe: parallel tasks may write at once.
/// </summary>
public sealed class CollectingSink : ISinkConnector
{
    private readonly List<CollectedRow> _rows = [];
    private readonly Lock _gate = new();

    /// <summary>A snapshot of the rows received so far.</summary>
    public IReadOnlyList<CollectedRow> Rows
    {
        get
        {
            lock (_gate)
            {
                return _rows.ToArray();
            }
        }
    }

    /// <inheritdoc />
    public ISinkWriter OpenWriter(int task) => new Writer(this);

    /// <summary>Copies the live rows of <paramref name="batch"/> out as boxed values.</summary>
    public static List<CollectedRow> RowsOf(ColumnBatch batch)
    {
        var rows = new List<CollectedRow>(batch.Count);
        for (var r = 0; r < batch.Count; r++)
        {
            if (!batch.IsLive(r))
            {
                continue;
            }

            var values = new object?[batch.Columns.Length];
            for (var c = 0; c < values.Length; c++)
            {
                values[c] = batch.Columns[c].GetBoxed(r);
            }

            rows.Add(new CollectedRow(batch.KindOf(r), values));
        }

        return rows;
    }

    private sealed class Writer(CollectingSink sink) : ISinkWriter
    {
        public void Write(ColumnBatch batch)
        {
            var rows = RowsOf(batch);
            lock (sink._gate)
            {
                sink._rows.AddRange(rows);
            }
        }

        public void Flush()
        {
        }

        public void Dispose()
        {
        }
    }
}
