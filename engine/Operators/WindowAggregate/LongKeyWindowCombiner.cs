using System.Runtime.CompilerServices;
using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Exchange;
using Streams.Engine.State;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>
/// The local (pre-exchange) phase of a two-phase window aggregate, specialised for one BIGINT key with COUNT(*),
/// COUNT(col) and SUM(BIGINT) (no FILTER): what the generic combiner (<see cref="TwoPhaseWindowAggregateOperator.Local"/>)
/// computes, with less work per row. Each row finds its (slice, key) cell through a dense key id and bumps a row count;
/// each SUM then adds its column a pass at a time. After each batch the cells are written straight into one partial
/// batch per downstream task, so the exchange forwards those batches instead of hashing and regathering rows.
/// Rows late by this task's watermark leave raw on the side output, as in the generic combiner.
/// </summary>
internal sealed class LongKeyWindowCombiner : IOperator, ICheckpointableOperator
{
    private const string SnapshotFormat = "long-key-window-combiner/1";

    /// <summary>Keys remembered at most between batches; past it the table starts over (it holds no state between batches).</summary>
    private const int MaxRememberedKeys = 1 << 20;

    private readonly Schema _input;
    private readonly Schema _partialSchema;
    private readonly WindowAggregateSpec _spec;
    private readonly OutputTag _raw;
    private readonly BatchPool _pool;
    private readonly int _batchSize;
    private readonly int _targets;
    private readonly int _keyColumn;
    private readonly int _timeColumn;
    private readonly long _size;
    private readonly long _slide;
    private readonly long _sliceLength;
    private readonly long _offset;
    private readonly LongKeyTable _keys;
    private readonly List<Slice> _slices = [];
    private readonly Stack<Slice> _spareSlices = new();
    private readonly ColumnBatch?[] _out;

    // Per downstream task: rows written into its open batch, and that batch's value arrays (all partial columns are BIGINT/TIMESTAMP).
    private readonly int[] _outRows;
    private readonly long[][][] _outValues;

    // Per aggregate: its input column (-1 for COUNT(*)) and, per cell, the rows it left out (NULL input, SUM overflow).
    private readonly int[] _inputs;
    private readonly bool[] _isSum;

    // The aggregate index of the only SUM (the one-pass path takes it), or -1.
    private readonly int _onlySum;
    private readonly long[][] _sums;
    private readonly long[][] _missing;

    // Cells: one per (slice, key) touched by the current batch, numbered in first-seen order.
    private long[] _rows = new long[1024];
    private int[] _cellKey = new int[1024];
    private Slice[] _cellSlice = new Slice[1024];
    private int _cells;
    private int[] _cellOfRow = [];
    private int[] _late = [];
    private long _watermark = long.MinValue;

    /// <summary>The key id of the NULL key's cells (the key table interns only non-NULL keys).</summary>
    private const int NullKey = -1;

    /// <summary>Creates the combiner; <paramref name="targets"/> is the parallelism of the global phase it feeds.</summary>
    public LongKeyWindowCombiner(Schema input, WindowAggregateSpec spec, OutputTag raw, BatchPool pool, int batchSize, int targets)
    {
        if (!Supports(input, spec))
        {
            throw new ArgumentException("the long-key combiner takes one BIGINT key with COUNT and SUM(BIGINT) only", nameof(spec));
        }

        _input = input;
        _spec = spec;
        _partialSchema = spec.OutputSchema(input);
        _raw = raw;
        _pool = pool;
        _batchSize = batchSize;
        _targets = Math.Max(1, targets);
        _keyColumn = spec.KeyColumns[0];
        _timeColumn = spec.EventTimeColumn;
        _size = spec.Window.SizeMs;
        _slide = spec.Window.SlideMs;
        _sliceLength = Gcd(_size, _slide);
        _offset = spec.Window.OffsetMs;
        _keys = new LongKeyTable(_targets);
        _out = new ColumnBatch?[_targets];
        _outRows = new int[_targets];
        _outValues = Enumerable.Range(0, _targets).Select(_ => new long[_partialSchema.Count][]).ToArray();
        _inputs = spec.Aggregates.Select(a => a.Kind == AggregateKind.CountStar ? -1 : a.InputColumn).ToArray();
        _isSum = spec.Aggregates.Select(a => a.Kind == AggregateKind.Sum).ToArray();
        _onlySum = _isSum.Count(x => x) == 1 ? Array.IndexOf(_isSum, true) : -1;
        _sums = spec.Aggregates.Select(a => a.Kind == AggregateKind.Sum ? new long[1024] : []).ToArray();
        _missing = spec.Aggregates.Select(_ => new long[1024]).ToArray();
    }

