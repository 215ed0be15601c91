using System.Numerics;
using System.Runtime.CompilerServices;
using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.State;

namespace Streams.Engine.Operators.OverAggregate;

/// <summary>
/// One aggregate of one partition's frame. Rows enter at the back in event-time order and, for bounded frames, leave
/// from the front in the same order, so COUNT/SUM/AVG keep the frame's values to subtract them again and MIN/MAX keep
/// a monotonic deque of the candidates that can still become the extreme.
/// </summary>
internal abstract class OverAccumulator
{
    /// <summary>Adds row <paramref name="row"/> of <paramref name="batch"/>, the <paramref name="seq"/>-th row of the partition.</summary>
    public abstract void Add(ColumnBatch batch, int row, long seq);

    /// <summary>Removes the oldest row of the frame, the <paramref name="seq"/>-th of the partition.</summary>
    public abstract void EvictOldest(long seq);

    /// <summary>Writes the aggregate over the current frame into row <paramref name="row"/> of <paramref name="target"/>.</summary>
    public abstract void Write(Column target, int row);

    public abstract void Snapshot(IStateSnapshotWriter writer);

    public abstract void Restore(IStateSnapshotReader reader);

    /// <summary>Creates the accumulator for <paramref name="spec"/> over <paramref name="input"/>; unbounded frames keep no rows.</summary>
    public static OverAccumulator Create(AggregateSpec spec, Schema input, bool bounded)
    {
        var type = spec.Kind == AggregateKind.CountStar ? DataType.Int64 : input[spec.InputColumn].Type;
        return spec.Kind switch
        {
            AggregateKind.Count or AggregateKind.CountStar => new OverCount(spec, bounded),
            AggregateKind.Sum or AggregateKind.Avg => type switch
            {
                DataType.Double => new OverSum<double>(spec, bounded),
                DataType.Decimal => new OverSum<decimal>(spec, bounded),
                _ => new OverSum<long>(spec, bounded),
            },
            AggregateKind.Min or AggregateKind.Max => type switch
            {
                DataType.Double => new OverMinMax<double>(spec, bounded),
                DataType.Decimal => new OverMinMax<decimal>(spec, bounded),
                _ => new OverMinMax<long>(spec, bounded),
            },
            _ => throw new ArgumentException($"aggregate '{spec.OutputName}': {spec.Kind} is not computed over OVER frames"),
        };
    }

    /// <summary>True when the row takes part in the aggregate: its FILTER holds and (except COUNT(*)) its input is not NULL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static bool Counts(AggregateSpec spec, ColumnBatch batch, int row)
    {
        if (spec.FilterColumn >= 0)
        {
            var filter = batch.ColumnAt<bool>(spec.FilterColumn);
            if (filter.IsNull(row) || !filter.Values[row])
            {
                return false;
            }
        }

        return spec.InputColumn < 0 || !batch.Columns[spec.InputColumn].IsNull(row);
    }

    /// <summary>Reads a number stored as int, long (BIGINT, TIMESTAMP), double or decimal as <typeparamref name="T"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static T Read<T>(Column column, int row)
        where T : struct, INumber<T>
    {
        if (typeof(T) == typeof(long))
        {
            var v = column is Column<int> ints ? ints.Values[row] : ((Column<long>)column).Values[row];
            return Unsafe.As<long, T>(ref v);
        }

        return ((Column<T>)column).Values[row];
    }

    /// <summary>Writes <paramref name="value"/> into a column of the aggregate's output type (INT for an INT input's AVG, MIN, MAX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static void Store<T>(Column target, int row, T value)
        where T : struct, INumber<T>
    {
        if (target is Column<int> ints)
        {
            ints.Values[row] = int.CreateTruncating(value);
        }
        else
        {
            ((Column<T>)target).Values[row] = value;
        }
    }

    protected static void WriteOne<T>(IStateSnapshotWriter writer, T value)
        where T : unmanaged => writer.WriteValues(new ReadOnlySpan<T>(in value));
}

/// <summary>COUNT(*) and COUNT(x): how many rows of the frame count.</summary>
internal sealed class OverCount(AggregateSpec spec, bool bounded) : OverAccumulator
{
    private readonly FrameRing<bool>? _frame = bounded ? new FrameRing<bool>() : null;
    private long _count;

    public override void Add(ColumnBatch batch, int row, long seq)
    {
        var counts = Counts(spec, batch, row);
        _frame?.PushBack(counts);
        _count += counts ? 1 : 0;
    }

    public override void EvictOldest(long seq)
    {
        _count -= _frame!.Front ? 1 : 0;
        _frame.PopFront();
    }

    public override void Write(Column target, int row) => ((Column<long>)target).Values[row] = _count;

    public override void Snapshot(IStateSnapshotWriter writer)
    {
        writer.WriteInt64(_count);
        writer.WriteValues<bool>(_frame is null ? [] : _frame.ToArray());
    }

    public override void Restore(IStateSnapshotReader reader)
    {
        _count = reader.ReadInt64();
        var frame = reader.ReadValues<bool>();
        _frame?.Load(frame);
    }
}

