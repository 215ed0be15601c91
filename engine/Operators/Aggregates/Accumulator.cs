using System.Runtime.CompilerServices;
using Streams.Engine.Data;

namespace Streams.Engine.Operators.Aggregates;

/// <summary>
/// The state of one aggregate for many groups at once, stored column-wise: slot s of every array belongs to one
/// (key, window) group. Rows are added a batch at a time through a slot-per-row array, so the per-row loop is a
/// typed array update with no virtual call; the virtual dispatch happens once per batch.
/// </summary>
internal abstract partial class Accumulator
{
    protected Accumulator(AggregateSpec spec) => Spec = spec;

    public AggregateSpec Spec { get; }

    /// <summary>Grows the arrays to hold at least <paramref name="slots"/> groups.</summary>
    public abstract void EnsureCapacity(int slots);

    /// <summary>Empties slot <paramref name="slot"/> for a new group.</summary>
    public abstract void Reset(int slot);

    /// <summary>Adds row i of <paramref name="batch"/> to slot <c>slots[i]</c> for every i with slots[i] ≥ 0 (sign +1) or retracts it (sign -1).</summary>
    public abstract void Add(ColumnBatch batch, int[] slots, IOperatorOutput output, int sign);

    /// <summary>Folds group <paramref name="from"/> into group <paramref name="into"/> (window panes, merged sessions).</summary>
    public abstract void Merge(int from, int into);

    /// <summary>Folds group from[j] into group into[j] for every j (a window's panes), a column at a time.</summary>
    public virtual void MergeMany(ReadOnlySpan<int> from, ReadOnlySpan<int> into)
    {
        for (var j = 0; j < from.Length; j++)
        {
            Merge(from[j], into[j]);
        }
    }

    /// <summary>Writes the result of slot <paramref name="slot"/> into row <paramref name="row"/> of <paramref name="target"/>.</summary>
    public abstract void Write(int slot, Column target, int row);

    /// <summary>Writes slots[j] into row firstRow + j of <paramref name="target"/> for every j.</summary>
    public virtual void WriteMany(ReadOnlySpan<int> slots, Column target, int firstRow)
    {
        for (var j = 0; j < slots.Length; j++)
        {
            Write(slots[j], target, firstRow + j);
        }
    }

    /// <summary>True when slots hold references (sets) that should be dropped as soon as a group is released.</summary>
    public virtual bool HoldsReferences => false;

    /// <summary>True when the filter column (if any) lets row <paramref name="row"/> in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static bool Passes(Column<bool>? filter, int row) => filter is null || (filter.Values[row] && !filter.IsNull(row));

    protected Column<bool>? FilterOf(ColumnBatch batch) => Spec.FilterColumn >= 0 ? batch.ColumnAt<bool>(Spec.FilterColumn) : null;

    protected static void Grow<T>(ref T[] array, int slots)
    {
        if (array.Length < slots)
        {
            Array.Resize(ref array, Math.Max(slots, Math.Max(16, array.Length * 2)));
        }
    }