    /// <summary>Whether the combiner computes <paramref name="spec"/>: one BIGINT key, tumbling or hopping windows, COUNT(*), COUNT(col), SUM(BIGINT), no FILTER.</summary>
    public static bool Supports(Schema input, WindowAggregateSpec spec) =>
        spec.Window.Kind != WindowKind.Session
        && spec.KeyColumns.Length == 1 && input[spec.KeyColumns[0]].Type == DataType.Int64
        && spec.Aggregates.All(a => a.FilterColumn < 0 && (a.Kind is AggregateKind.CountStar or AggregateKind.Count
            || (a.Kind == AggregateKind.Sum && input[a.InputColumn].Type == DataType.Int64)));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        var n = batch.Count;
        if (_cellOfRow.Length < n)
        {
            _cellOfRow = new int[batch.Capacity];
            _late = new int[batch.Capacity];
        }

        if (_keys.Count > MaxRememberedKeys)
        {
            // Safe between batches: no cell refers to a key id then.
            _keys.Clear();
        }

        var sum = _onlySum;
        var fused = sum >= 0 && !batch.HasFiltered && !batch.Columns[_timeColumn].HasNulls && !batch.Columns[_keyColumn].HasNulls
            && !batch.Columns[_inputs[sum]].HasNulls;
        var lateCount = fused ? AssignCellsAndSum(batch, sum, output) : AssignCells(batch, output);
        for (var a = 0; a < _inputs.Length; a++)
        {
            if (_isSum[a] && !fused)
            {
                AddSum(batch, a, output);
            }
            else if (_inputs[a] >= 0 && batch.Columns[_inputs[a]].HasNulls)
            {
                CountNulls(batch, a);
            }
        }

        if (lateCount > 0)
        {
            var late = batch.Pool.Rent(batch.Schema, batch.Capacity);
            BatchGather.Append(batch, _late.AsSpan(0, lateCount), late);
            output.EmitSide(_raw, late);
        }

