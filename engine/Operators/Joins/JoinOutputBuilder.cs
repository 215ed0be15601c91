using System.Runtime.CompilerServices;
using Streams.Engine.Data;

namespace Streams.Engine.Operators.Joins;

/// <summary>
/// Assembles joined rows (left columns, right columns, optional extra columns) into pooled output batches.
/// Rows are recorded as source indexes and copied later column by column in typed loops (a gather per column), which is far
/// cheaper than copying cell by cell. Consecutive rows that take their left part from the same source (an input batch or a
/// row arena) and their right part from the same source form one segment, gathered in one go.
/// <para>
/// Because recorded arena slots are read only when the segment is gathered, an operator must call <see cref="Settle"/>
/// before it frees arena slots that rows emitted since the last settle refer to. Emitting full batches and
/// <see cref="Flush"/> settle too.
/// </para>
/// </summary>
internal sealed class JoinOutputBuilder(Schema schema, int leftWidth, int rightWidth, int capacity = BatchPool.DefaultCapacity)
{
    private static readonly object NullSource = new();
    private readonly int[] _left = new int[capacity];
    private readonly int[] _right = new int[capacity];
    private ColumnBatch? _current;
    private IOperatorOutput? _output;
    private BatchPool _pool = BatchPool.Shared;
    private object? _leftSource;
    private object? _rightSource;
    private int _segmentStart;
    private int _row;

    public Schema Schema { get; } = schema;

    /// <summary>Rows emitted so far (metric).</summary>
    public long RowsEmitted { get; private set; }

    /// <summary>Directs output to <paramref name="output"/>, renting from <paramref name="pool"/> (the input's pool).</summary>
    public void Bind(IOperatorOutput output, BatchPool? pool)
    {
        _output = output;
        if (pool is not null)
        {
            _pool = pool;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureBatch()
    {
        if (_current is null)
        {
            _current = _pool.Rent(Schema, capacity);
            _row = 0;
            _segmentStart = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Left(object source, int index)
    {
        EnsureBatch();
        if (!ReferenceEquals(source, _leftSource))
        {
            Settle();
            _leftSource = source;
        }

        _left[_row] = index;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Right(object source, int index)
    {
        if (!ReferenceEquals(source, _rightSource))
        {
            // Rows before this one are complete; this row's left part shares the new segment's left source.
            SettleBefore(_row);
            _rightSource = source;
        }

        _right[_row] = index;
    }

    public void LeftFrom(ColumnBatch batch, int row) => Left(batch, row);

    public void LeftFrom(RowArena arena, int slot) => Left(arena, slot);

    public void RightFrom(ColumnBatch batch, int row) => Right(batch, row);

    public void RightFrom(RowArena arena, int slot) => Right(arena, slot);

    public void RightNull() => Right(NullSource, -1);

    /// <summary>Sets extra column <paramref name="column"/> (absolute index) of the current row to a long/timestamp.</summary>
    public void SetInt64(int column, long value)
    {
        var col = _current!.ColumnAt<long>(column);
        col.Values[_row] = value;
    }

    /// <summary>Finishes the current row with <paramref name="kind"/>; emits the batch when full.</summary>
    public void EndRow(RowKind kind = RowKind.Insert)
    {
        var target = _current!;
        target.SetKind(_row, kind);
        _row++;
        target.Count = _row;
        RowsEmitted++;
        if (_row == target.Capacity)
        {
            Settle();
            _current = null;
            _output!.Emit(target);
        }
    }

    /// <summary>Copies every recorded row into the output batch, so the sources may change afterwards.</summary>
    public void Settle() => SettleBefore(_row);

    private void SettleBefore(int end)
    {
        var target = _current;
        if (target is null || end <= _segmentStart)
        {
            _segmentStart = Math.Max(_segmentStart, end);
            return;
        }

        var from = _segmentStart;
        var cols = target.Columns;
        Gather(_leftSource, _left, from, end, cols, 0, leftWidth);
        Gather(_rightSource, _right, from, end, cols, leftWidth, rightWidth);
        _segmentStart = end;
    }

    private static void Gather(object? source, int[] index, int from, int to, Column[] target, int first, int width)
    {
        switch (source)
        {
            case RowArena arena:
                for (var c = 0; c < width; c++)
                {
                    arena.Columns[c].GatherTo(index, from, to, target[first + c]);
                }

                break;
            case ColumnBatch batch:
                for (var c = 0; c < width; c++)
                {
                    GatherColumn(batch.Columns[c], index, from, to, target[first + c]);
                }

                break;
            default:
                for (var c = 0; c < width; c++)
                {
                    var t = target[first + c];
                    for (var i = from; i < to; i++)
                    {
                        t.SetBoxed(i, null);
                    }
                }

                break;
        }
    }

    private static void GatherColumn(Column source, int[] index, int from, int to, Column target)
    {
        switch (source)
        {
            case Column<long> s: GatherValues(s, index, from, to, (Column<long>)target); break;
            case Column<int> s: GatherValues(s, index, from, to, (Column<int>)target); break;
            case Column<double> s: GatherValues(s, index, from, to, (Column<double>)target); break;
            case Column<bool> s: GatherValues(s, index, from, to, (Column<bool>)target); break;
            case Column<decimal> s: GatherValues(s, index, from, to, (Column<decimal>)target); break;
            case Column<string?> s: GatherValues(s, index, from, to, (Column<string?>)target); break;
            default:
                for (var i = from; i < to; i++)
                {
                    source.CopyRowTo(index[i], target, i);
                }

                break;
        }
    }

    private static void GatherValues<T>(Column<T> source, int[] index, int from, int to, Column<T> target)
    {
        var src = source.Values;
        var dst = target.Values;
        for (var i = from; i < to; i++)
        {
            dst[i] = src[index[i]];
        }

        if (source.HasNulls)
        {
            for (var i = from; i < to; i++)
            {
                if (source.IsNull(index[i]))
                {
                    target.SetNull(i);
                }
            }
        }
    }

    /// <summary>Emits the partly filled batch, if any.</summary>
    public void Flush()
    {
        var target = _current;
        if (target is null)
        {
            return;
        }

        Settle();
        _current = null;
        // Sources are per call: forget them so a recycled batch or arena is never mistaken for the same source.
        _leftSource = null;
        _rightSource = null;
        if (target.Count > 0)
        {
            _output!.Emit(target);
        }
        else
        {
            target.Dispose();
        }
    }
}
