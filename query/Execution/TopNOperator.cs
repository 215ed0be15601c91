using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>
/// ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...) &lt;= N (Top-N; N = 1 is deduplication), and ORDER BY ... LIMIT N
/// (one partition, no row number). Emits a continuous changelog: after each batch, every rank of a partition whose row
/// changed is retracted (-U, or -D when the rank empties) and re-emitted (+U, or +I for a new rank), so the output
/// always describes the current top N. Each partition keeps its rows sorted by rank (ties in arrival order, as a
/// streaming Top-N that never replaces an equal row); over append-only input only the top N are kept. Retracted
/// input rows (-U/-D) are removed, so it also works on top of updating results.
/// </summary>
internal sealed partial class TopNOperator(Schema input, TopNNode node, BatchPool pool) : IOperator
{
    private readonly Dictionary<string, List<object?[]>> _partitions = [];

    // What was last emitted per partition, rank by rank (the same row objects as in _partitions).
    private readonly Dictionary<string, object?[][]> _emitted = [];
    private readonly HashSet<string> _touched = [];
    private readonly FinalResult.RowComparer _comparer = new(node.Order);
    private readonly Schema _input = input;
    private readonly int _limit = (int)Math.Min(node.Limit, int.MaxValue);

    // Over append-only input a row below the top N can never come back up: it is dropped.
    private readonly bool _appendOnly = node.Input is { IsUpdating: false };

    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            var row = new object?[_input.Count];
            for (var c = 0; c < row.Length; c++)
            {
                row[c] = batch.Columns[c].GetBoxed(i);
            }

            var key = string.Join('\u0000', node.PartitionKeys.Select(k => row[k] is null ? "\u0001" : Convert.ToString(row[k], System.Globalization.CultureInfo.InvariantCulture)));
            if (!_partitions.TryGetValue(key, out var rows))
            {
                rows = [];
                _partitions[key] = rows;
            }

            _touched.Add(key);
            if (batch.KindOf(i) is RowKind.Insert or RowKind.UpdateAfter)
            {
                rows.Insert(UpperBound(rows, row), row);
                if (_appendOnly && rows.Count > _limit)
                {
                    rows.RemoveRange(_limit, rows.Count - _limit);
                }
            }
            else
            {
                var idx = rows.FindIndex(r => r.SequenceEqual(row));
                if (idx >= 0)
                {
                    rows.RemoveAt(idx);
                }
            }
        }

        batch.Dispose();
        EmitChanges(output);
    }

    public void OnEndOfInput(IOperatorOutput output) => output.EmitWatermark(long.MaxValue);

    /// <summary>After the last row that sorts at or before <paramref name="row"/>: equal rows stay in arrival order.</summary>
    private int UpperBound(List<object?[]> rows, object?[] row)
    {
        int lo = 0, hi = rows.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_comparer.Compare(rows[mid], row) <= 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private void EmitChanges(IOperatorOutput output)
    {
        ColumnBatch? outBatch = null;
        foreach (var key in _touched)
        {
            var rows = _partitions[key];
            var old = _emitted.TryGetValue(key, out var e) ? e : [];
            var now = rows.Take(_limit).ToArray();
            for (var rank = 0; rank < Math.Max(old.Length, now.Length); rank++)
            {
                var before = rank < old.Length ? old[rank] : null;
                var after = rank < now.Length ? now[rank] : null;
                if (ReferenceEquals(before, after))
                {
                    continue;
                }

                if (before is not null)
                {
                    Append(ref outBatch, before, rank, after is null ? RowKind.Delete : RowKind.UpdateBefore, output);
                }

                if (after is not null)
                {
                    Append(ref outBatch, after, rank, before is null ? RowKind.Insert : RowKind.UpdateAfter, output);
                }
            }

            if (now.Length == 0)
            {
                _emitted.Remove(key);
                if (rows.Count == 0)
                {
                    _partitions.Remove(key);
                }
            }
            else
            {
                _emitted[key] = now;
            }
        }

        _touched.Clear();
        if (outBatch is not null)
        {
            output.Emit(outBatch);
        }
    }

    /// <summary>Writes <paramref name="row"/> with its row number at <paramref name="rank"/> (0-based) into the output batch.</summary>
    private void Append(ref ColumnBatch? outBatch, object?[] row, int rank, RowKind kind, IOperatorOutput output)
    {
        if (outBatch is { IsFull: true })
        {
            output.Emit(outBatch);
            outBatch = null;
        }

        outBatch ??= pool.Rent(node.Schema);
        var o = outBatch.Count;
        var src = 0;
        for (var c = 0; c < node.Schema.Count; c++)
        {
            outBatch.Columns[c].SetBoxed(o, c == node.RowNumberColumn ? (long)(rank + 1) : row[src++]);
        }

        outBatch.SetKind(o, kind);
        outBatch.Count = o + 1;
    }

    /// <summary>After a restore the output up to the checkpoint described the top N of the restored rows.</summary>
    private void RebuildEmitted()
    {
        _emitted.Clear();
        foreach (var (key, rows) in _partitions)
        {
            if (rows.Count > 0)
            {
                _emitted[key] = rows.Take(_limit).ToArray();
            }
        }
    }
}
