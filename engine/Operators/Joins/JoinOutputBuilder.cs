using System.Runtime.CompilerServices;
using Streams.Engine.Data;

namespace Streams.Engine.Operators.Joins;

/// <summary>
/// Assembles joined rows (left columns, right columns, optional extra columns) into pooled output batches and emits a batch
/// when it is full or when the operator flushes at the end of a call. Rows are copied column by column; nothing is allocated
/// per row.
/// </summary>
internal sealed class JoinOutputBuilder(Schema schema, int leftWidth, int rightWidth, int capacity = BatchPool.DefaultCapacity)
{
    private ColumnBatch? _current;
    private IOperatorOutput? _output;
    private BatchPool _pool = BatchPool.Shared;
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
    private ColumnBatch Current()
    {
        if (_current is null)
        {
            _current = _pool.Rent(Schema, capacity);
            _row = 0;
        }

        return _current;
    }

    public void LeftFrom(ColumnBatch batch, int row)
    {
        var target = Current();
        var src = batch.Columns;
        var dst = target.Columns;
        for (var c = 0; c < leftWidth; c++)
        {
            src[c].CopyRowTo(row, dst[c], _row);
        }
    }

    public void LeftFrom(RowArena arena, int slot) => arena.CopyTo(slot, Current(), _row, 0);

    public void RightFrom(ColumnBatch batch, int row)
    {
        var target = Current();
        var src = batch.Columns;
        var dst = target.Columns;
        for (var c = 0; c < rightWidth; c++)
        {
            src[c].CopyRowTo(row, dst[leftWidth + c], _row);
        }
    }

    public void RightFrom(RowArena arena, int slot) => arena.CopyTo(slot, Current(), _row, leftWidth);

    public void RightNull()
    {
        var dst = Current().Columns;
        for (var c = 0; c < rightWidth; c++)
        {
            dst[leftWidth + c].SetBoxed(_row, null);
        }
    }

    /// <summary>Sets extra column <paramref name="column"/> (absolute index) of the current row to a long/timestamp.</summary>
    public void SetInt64(int column, long value)
    {
        var col = Current().ColumnAt<long>(column);
        col.Values[_row] = value;
        col.SetNull(_row, false);
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
            _current = null;
            _output!.Emit(target);
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

        _current = null;
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