        batch.Dispose();
        EmitPartials(output);
    }

    /// <summary>Finds every row's cell (-1: filtered out, late or rejected) and counts the rows per cell.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AssignCells(ColumnBatch batch, IOperatorOutput output)
    {
        var n = batch.Count;
        var tsColumn = batch.ColumnAt<long>(_timeColumn);
        var keyColumn = batch.ColumnAt<long>(_keyColumn);
        var ts = tsColumn.Values;
        var keyValues = keyColumn.Values;
        var cellOfRow = _cellOfRow;
        // Filtered rows and NULLs are rare: one flag keeps their checks off the common path.
        var plain = !batch.HasFiltered && !tsColumn.HasNulls && !keyColumn.HasNulls;
        var keys = _keys;
        var sliceLength = _sliceLength;
        var currentStart = long.MinValue;
        var lateSlice = false;
        Slice? slice = null;
        int[] cellOf = [];
        var rows = _rows;
        var lateCount = 0;
        if (n > ts.Length || n > keyValues.Length || n > cellOfRow.Length)
        {
            ThrowShortColumns();
        }

        for (var i = 0; i < n; i++)
        {
            cellOfRow[i] = -1;
            if (!plain && (!batch.IsLive(i) || tsColumn.IsNull(i)))
            {
                if (batch.IsLive(i))
                {
                    RejectTimestamp(batch, i, output);
                }

                continue;
            }

            var t = ts[i];
            // One unsigned compare keeps rows of the current slice off the division.
            if ((ulong)(t - currentStart) >= (ulong)sliceLength)
            {
                if (!EventTime.IsValid(t))
                {
                    RejectTimestamp(batch, i, output);
                    continue;
                }

                currentStart = FloorTo(t, sliceLength);
                lateSlice = IsLate(currentStart);
                slice = lateSlice ? null : SliceAt(currentStart);
                cellOf = slice?.CellOf ?? [];
            }

            if (lateSlice)
            {
                _late[lateCount++] = i;
                continue;
            }

            int cell;
            if (!plain && keyColumn.IsNull(i))
            {
                cell = slice!.NullCell;
                if (cell < 0)
                {
                    cell = NewCell(slice, NullKey);
                    rows = _rows;
                }
            }
            else
            {
                var id = keys.IdOf(keyValues[i]);
                if ((uint)id >= (uint)cellOf.Length)
                {
                    slice!.EnsureKeys(keys.Count);
                    cellOf = slice.CellOf;
                }

                cell = cellOf[id];
                if (cell < 0)
                {
                    cell = NewCell(slice!, id);
                    rows = _rows;
                }
            }

            rows[cell]++;
            cellOfRow[i] = cell;
        }

        return lateCount;
    }

    /// <summary>
    /// <see cref="AssignCells"/> and <see cref="AddSum"/> in one pass, for the common shape: one SUM, no filtered rows and
    /// no NULL event time, key or SUM input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AssignCellsAndSum(ColumnBatch batch, int sum, IOperatorOutput output)
    {
        var n = batch.Count;
        var ts = batch.ColumnAt<long>(_timeColumn).Values;
        var keyValues = batch.ColumnAt<long>(_keyColumn).Values;
        var values = batch.ColumnAt<long>(_inputs[sum]).Values;
        var cellOfRow = _cellOfRow;
        var keys = _keys;
        var sliceLength = _sliceLength;
        var currentStart = long.MinValue;
        var lateSlice = false;
        Slice? slice = null;
        int[] cellOf = [];
        var rows = _rows;
        var sums = _sums[sum];
        var lateCount = 0;
        if (n > ts.Length || n > keyValues.Length || n > values.Length || n > cellOfRow.Length)
        {
            ThrowShortColumns();
        }

        for (var i = 0; i < n; i++)
        {
            var t = ts[i];
            if ((ulong)(t - currentStart) >= (ulong)sliceLength)
            {
                if (!EventTime.IsValid(t))
                {
                    RejectTimestamp(batch, i, output);
                    cellOfRow[i] = -1;
                    continue;
                }

                currentStart = FloorTo(t, sliceLength);
                lateSlice = IsLate(currentStart);
                slice = lateSlice ? null : SliceAt(currentStart);
                cellOf = slice?.CellOf ?? [];
            }

            if (lateSlice)
            {
                _late[lateCount++] = i;
                cellOfRow[i] = -1;
                continue;
            }

            var id = keys.IdOf(keyValues[i]);
            if ((uint)id >= (uint)cellOf.Length)
            {
                slice!.EnsureKeys(keys.Count);
                cellOf = slice.CellOf;
            }

            var cell = cellOf[id];
            if (cell < 0)
            {
                cell = NewCell(slice!, id);
                rows = _rows;
                sums = _sums[sum];
            }

            rows[cell]++;
            cellOfRow[i] = cell;
            var x = sums[cell];
            var y = values[i];
            var r = x + y;
            if (((x ^ r) & (y ^ r)) < 0)
            {
                _missing[sum][cell]++;
                Overflow(batch, i, sum, output);
                continue;
            }

            sums[cell] = r;
        }

        return lateCount;
    }

    /// <summary>Adds SUM input column of aggregate <paramref name="a"/> into the cells, a column at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddSum(ColumnBatch batch, int a, IOperatorOutput output)
    {
        var n = batch.Count;
        var column = batch.ColumnAt<long>(_inputs[a]);
        var values = column.Values;
        var sums = _sums[a];
        var cellOfRow = _cellOfRow;
        var hasNulls = column.HasNulls;
        if (n > values.Length || n > cellOfRow.Length)
        {
            ThrowShortColumns();
        }

        for (var i = 0; i < n; i++)
        {
            var c = cellOfRow[i];
            if (c < 0)
            {
                continue;
            }

            if (hasNulls && column.IsNull(i))
            {
                _missing[a][c]++;
                continue;
            }

            var x = sums[c];
            var y = values[i];
            var r = x + y;
            if (((x ^ r) & (y ^ r)) < 0)
            {
                // The overflowing row is left out of this sum only; the other aggregates still take it.
                _missing[a][c]++;
                Overflow(batch, i, a, output);
                continue;
            }

            sums[c] = r;
        }
    }

    /// <summary>COUNT(col) over a column with NULLs: the NULL rows are left out of the cell's count.</summary>
    private void CountNulls(ColumnBatch batch, int a)
    {
        var column = batch.Columns[_inputs[a]];
        var missing = _missing[a];
        for (var i = 0; i < batch.Count; i++)
        {
            var c = _cellOfRow[i];
            if (c >= 0 && column.IsNull(i))
            {
                missing[c]++;
            }
        }
    }

    /// <summary>Writes every cell as a partial row into the batch of the task that owns its key, then empties the cells.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EmitPartials(IOperatorOutput output)
    {
        var keyValues = _keys.Keys;
        var targetOf = _keys.TargetOf;
        var aggregates = _inputs.Length;
        var rows = _rows;
        var sums = _sums;
        var missing = _missing;
        var isSum = _isSum;
        var outRows = _outRows;
        var outValues = _outValues;
        for (var c = 0; c < _cells; c++)
        {
            var id = _cellKey[c];
            var isNull = id == NullKey;
            var t = isNull ? _keys.NullTarget : targetOf[id];
            var row = outRows[t];
            var values = outValues[t];
            if (_out[t] is null || row == _batchSize)
            {
                values = NextBatch(t, output);
                row = 0;
            }

            outRows[t] = row + 1;
            var slice = _cellSlice[c];
            values[0][row] = isNull ? 0 : keyValues[id];
            values[1][row] = slice.Start;
            values[2][row] = slice.Start + _sliceLength;
            var taken = rows[c];
            for (var a = 0; a < aggregates; a++)
            {
                var n = taken - missing[a][c];
                if (!isSum[a])
                {
                    values[3 + a][row] = n;
                }
                else if (n == 0)
                {
                    values[3 + a][row] = 0;
                    _out[t]!.Columns[3 + a].SetNull(row);
                }
                else
                {
                    values[3 + a][row] = sums[a][c];
                }
            }

            if (isNull)
            {
                _out[t]!.Columns[0].SetNull(row);
                slice.NullCell = -1;
            }
            else
            {
                slice.CellOf[id] = -1;
            }
        }

        for (var t = 0; t < _out.Length; t++)
        {
            if (_out[t] is { } batch)
            {
                batch.Count = outRows[t];
                _out[t] = null;
                Emit(batch, t, output);
            }
        }

        Array.Clear(_rows, 0, _cells);
        for (var a = 0; a < aggregates; a++)
        {
            Array.Clear(_missing[a], 0, _cells);
            if (_isSum[a])
            {
                Array.Clear(_sums[a], 0, _cells);
            }
        }

        Array.Clear(_cellSlice, 0, _cells);
        _cells = 0;
        foreach (var slice in _slices)
        {
            _spareSlices.Push(slice);
        }

        _slices.Clear();
    }

    private void Emit(ColumnBatch batch, int target, IOperatorOutput output)
    {
        batch.SetExchangeTarget(target, _targets);
        output.Emit(batch);
    }

    /// <summary>Sends task <paramref name="target"/>'s full batch on (if any) and starts a new one; returns its value arrays.</summary>
    private long[][] NextBatch(int target, IOperatorOutput output)
    {
        if (_out[target] is { } full)
        {
            full.Count = _outRows[target];
            Emit(full, target, output);
        }

        var batch = _pool.Rent(_partialSchema, _batchSize);
        _out[target] = batch;
        _outRows[target] = 0;
        var values = _outValues[target];
        for (var c = 0; c < values.Length; c++)
        {
            values[c] = batch.ColumnAt<long>(c).Values;
        }

        return values;
    }

    private int NewCell(Slice slice, int id)
    {
        var cell = _cells++;
        if (cell >= _rows.Length)
        {
            var size = _rows.Length * 2;
            Array.Resize(ref _rows, size);
            Array.Resize(ref _cellKey, size);
            Array.Resize(ref _cellSlice, size);
            for (var a = 0; a < _inputs.Length; a++)
            {
                Array.Resize(ref _missing[a], size);
                if (_isSum[a])
                {
                    Array.Resize(ref _sums[a], size);
                }
            }
        }

        _cellKey[cell] = id;
        _cellSlice[cell] = slice;
        if (id == NullKey)
        {
            slice.NullCell = cell;
        }
        else
        {
            slice.CellOf[id] = cell;
        }

        return cell;
    }

    private Slice SliceAt(long start)
    {
        foreach (var s in _slices)
        {
            if (s.Start == start)
            {
                return s;
            }
        }

        var slice = _spareSlices.TryPop(out var spare) ? spare : new Slice();
        slice.Start = start;
        _slices.Add(slice);
        return slice;
    }

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        _watermark = Math.Max(_watermark, watermark);
        output.EmitWatermark(watermark);
    }

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        // Nothing waits here between batches: the watermark (which rows travel raw) is the whole state.
        SnapshotHeader.Write(writer, SnapshotFormat, _input);
        writer.WriteInt64(_size);
        writer.WriteInt64(_slide);
        writer.WriteInt64(_offset);
        writer.WriteInt64(_watermark);
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        SnapshotHeader.Read(reader, SnapshotFormat, _input);
        var size = reader.ReadInt64();
        var slide = reader.ReadInt64();
        var offset = reader.ReadInt64();
        if (size != _size || slide != _slide || offset != _offset)
        {
            throw new InvalidDataException(
                $"window combiner snapshot is for a window of size {size} ms, slide {slide} ms, offset {offset} ms, " +
                $"but the operator has size {_size} ms, slide {_slide} ms, offset {_offset} ms: the query changed");
        }

        _watermark = reader.ReadInt64();
    }

    /// <summary>True when every window containing the slice starting at <paramref name="sliceStart"/> has fired.</summary>
    private bool IsLate(long sliceStart) => FloorTo(sliceStart, _slide) + _size - 1 + _spec.AllowedLatenessMs <= _watermark;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long FloorTo(long t, long unit)
    {
        var rem = (t - _offset) % unit;
        return t - (rem < 0 ? rem + unit : rem);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RejectTimestamp(ColumnBatch batch, int row, IOperatorOutput output)
    {
        var column = batch.Columns[_timeColumn];
        output.EmitError(batch, row, column.IsNull(row)
            ? $"event time '{batch.Schema[_timeColumn].Name}' is NULL: the row belongs to no window"
            : $"event time {batch.ColumnAt<long>(_timeColumn).Values[row]} ms is outside years 0001-9999");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Overflow(ColumnBatch batch, int row, int a, IOperatorOutput output)
    {
        var spec = _spec.Aggregates[a];
        output.EmitError(batch, row, $"SUM({_input[spec.InputColumn].Name}) overflows BIGINT; the row is left out of '{spec.OutputName}'");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShortColumns() => throw new InvalidOperationException("a column holds fewer values than the batch's row count");

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>One slice touched by the current batch: the cell of each key id and of the NULL key (-1 = none yet).</summary>
    private sealed class Slice
    {
        public long Start { get; set; }

        public int NullCell { get; set; } = -1;

        public int[] CellOf { get; private set; } = Fill(new int[1024]);

        public void EnsureKeys(int keys)
        {
            if (CellOf.Length < keys)
            {
                var grown = Fill(new int[(int)Math.Min(int.MaxValue, Math.Max(keys, (long)CellOf.Length * 2))]);
                CellOf.CopyTo(grown, 0);
                CellOf = grown;
            }
        }

        private static int[] Fill(int[] a)
        {
            Array.Fill(a, -1);
            return a;
        }
    }
}
