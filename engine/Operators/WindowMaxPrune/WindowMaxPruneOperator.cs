using System.Runtime.CompilerServices;
using Streams.Engine.Data;
using Streams.Engine.Runtime;

namespace Streams.Engine.Operators.WindowMaxPrune;

/// <summary>
/// "The rows with the highest value of their tumbling window" without joining the stream to its own aggregate (Nexmark
/// q7: <c>bid JOIN (SELECT MAX(price), window_end ... TUMBLE) ON price = maxprice AND dateTime BETWEEN window_end - size
/// AND window_end</c>). Each row updates its window's running maximum; only rows equal to it are kept. When the watermark
/// reaches a window's end, it emits every row r with <c>window_end - size &lt;= r.time &lt;= window_end</c> and
/// <c>r.value = MAX(value)</c> of the window, as the join would: the window's own rows at the maximum and the rows at
/// exactly window_end (the next window's first instant, inclusive in BETWEEN).
/// <para>
/// Output: the input columns, then the window's maximum (BIGINT) and window_end (TIMESTAMP); append-only; one task must see
/// every row (the maximum is global). Rows with a NULL value match nothing and are dropped, as the join drops them; a NULL
/// or out-of-range time, a retraction, or a row of a window that already fired goes to the dead-letter output. The output
/// watermark is held back by the window size, so emitted rows are never late downstream.
/// </para>
/// </summary>
public sealed partial class WindowMaxPruneOperator : IOperator
{
    private readonly int _time;
    private readonly int _value;
    private readonly long _size;
    private readonly long _offset;
    private readonly Schema _input;
    private readonly BatchPool _pool;
    private readonly int _batchSize;
    private readonly WindowMaxPruneState _state;

    /// <summary>Creates the operator.</summary>
    /// <param name="input">The input schema.</param>
    /// <param name="timeColumn">The event-time column windows are assigned by.</param>
    /// <param name="valueColumn">The BIGINT or INT column whose maximum is looked for.</param>
    /// <param name="sizeMs">The tumbling window size.</param>
    /// <param name="pool">Where output batches come from.</param>
    /// <param name="offsetMs">Shift of window starts from the epoch.</param>
    /// <param name="batchSize">Rows per output batch.</param>
    public WindowMaxPruneOperator(Schema input, int timeColumn, int valueColumn, long sizeMs, BatchPool pool, long offsetMs = 0, int batchSize = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(pool);
        if (timeColumn < 0 || timeColumn >= input.Count || input[timeColumn].Type != DataType.Timestamp)
        {
            throw new ArgumentException($"window max: time column {timeColumn} is not a TIMESTAMP column of {input}");
        }

        if (valueColumn < 0 || valueColumn >= input.Count || input[valueColumn].Type is not (DataType.Int64 or DataType.Int32))
        {
            throw new ArgumentException($"window max: value column {valueColumn} is not a BIGINT or INT column of {input}");
        }

        if (sizeMs <= 0)
        {
            throw new ArgumentException($"window max: window size {sizeMs} ms must be positive");
        }

        _input = input;
        _time = timeColumn;
        _value = valueColumn;
        _size = sizeMs;
        _offset = offsetMs;
        _pool = pool;
        _batchSize = batchSize;
        _state = new WindowMaxPruneState(input);
        OutputSchema = new Schema(input.Fields.Append(new Field("max", DataType.Int64, false)).Append(new Field("window_end", DataType.Timestamp, false)), input.EventTimeIndex);
    }

    /// <summary>Input columns, the maximum, window_end.</summary>
    public Schema OutputSchema { get; }

