using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>
/// Two-phase (local/global) window aggregation, as Flink's local-global optimisation. Before the key exchange a
/// <see cref="WindowAggregateOperator"/> in combiner mode pre-aggregates each batch per (key, slice) and emits one
/// partial row per group; rows already late by the local watermark travel raw. This operator
/// is the global phase: it merges partial rows (left input) and raw rows (right input) into the real windows, decides
/// lateness with the job-wide watermark, and sends late raw rows to the late side output with their original schema.
/// The exchange then carries one row per (key, slice, task) instead of one per event.
/// </summary>
internal sealed partial class TwoPhaseWindowAggregateOperator : ITwoInputOperator
{
    private readonly WindowAggregateOperator _global;
    private readonly WindowAggregateSpec _spec;
    private readonly Schema _partialSchema;
    private readonly OutputTag _lateTag;
    private int[] _rows = [];

    public TwoPhaseWindowAggregateOperator(WindowAggregateSpec spec, Schema partialSchema, OutputTag lateTag, BatchPool pool, int batchSize, Schema outputSchema)
    {
        _spec = spec;
        _partialSchema = partialSchema;
        _lateTag = lateTag;
        // Partial rows that arrive late cannot happen (a slice's partials leave before the watermark that completes
        // it); if they did, their tag is not a consumer's, so they would be dead-lettered rather than lost.
        var partialLate = new OutputTag(lateTag.Name + ".partial", partialSchema, CountsAsLate: true);
        _global = new WindowAggregateOperator(partialSchema, GlobalSpec(spec), partialLate, pool, batchSize, outputSchema);
    }

    /// <summary>Whether <paramref name="spec"/> can be split into local and global phases (mergeable aggregates, fixed windows).</summary>
    public static bool Supports(WindowAggregateSpec spec) =>
        spec.Window.Kind != WindowKind.Session && spec.Aggregates.All(a => a.Kind is not (AggregateKind.CountDistinct or AggregateKind.Avg));

    /// <summary>
    /// The local phase: the same window aggregate in combiner mode. After each input batch it emits one partial row per
    /// (key, slice) and forgets them, so nothing waits in it (idle sources cannot strand rows there). Rows already late
    /// by its own (partition) watermark, which is never behind the job's, travel raw so the global phase decides.
    /// </summary>
    public static WindowAggregateOperator Local(Schema input, WindowAggregateSpec spec, OutputTag raw, BatchPool pool, int batchSize) =>
        new(input, spec, raw, pool, batchSize, null, combiner: true);

    /// <summary>The global phase over partial rows: keys at 0..k-1, slice start at k, partial values from k+2.</summary>
    public static WindowAggregateSpec GlobalSpec(WindowAggregateSpec spec)
    {
        var k = spec.KeyColumns.Length;
        var aggregates = spec.Aggregates.Select((a, i) => a.Kind switch
        {
            AggregateKind.Count or AggregateKind.CountStar or AggregateKind.Sum => AggregateSpec.Sum(k + 2 + i, a.OutputName),
            AggregateKind.Min => AggregateSpec.Min(k + 2 + i, a.OutputName),
            AggregateKind.Max => AggregateSpec.Max(k + 2 + i, a.OutputName),
            _ => throw new NotSupportedException($"{a.Kind} has no two-phase form"),
        }).ToArray();
        return new WindowAggregateSpec(k, spec.Window, Enumerable.Range(0, k).ToArray(), aggregates, spec.AllowedLatenessMs);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void OnBatch(JoinSide side, ColumnBatch batch, IOperatorOutput output)
    {
        if (side == JoinSide.Left)
        {
            _global.OnBatch(batch, output);
            return;
        }

        // Raw rows: late ones leave with their own schema, the rest become one-row partials.
        var n = batch.Count;
        if (_rows.Length < n)
        {
            _rows = new int[batch.Capacity];
        }

        var ts = batch.ColumnAt<long>(_spec.EventTimeColumn).Values;
        var late = 0;
        var onTime = 0;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            if (_global.IsLateEventTime(ts[i]))
            {
                _rows[late++] = i;
            }
        }

        if (late > 0)
        {
            var lateBatch = batch.Pool.Rent(batch.Schema, batch.Capacity);
            Runtime.Exchange.BatchGather.Append(batch, _rows.AsSpan(0, late), lateBatch);
            output.EmitSide(_lateTag, lateBatch);
        }

        var partial = batch.Pool.Rent(_partialSchema, batch.Capacity);
        var k = _spec.KeyColumns.Length;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i) || _global.IsLateEventTime(ts[i]))
            {
                continue;
            }

            var row = onTime++;
            for (var c = 0; c < k; c++)
            {
                batch.Columns[_spec.KeyColumns[c]].CopyRowTo(i, partial.Columns[c], row);
            }

            var slice = _global.SliceOf(ts[i]);
            partial.ColumnAt<long>(k).Values[row] = slice;
            partial.ColumnAt<long>(k + 1).Values[row] = slice + _global.SliceLength;
            for (var a = 0; a < _spec.Aggregates.Length; a++)
            {
                var spec = _spec.Aggregates[a];
                var target = partial.Columns[k + 2 + a];
                var passes = spec.FilterColumn < 0 || (batch.ColumnAt<bool>(spec.FilterColumn).Values[i] && !batch.Columns[spec.FilterColumn].IsNull(i));
                switch (spec.Kind)
                {
                    case AggregateKind.CountStar:
                        ((Column<long>)target).Values[row] = passes ? 1 : 0;
                        break;
                    case AggregateKind.Count:
                        ((Column<long>)target).Values[row] = passes && !batch.Columns[spec.InputColumn].IsNull(i) ? 1 : 0;
                        break;
                    default:
                        if (!passes || batch.Columns[spec.InputColumn].IsNull(i))
                        {
                            target.SetNull(row);
                        }
                        else if (target is Column<long> wide && batch.Columns[spec.InputColumn] is Column<int> narrow)
                        {
                            wide.Values[row] = narrow.Values[i];
                        }
                        else
                        {
                            batch.Columns[spec.InputColumn].CopyRowTo(i, target, row);
                        }

                        break;
                }
            }
        }

        partial.Count = onTime;
        batch.Dispose();
        if (onTime > 0)
        {
            _global.OnBatch(partial, output);
        }
        else
        {
            partial.Dispose();
        }
    }

    public void OnWatermark(long watermark, IOperatorOutput output) => _global.OnWatermark(watermark, output);

    public void OnEndOfInput(IOperatorOutput output) => _global.OnEndOfInput(output);

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