    /// <summary>Builds the accumulator for <paramref name="spec"/> over <paramref name="input"/>.</summary>
    public static Accumulator Create(AggregateSpec spec, Schema input, bool retractable)
    {
        var type = spec.Kind == AggregateKind.CountStar ? DataType.Int64 : input[spec.InputColumn].Type;
        return spec.Kind switch
        {
            AggregateKind.CountStar => new CountAccumulator(spec, countNulls: true),
            AggregateKind.Count => new CountAccumulator(spec, countNulls: false),
            AggregateKind.Sum or AggregateKind.Avg => type switch
            {
                DataType.Int32 => new IntegerSumAccumulator<int>(spec, input[spec.InputColumn].Name, spec.Kind == AggregateKind.Avg),
                DataType.Int64 => new IntegerSumAccumulator<long>(spec, input[spec.InputColumn].Name, spec.Kind == AggregateKind.Avg),
                DataType.Double => new DoubleSumAccumulator(spec, input[spec.InputColumn].Name, spec.Kind == AggregateKind.Avg),
                DataType.Decimal => new DecimalSumAccumulator(spec, input[spec.InputColumn].Name, spec.Kind == AggregateKind.Avg),
                _ => throw new ArgumentException($"{spec.Kind} over {type.SqlName()} is not supported"),
            },
            AggregateKind.Min or AggregateKind.Max => type switch
            {
                DataType.Int32 => MinMax<int>(spec, retractable),
                DataType.Int64 or DataType.Timestamp => MinMax<long>(spec, retractable),
                DataType.Double => MinMax<double>(spec, retractable),
                DataType.Decimal => MinMax<decimal>(spec, retractable),
                DataType.Boolean => MinMax<bool>(spec, retractable),
                DataType.String => MinMax<string>(spec, retractable),
                _ => throw new ArgumentException($"{spec.Kind} over {type.SqlName()} is not supported"),
            },
            AggregateKind.CountDistinct => type switch
            {
                DataType.Int32 => new DistinctCountAccumulator<int>(spec),
                DataType.Int64 or DataType.Timestamp => new DistinctCountAccumulator<long>(spec),
                DataType.Double => new DistinctCountAccumulator<double>(spec),
                DataType.Decimal => new DistinctCountAccumulator<decimal>(spec),
                DataType.Boolean => new DistinctCountAccumulator<bool>(spec),
                DataType.String => new DistinctCountAccumulator<string>(spec),
                _ => throw new ArgumentException($"COUNT(DISTINCT) over {type.SqlName()} is not supported"),
            },
            _ => throw new ArgumentException($"unknown aggregate {spec.Kind}"),
        };
    }

    private static Accumulator MinMax<T>(AggregateSpec spec, bool retractable)
        where T : IComparable<T> =>
        retractable ? new RetractableMinMaxAccumulator<T>(spec, spec.Kind == AggregateKind.Min)
        : spec.Kind == AggregateKind.Min ? new MinMaxAccumulator<T, MinOrder>(spec) : new MinMaxAccumulator<T, MaxOrder>(spec);
}

/// <summary>COUNT(*) and COUNT(col).</summary>
internal sealed partial class CountAccumulator(AggregateSpec spec, bool countNulls) : Accumulator(spec)
{
    private long[] _counts = [];

    /// <summary>The per-slot counts (the fused window path updates them in its own loop; re-read after slots grow).</summary>
    internal long[] Counts => _counts;

    /// <summary>True for COUNT(*) without FILTER: every live row counts.</summary>
    internal bool CountsEveryRow => countNulls && Spec.FilterColumn < 0;

    public override void EnsureCapacity(int slots) => Grow(ref _counts, slots);

    public override void Reset(int slot) => _counts[slot] = 0;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Add(ColumnBatch batch, int[] slots, IOperatorOutput output, int sign)
    {
        var counts = _counts;
        var n = batch.Count;
        var filter = FilterOf(batch);
        var input = countNulls ? null : batch.Columns[Spec.InputColumn];
        if (filter is null && (input is null || !input.HasNulls))
        {
            for (var i = 0; i < n; i++)
            {
                var s = slots[i];
                if (s >= 0)
                {
                    counts[s] += sign;
                }
            }

            return;
        }

        for (var i = 0; i < n; i++)
        {
            var s = slots[i];
            if (s >= 0 && Passes(filter, i) && (input is null || !input.IsNull(i)))
            {
                counts[s] += sign;
            }
        }
    }

    public override void Merge(int from, int into) => _counts[into] += _counts[from];

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void MergeMany(ReadOnlySpan<int> from, ReadOnlySpan<int> into)
    {
        var counts = _counts;
        for (var j = 0; j < from.Length; j++)
        {
            counts[into[j]] += counts[from[j]];
        }
    }

    public override void Write(int slot, Column target, int row) => ((Column<long>)target).Values[row] = _counts[slot];

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void WriteMany(ReadOnlySpan<int> slots, Column target, int firstRow)
    {
        var values = ((Column<long>)target).Values;
        var counts = _counts;
        for (var j = 0; j < slots.Length; j++)
        {
            values[firstRow + j] = counts[slots[j]];
        }
    }

