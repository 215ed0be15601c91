using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>
/// ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...) &lt;= N over bounded input: keeps each partition's rows and, when
/// input ends, emits the first N of each partition in order with their row number (Top-N; N = 1 is deduplication).
/// Retracted input rows (-U/-D) are removed first, so it also works on top of updating results.
/// </summary>
internal sealed partial class TopNOperator(Schema input, TopNNode node, BatchPool pool) : IOperator
{
    private readonly Dictionary<string, List<object?[]>> _partitions = [];
    private readonly Schema _input = input;

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

            if (batch.KindOf(i) is RowKind.Insert or RowKind.UpdateAfter)
            {
                rows.Add(row);
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
    }

    public void OnWatermark(long watermark, IOperatorOutput output)
    {
    }

    public void OnEndOfInput(IOperatorOutput output)
    {
        var comparer = new FinalResult.RowComparer(node.Order);
        var visible = node.Schema.Count - 1;
        var outBatch = pool.Rent(node.Schema);
        foreach (var rows in _partitions.Values)
        {
            // A stable sort keeps arrival order among ties, as a streaming Top-N that never replaces an equal row does.
            var ordered = rows.Select((r, i) => (r, i)).OrderBy(x => x.r, comparer).ThenBy(x => x.i).Take((int)Math.Min(node.Limit, int.MaxValue)).ToArray();
            for (var rank = 0; rank < ordered.Length; rank++)
            {
                if (outBatch.IsFull)
                {
                    output.Emit(outBatch);
                    outBatch = pool.Rent(node.Schema);
                }

                var row = ordered[rank].r;
                var o = outBatch.Count;
                var src = 0;
                for (var c = 0; c <= visible; c++)
                {
                    if (c == node.RowNumberColumn)
                    {
                        outBatch.Columns[c].SetBoxed(o, (long)(rank + 1));
                    }
                    else
                    {
                        outBatch.Columns[c].SetBoxed(o, row[src++]);
                    }
                }

                outBatch.Count = o + 1;
            }
        }

        if (outBatch.Count > 0)
        {
            output.Emit(outBatch);
        }
        else
        {
            outBatch.Dispose();
        }

        _partitions.Clear();
        output.EmitWatermark(long.MaxValue);
    }
}