    /// <summary>Rows held in state (metric, tests).</summary>
    public int StateRowCount => _state.Rows.Count;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        var times = batch.ColumnAt<long>(_time);
        var valueColumn = batch.Columns[_value];
        var longs = valueColumn as Column<long>;
        var ints = valueColumn as Column<int>;
        WindowMaxPruneState.OpenWindow? window = null;
        var start = long.MinValue;
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i) || valueColumn.IsNull(i))
            {
                continue;
            }

            var t = times.Values[i];
            if (batch.KindOf(i) is not (RowKind.Insert or RowKind.UpdateAfter) || times.IsNull(i) || !EventTime.IsValid(t))
            {
                Reject(batch, i, output);
                continue;
            }

            // One unsigned compare keeps rows of the current window off the division.
            if ((ulong)(t - start) >= (ulong)_size)
            {
                start = FloorTo(t);
                if (start + _size <= _state.FiredUpTo)
                {
                    output.EmitError(batch, i, $"window max: late row at {t} ms, its window ended at {start + _size} ms and has fired");
                    start = long.MinValue;
                    continue;
                }

                window = WindowAt(start);
            }

            var v = longs is not null ? longs.Values[i] : ints!.Values[i];
            var w = window!;
            if (t == start)
            {
                // The previous window's BETWEEN includes its end: keep every row at the start, whatever its value.
                w.StartRows.Add(_state.Rows.Add(batch, i));
                if (!w.HasMax || v > w.Max)
                {
                    Raise(w, v);
                }

                continue;
            }

            if (w.HasMax && v < w.Max)
            {
                continue;
            }

            if (!w.HasMax || v > w.Max)
            {
                Raise(w, v);
            }

            w.MaxRows.Add(_state.Rows.Add(batch, i));
        }

        batch.Dispose();
    }

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Fire(watermark, output);
        // Rows of a window fire once the watermark passes its end but are as old as its start.
        output.EmitWatermark(watermark == long.MaxValue || watermark < long.MinValue + _size + 1 ? watermark : watermark - _size - 1);
    }

    /// <inheritdoc />
    public void OnEndOfInput(IOperatorOutput output) => Fire(long.MaxValue, output);

    private void Raise(WindowMaxPruneState.OpenWindow w, long v)
    {
        w.HasMax = true;
        w.Max = v;
        foreach (var slot in w.MaxRows)
        {
            _state.Rows.Free(slot);
        }

        w.MaxRows.Clear();
    }

    private WindowMaxPruneState.OpenWindow WindowAt(long start)
    {
        var windows = _state.Windows;
        var at = windows.Count;
        while (at > 0 && windows[at - 1].Start >= start)
        {
            if (windows[at - 1].Start == start)
            {
                return windows[at - 1];
            }

            at--;
        }

        var w = _state.Spare.Count > 0 ? _state.Spare.Pop() : new WindowMaxPruneState.OpenWindow();
        w.Start = start;
        w.HasMax = false;
        windows.Insert(at, w);
        return w;
    }

    /// <summary>Fires every window whose end is at or below <paramref name="watermark"/>: all rows at its end have arrived.</summary>
    private void Fire(long watermark, IOperatorOutput output)
    {
        var windows = _state.Windows;
        ColumnBatch? result = null;
        while (windows.Count > 0 && windows[0].Start + _size <= watermark)
        {
            var w = windows[0];
            var end = w.Start + _size;
            if (w.HasMax)
            {
                foreach (var slot in w.MaxRows)
                {
                    Append(ref result, slot, w.Max, end, output);
                }

                AppendAtMax(ref result, w.StartRows, w, end, output);
                if (windows.Count > 1 && windows[1].Start == end)
                {
                    AppendAtMax(ref result, windows[1].StartRows, w, end, output);
                }
            }

            foreach (var slot in w.MaxRows)
            {
                _state.Rows.Free(slot);
            }

            foreach (var slot in w.StartRows)
            {
                _state.Rows.Free(slot);
            }

            w.MaxRows.Clear();
            w.StartRows.Clear();
            windows.RemoveAt(0);
            _state.Spare.Push(w);
            _state.FiredUpTo = Math.Max(_state.FiredUpTo, end);
        }

        if (result is not null)
        {
            output.Emit(result);
        }
    }

    private void AppendAtMax(ref ColumnBatch? result, List<int> slots, WindowMaxPruneState.OpenWindow w, long end, IOperatorOutput output)
    {
        var values = _state.Rows.Columns[_value];
        foreach (var slot in slots)
        {
            var v = values is Joins.ArenaColumn<long> l ? l.Values[slot] : ((Joins.ArenaColumn<int>)values).Values[slot];
            if (v == w.Max)
            {
                Append(ref result, slot, w.Max, end, output);
            }
        }
    }

    private void Append(ref ColumnBatch? result, int slot, long max, long end, IOperatorOutput output)
    {
        if (result is not null && result.IsFull)
        {
            output.Emit(result);
            result = null;
        }

        result ??= _pool.Rent(OutputSchema, _batchSize);
        var row = result.Count;
        _state.Rows.CopyTo(slot, result, row, 0);
        var k = _input.Count;
        result.ColumnAt<long>(k).Values[row] = max;
        result.ColumnAt<long>(k + 1).Values[row] = end;
        result.Count = row + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long FloorTo(long t)
    {
        var rem = (t - _offset) % _size;
        return t - (rem < 0 ? rem + _size : rem);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Reject(ColumnBatch batch, int row, IOperatorOutput output)
    {
        var kind = batch.KindOf(row);
        output.EmitError(batch, row, kind is not (RowKind.Insert or RowKind.UpdateAfter)
            ? $"window max: input must be append-only, got a {kind} row"
            : $"window max: event time '{_input[_time].Name}' is NULL or outside years 0001-9999");
    }
}