/// <summary>SUM(x) and AVG(x): a running sum and count; bounded frames subtract the rows that leave.</summary>
internal sealed class OverSum<T>(AggregateSpec spec, bool bounded) : OverAccumulator
    where T : unmanaged, INumber<T>
{
    private readonly FrameRing<T>? _values = bounded ? new FrameRing<T>() : null;
    private readonly FrameRing<bool>? _present = bounded ? new FrameRing<bool>() : null;
    private T _sum;
    private long _count;
    private int _evictedSinceExact;

    public override void Add(ColumnBatch batch, int row, long seq)
    {
        var counts = Counts(spec, batch, row);
        var value = counts ? Read<T>(batch.Columns[spec.InputColumn], row) : T.Zero;
        if (_values is not null)
        {
            _values.PushBack(value);
            _present!.PushBack(counts);
        }

        if (counts)
        {
            _sum += value;
            _count++;
        }
    }

    public override void EvictOldest(long seq)
    {
        if (_present!.Front)
        {
            _sum -= _values!.Front;
            _count--;
        }

        _present.PopFront();
        _values!.PopFront();
        if (typeof(T) == typeof(double) && ++_evictedSinceExact >= _values.Count)
        {
            // Subtracting doubles leaves rounding residue that would drift forever in a frame that never empties:
            // once per frame turnover the sum is recomputed from the frame (amortised O(1) per row).
            _evictedSinceExact = 0;
            _sum = T.Zero;
            for (var i = 0; i < _values.Count; i++)
            {
                if (_present[i])
                {
                    _sum += _values[i];
                }
            }
        }
    }

    public override void Write(Column target, int row)
    {
        if (_count == 0)
        {
            target.SetNull(row);
            return;
        }

        Store(target, row, spec.Kind == AggregateKind.Avg ? _sum / T.CreateTruncating(_count) : _sum);
    }

    public override void Snapshot(IStateSnapshotWriter writer)
    {
        WriteOne(writer, _sum);
        writer.WriteInt64(_count);
        writer.WriteInt32(_evictedSinceExact);
        writer.WriteValues<T>(_values is null ? [] : _values.ToArray());
        writer.WriteValues<bool>(_present is null ? [] : _present.ToArray());
    }

    public override void Restore(IStateSnapshotReader reader)
    {
        _sum = reader.ReadValues<T>()[0];
        _count = reader.ReadInt64();
        _evictedSinceExact = reader.ReadInt32();
        var values = reader.ReadValues<T>();
        var present = reader.ReadValues<bool>();
        _values?.Load(values);
        _present?.Load(present);
    }
}

/// <summary>
/// MIN(x) and MAX(x). Unbounded frames keep the extreme; bounded ones a deque of (row, value) whose values strictly
/// improve from back to front: a new value drops every older candidate it beats, which can never be the extreme again.
/// </summary>
internal sealed class OverMinMax<T>(AggregateSpec spec, bool bounded) : OverAccumulator
    where T : unmanaged, INumber<T>
{
    private readonly bool _max = spec.Kind == AggregateKind.Max;
    private readonly FrameRing<long>? _seqs = bounded ? new FrameRing<long>() : null;
    private readonly FrameRing<T>? _candidates = bounded ? new FrameRing<T>() : null;
    private bool _has;
    private T _best;

    public override void Add(ColumnBatch batch, int row, long seq)
    {
        if (!Counts(spec, batch, row))
        {
            return;
        }

        var value = Read<T>(batch.Columns[spec.InputColumn], row);
        if (_candidates is null)
        {
            if (!_has || (_max ? value > _best : value < _best))
            {
                _best = value;
                _has = true;
            }

            return;
        }

        while (_candidates.Count > 0 && (_max ? _candidates.Back <= value : _candidates.Back >= value))
        {
            _candidates.PopBack();
            _seqs!.PopBack();
        }

        _candidates.PushBack(value);
        _seqs!.PushBack(seq);
    }

    public override void EvictOldest(long seq)
    {
        if (_seqs!.Count > 0 && _seqs.Front <= seq)
        {
            _seqs.PopFront();
            _candidates!.PopFront();
        }
    }

    public override void Write(Column target, int row)
    {
        if (_candidates is not null)
        {
            if (_candidates.Count == 0)
            {
                target.SetNull(row);
            }
            else
            {
                Store(target, row, _candidates.Front);
            }

            return;
        }

        if (!_has)
        {
            target.SetNull(row);
            return;
        }

        Store(target, row, _best);
    }

    public override void Snapshot(IStateSnapshotWriter writer)
    {
        writer.WriteBoolean(_has);
        WriteOne(writer, _best);
        writer.WriteValues<long>(_seqs is null ? [] : _seqs.ToArray());
        writer.WriteValues<T>(_candidates is null ? [] : _candidates.ToArray());
    }

    public override void Restore(IStateSnapshotReader reader)
    {
        _has = reader.ReadBoolean();
        _best = reader.ReadValues<T>()[0];
        var seqs = reader.ReadValues<long>();
        var candidates = reader.ReadValues<T>();
        _seqs?.Load(seqs);
        _candidates?.Load(candidates);
    }
}