    /// <summary>The count of <paramref name="slot"/> (group aggregates use COUNT(*) to know when a group is empty).</summary>
    public long CountOf(int slot) => _counts[slot];
}

/// <summary>SUM/AVG over INT or BIGINT: a BIGINT sum with overflow detection (the overflowing row goes to the dead letters).</summary>
internal sealed partial class IntegerSumAccumulator<T>(AggregateSpec spec, string column, bool average) : Accumulator(spec)
    where T : struct, System.Numerics.IBinaryInteger<T>
{
    private long[] _sums = [];
    private long[] _counts = [];

    /// <summary>The per-slot sums (the fused window path updates them in its own loop; re-read after slots grow).</summary>
    internal long[] Sums => _sums;

    /// <summary>The per-slot counts of summed rows (0 = the SUM is NULL).</summary>
    internal long[] Counts => _counts;

    /// <summary>True for SUM over BIGINT without FILTER (what the fused window path handles).</summary>
    internal bool IsPlainLongSum => !average && typeof(T) == typeof(long) && Spec.FilterColumn < 0;

    /// <summary>Sends row <paramref name="row"/> to the dead letters: adding it overflows BIGINT.</summary>
    internal void ReportOverflow(ColumnBatch batch, int row, IOperatorOutput output) => Overflow(batch, row, output);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void WriteMany(ReadOnlySpan<int> slots, Column target, int firstRow)
    {
        if (average || target is not Column<long> longs)
        {
            base.WriteMany(slots, target, firstRow);
            return;
        }

        var values = longs.Values;
        for (var j = 0; j < slots.Length; j++)
        {
            var s = slots[j];
            if (_counts[s] == 0)
            {
                target.SetNull(firstRow + j);
            }
            else
            {
                values[firstRow + j] = _sums[s];
            }
        }
    }

    public override void EnsureCapacity(int slots)
    {
        Grow(ref _sums, slots);
        Grow(ref _counts, slots);
    }

    public override void Reset(int slot)
    {
        _sums[slot] = 0;
        _counts[slot] = 0;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Add(ColumnBatch batch, int[] slots, IOperatorOutput output, int sign)
    {
        var col = batch.ColumnAt<T>(Spec.InputColumn);
        var values = col.Values;
        var sums = _sums;
        var counts = _counts;
        var n = batch.Count;
        var filter = FilterOf(batch);
        var fast = filter is null && !col.HasNulls;
        for (var i = 0; i < n; i++)
        {
            var s = slots[i];
            if (s < 0 || (!fast && (!Passes(filter, i) || col.IsNull(i))))
            {
                continue;
            }

            var a = sums[s];
            var b = long.CreateTruncating(values[i]) * sign;
            var r = a + b;
            if (((a ^ r) & (b ^ r)) < 0)
            {
                Overflow(batch, i, output);
                continue;
            }

            sums[s] = r;
            counts[s] += sign;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Overflow(ColumnBatch batch, int row, IOperatorOutput output) =>
        output.EmitError(batch, row, $"{Spec.Kind.ToString().ToUpperInvariant()}({column}) overflows BIGINT; the row is left out of '{Spec.OutputName}'");

    public override void Merge(int from, int into)
    {
        _sums[into] += _sums[from];
        _counts[into] += _counts[from];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void MergeMany(ReadOnlySpan<int> from, ReadOnlySpan<int> into)
    {
        var sums = _sums;
        var counts = _counts;
        for (var j = 0; j < from.Length; j++)
        {
            sums[into[j]] += sums[from[j]];
            counts[into[j]] += counts[from[j]];
        }
    }

    public override void Write(int slot, Column target, int row)
    {
        if (_counts[slot] == 0)
        {
            target.SetNull(row);
            return;
        }

        var value = average ? _sums[slot] / _counts[slot] : _sums[slot];
        if (target is Column<int> i32)
        {
            i32.Values[row] = (int)value;
        }
        else
        {
            ((Column<long>)target).Values[row] = value;
        }
    }
}

/// <summary>SUM/AVG over DOUBLE. NaN inputs go to the dead letters instead of poisoning the sum.</summary>
internal sealed partial class DoubleSumAccumulator(AggregateSpec spec, string column, bool average) : Accumulator(spec)
{
    private double[] _sums = [];
    private long[] _counts = [];

    public override void EnsureCapacity(int slots)
    {
        Grow(ref _sums, slots);
        Grow(ref _counts, slots);
    }

    public override void Reset(int slot)
    {
        _sums[slot] = 0;
        _counts[slot] = 0;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Add(ColumnBatch batch, int[] slots, IOperatorOutput output, int sign)
    {
        var col = batch.ColumnAt<double>(Spec.InputColumn);
        var values = col.Values;
        var filter = FilterOf(batch);
        for (var i = 0; i < batch.Count; i++)
        {
            var s = slots[i];
            if (s < 0 || !Passes(filter, i) || col.IsNull(i))
            {
                continue;
            }

            var v = values[i];
            if (double.IsNaN(v))
            {
                output.EmitError(batch, i, $"{Spec.Kind.ToString().ToUpperInvariant()}({column}) got NaN; the row is left out of '{Spec.OutputName}'");
                continue;
            }

            _sums[s] += v * sign;
            _counts[s] += sign;
        }
    }

    public override void Merge(int from, int into)
    {
        _sums[into] += _sums[from];
        _counts[into] += _counts[from];
    }

    public override void Write(int slot, Column target, int row)
    {
        if (_counts[slot] == 0)
        {
            target.SetNull(row);
            return;
        }

        ((Column<double>)target).Values[row] = average ? _sums[slot] / _counts[slot] : _sums[slot];
    }
}

/// <summary>SUM/AVG over DECIMAL; an overflowing row goes to the dead letters.</summary>
internal sealed partial class DecimalSumAccumulator(AggregateSpec spec, string column, bool average) : Accumulator(spec)
{
    private decimal[] _sums = [];
    private long[] _counts = [];

    public override void EnsureCapacity(int slots)
    {
        Grow(ref _sums, slots);
        Grow(ref _counts, slots);
    }

    public override void Reset(int slot)
    {
        _sums[slot] = 0;
        _counts[slot] = 0;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Add(ColumnBatch batch, int[] slots, IOperatorOutput output, int sign)
    {
        var col = batch.ColumnAt<decimal>(Spec.InputColumn);
        var filter = FilterOf(batch);
        for (var i = 0; i < batch.Count; i++)
        {
            var s = slots[i];
            if (s < 0 || !Passes(filter, i) || col.IsNull(i))
            {
                continue;
            }

            try
            {
                _sums[s] += sign > 0 ? col.Values[i] : -col.Values[i];
                _counts[s] += sign;
            }
            catch (OverflowException)
            {
                output.EmitError(batch, i, $"{Spec.Kind.ToString().ToUpperInvariant()}({column}) overflows DECIMAL; the row is left out of '{Spec.OutputName}'");
            }
        }
    }

    public override void Merge(int from, int into)
    {
        _sums[into] += _sums[from];
        _counts[into] += _counts[from];
    }

    public override void Write(int slot, Column target, int row)
    {
        if (_counts[slot] == 0)
        {
            target.SetNull(row);
            return;
        }

        ((Column<decimal>)target).Values[row] = average ? _sums[slot] / _counts[slot] : _sums[slot];
    }
}

/// <summary>Chooses MIN or MAX at compile time (a struct type argument), so the comparison inlines.</summary>
internal interface IOrder
{
    static abstract bool Better<T>(T candidate, T current)
        where T : IComparable<T>;
}

internal readonly struct MinOrder : IOrder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Better<T>(T candidate, T current)
        where T : IComparable<T> => candidate.CompareTo(current) < 0;
}

internal readonly struct MaxOrder : IOrder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Better<T>(T candidate, T current)
        where T : IComparable<T> => candidate.CompareTo(current) > 0;
}

/// <summary>MIN/MAX for append-only input.</summary>
internal sealed partial class MinMaxAccumulator<T, TOrder>(AggregateSpec spec) : Accumulator(spec)
    where T : IComparable<T>
    where TOrder : struct, IOrder
{
    private T[] _values = [];
    private bool[] _has = [];

    public override void EnsureCapacity(int slots)
    {
        Grow(ref _values, slots);
        Grow(ref _has, slots);
    }

    public override void Reset(int slot)
    {
        _values[slot] = default!;
        _has[slot] = false;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Add(ColumnBatch batch, int[] slots, IOperatorOutput output, int sign)
    {
        if (sign < 0)
        {
            throw new NotSupportedException("MIN/MAX over a changelog needs the retractable accumulator");
        }

        var col = batch.ColumnAt<T>(Spec.InputColumn);
        var values = col.Values;
        var filter = FilterOf(batch);
        for (var i = 0; i < batch.Count; i++)
        {
            var s = slots[i];
            if (s < 0 || !Passes(filter, i) || col.IsNull(i))
            {
                continue;
            }

            if (!_has[s] || TOrder.Better(values[i], _values[s]))
            {
                _values[s] = values[i];
                _has[s] = true;
            }
        }
    }

    public override void Merge(int from, int into)
    {
        if (_has[from] && (!_has[into] || TOrder.Better(_values[from], _values[into])))
        {
            _values[into] = _values[from];
            _has[into] = true;
        }
    }

    public override void Write(int slot, Column target, int row)
    {
        if (!_has[slot])
        {
            target.SetNull(row);
            return;
        }

        ((Column<T>)target).Values[row] = _values[slot];
    }
}

/// <summary>
/// A value → multiplicity map per group: the state of aggregates that must forget a retracted value exactly
/// (COUNT DISTINCT, MIN/MAX over a changelog). Subclasses choose the map (sorted or hashed) and what they write.
/// </summary>
internal abstract partial class MultisetAccumulator<T, TSet>(AggregateSpec spec) : Accumulator(spec)
    where T : notnull
    where TSet : class, IDictionary<T, long>, IReadOnlyCollection<KeyValuePair<T, long>>, new()
{
    private protected TSet?[] _sets = [];

    public override bool HoldsReferences => true;

    public override void EnsureCapacity(int slots) => Grow(ref _sets, slots);

    public override void Reset(int slot) => _sets[slot] = null;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Add(ColumnBatch batch, int[] slots, IOperatorOutput output, int sign)
    {
        var col = batch.ColumnAt<T>(Spec.InputColumn);
        var filter = FilterOf(batch);
        for (var i = 0; i < batch.Count; i++)
        {
            var s = slots[i];
            if (s < 0 || !Passes(filter, i) || col.IsNull(i))
            {
                continue;
            }

            var set = _sets[s] ??= new TSet();
            var v = col.Values[i];
            set.TryGetValue(v, out var c);
            c += sign;
            if (c <= 0)
            {
                set.Remove(v);
            }
            else
            {
                set[v] = c;
            }
        }
    }

    public override void Merge(int from, int into)
    {
        if (_sets[from] is not { } source)
        {
            return;
        }

        var target = _sets[into] ??= new TSet();
        foreach (var (v, c) in source)
        {
            target.TryGetValue(v, out var have);
            target[v] = have + c;
        }
    }
}

/// <summary>MIN/MAX over a changelog: keeps a sorted multiset of values per group so retracting the current extreme is exact.</summary>
internal sealed class RetractableMinMaxAccumulator<T>(AggregateSpec spec, bool min) : MultisetAccumulator<T, SortedDictionary<T, long>>(spec)
    where T : IComparable<T>
{
    public override void Write(int slot, Column target, int row)
    {
        if (_sets[slot] is not { Count: > 0 } set)
        {
            target.SetNull(row);
            return;
        }

        ((Column<T>)target).Values[row] = min ? set.Keys.First() : set.Keys.Last();
    }
}

/// <summary>COUNT(DISTINCT col): a value → multiplicity map per group (multiplicities make retraction exact).</summary>
internal sealed class DistinctCountAccumulator<T>(AggregateSpec spec) : MultisetAccumulator<T, Dictionary<T, long>>(spec)
    where T : notnull
{
    public override void Write(int slot, Column target, int row) => ((Column<long>)target).Values[row] = _sets[slot]?.Count ?? 0;
}
