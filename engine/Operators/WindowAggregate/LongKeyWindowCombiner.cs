using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Exchange;
using Streams.Engine.State;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>
/// The local (pre-exchange) phase of a two-phase window aggregate, specialised for one BIGINT key with COUNT(*),
/// COUNT(col) and SUM(BIGINT) (no FILTER): what the generic combiner (<see cref="TwoPhaseWindowAggregateOperator.Local"/>)
/// computes, with less work per row. Each slice touched by a batch holds one dense cell per key id (the row count and
/// the sums side by side), so a row costs its key's id and one cell update. After each batch the touched cells are
/// written straight into one partial batch per downstream task, so the exchange forwards those batches instead of
/// hashing and regathering rows. Rows late by this task's watermark leave raw on the side output, as in the generic combiner.
/// </summary>
internal sealed class LongKeyWindowCombiner : IOperator, ICheckpointableOperator
{
    private const string SnapshotFormat = "long-key-window-combiner/1";

    /// <summary>Keys remembered at most between batches; past it the table starts over (it holds no state between batches), which also bounds the slices' cell arrays.</summary>
    private const int MaxRememberedKeys = 1 << 18;

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

    // Per downstream task: rows written into its open batch (all partial columns are BIGINT/TIMESTAMP), and while
    // emitting a slice, how many of its cells go there (the cells themselves in _cellsOf).
    private readonly int[] _outRows;
    private readonly int[] _cellsOfTarget;
    private int[] _cellsOf = [];

    // Per aggregate: its input column (-1 for COUNT(*)) and, for a SUM, its place in a cell (1..), else 0.
    private readonly int[] _inputs;
    private readonly int[] _sumOffset;

    // A cell: the row count, then one sum per SUM aggregate. _firstSum: the aggregate index of the first SUM (-1: none).
    private readonly int _stride;
    private readonly int _firstSum;
    private int[] _late = [];
    private long _watermark = long.MinValue;

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
        _cellsOfTarget = new int[_targets];
        _inputs = spec.Aggregates.Select(a => a.Kind == AggregateKind.CountStar ? -1 : a.InputColumn).ToArray();
        _sumOffset = new int[_inputs.Length];
        _stride = 1;
        for (var a = 0; a < _inputs.Length; a++)
        {
            if (spec.Aggregates[a].Kind == AggregateKind.Sum)
            {
                _sumOffset[a] = _stride++;
            }
        }

        _firstSum = Array.IndexOf(_sumOffset, 1);
    }

    /// <summary>Whether the combiner computes <paramref name="spec"/>: one BIGINT key, tumbling or hopping windows, COUNT(*), COUNT(col), SUM(BIGINT), no FILTER.</summary>
    public static bool Supports(Schema input, WindowAggregateSpec spec) =>
        spec.Window.Kind != WindowKind.Session
        && spec.KeyColumns.Length == 1 && input[spec.KeyColumns[0]].Type == DataType.Int64
        && spec.Aggregates.All(a => a.FilterColumn < 0 && (a.Kind is AggregateKind.CountStar or AggregateKind.Count
            || (a.Kind == AggregateKind.Sum && input[a.InputColumn].Type == DataType.Int64)));

    /// <inheritdoc />
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        if (_late.Length < batch.Count)
        {
            _late = new int[batch.Capacity];
        }

        if (_keys.Count > MaxRememberedKeys)
        {
            // Safe between batches: no cell refers to a key id then.
            _keys.Clear();
        }

        var lateCount = IsPlain(batch) ? Accumulate<OneSumNoNulls>(batch, output) : Accumulate<AnyRows>(batch, output);
        if (lateCount > 0)
        {
            var late = batch.Pool.Rent(batch.Schema, batch.Capacity);
            BatchGather.Append(batch, _late.AsSpan(0, lateCount), late);
            output.EmitSide(_raw, late);
        }

        batch.Dispose();
        EmitPartials(output);
    }

    /// <summary>The common shape: exactly one SUM and no filtered rows or NULLs in the columns the combiner reads.</summary>
    private bool IsPlain(ColumnBatch batch)
    {
        if (_stride != 2 || batch.HasFiltered || batch.Columns[_timeColumn].HasNulls || batch.Columns[_keyColumn].HasNulls)
        {
            return false;
        }

        foreach (var column in _inputs)
        {
            if (column >= 0 && batch.Columns[column].HasNulls)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Row shapes <see cref="Accumulate{TShape}"/> is compiled for; a constant per shape, so the JIT drops the other shape's checks.</summary>
    private interface IRowShape
    {
        /// <summary>No filtered rows, no NULLs, one SUM (cell = count, sum).</summary>
        static abstract bool Plain { get; }
    }

    private struct OneSumNoNulls : IRowShape
    {
        public static bool Plain => true;
    }

    private struct AnyRows : IRowShape
    {
        public static bool Plain => false;
    }

    /// <summary>
    /// Adds every row into the cell of its (slice, key): rows of slices whose windows all fired go to <see cref="_late"/>
    /// (returns how many), rows without a valid event time to the dead letters. One loop for both shapes (see <see cref="IRowShape"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Accumulate<TShape>(ColumnBatch batch, IOperatorOutput output)
        where TShape : struct, IRowShape
    {
        var n = batch.Count;
        var tsColumn = batch.ColumnAt<long>(_timeColumn);
        var keyColumn = batch.ColumnAt<long>(_keyColumn);
        var ts = tsColumn.Values;
        var keyValues = keyColumn.Values;
        var values = TShape.Plain ? batch.ColumnAt<long>(_inputs[_firstSum]).Values : [];
        var keys = _keys;
        var stride = _stride;
        var sliceLength = _sliceLength;
        var currentStart = long.MinValue;
        var lateSlice = false;
        Slice? slice = null;
        long[] cells = [];
        int[] touched = [];
        var touchedCount = 0;
        var lateCount = 0;
        if (n > ts.Length || n > keyValues.Length || (TShape.Plain && n > values.Length))
        {
            ThrowShortColumns();
        }

        for (var i = 0; i < n; i++)
        {
            if (TShape.Plain && slice is not null)
            {
                // The bulk of the rows: the tight loop takes them until a row needs this loop (another slice, a new key, an overflow).
                if (slice.Capacity <= keys.Count)
                {
                    slice.Grow(keys.Count, keys.Count + 1);
                    cells = slice.Cells;
                    touched = slice.Touched;
                }

                i = AddPlainRun(ts, keyValues, values, i, n, currentStart, sliceLength, keys.DirectIds, cells, touched, ref touchedCount);
                if (i >= n)
                {
                    break;
                }
            }

            if (!TShape.Plain && (!batch.IsLive(i) || tsColumn.IsNull(i)))
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

                if (slice is not null)
                {
                    slice.TouchedCount = touchedCount;
                }

                currentStart = FloorTo(t, sliceLength);
                lateSlice = IsLate(currentStart);
                slice = lateSlice ? null : SliceAt(currentStart);
                cells = slice?.Cells ?? [];
                touched = slice?.Touched ?? [];
                touchedCount = slice?.TouchedCount ?? 0;
            }

            if (lateSlice)
            {
                _late[lateCount++] = i;
                continue;
            }

            // Cell index 0 is the NULL key's, key id k's is k + 1.
            var index = !TShape.Plain && keyColumn.IsNull(i) ? 0 : keys.IdOf(keyValues[i]) + 1;
            if ((uint)index >= (uint)slice!.Capacity)
            {
                slice.Grow(index, keys.Count + 1);
                cells = slice.Cells;
                touched = slice.Touched;
            }

            var cell = index * stride;
            var count = cells[cell];
            // Branch-free: the first row of a cell in this batch records it (a branch here mispredicts on every new key).
            touched[touchedCount] = index;
            touchedCount += count == 0 ? 1 : 0;
            cells[cell] = count + 1;
            if (TShape.Plain)
            {
                var x = cells[cell + 1];
                var y = values[i];
                var r = x + y;
                if (((x ^ r) & (y ^ r)) < 0)
                {
                    // The overflowing row is left out of this sum only; the other aggregates still take it.
                    slice.AddMissing(index, _firstSum, _inputs.Length);
                    Overflow(batch, i, _firstSum, output);
                    continue;
                }

                cells[cell + 1] = r;
            }
            else
            {
                AddAggregates(batch, i, slice, index, output);
            }
        }

        if (slice is not null)
        {
            slice.TouchedCount = touchedCount;
        }

        return lateCount;
    }

    /// <summary>
    /// Rows <paramref name="i"/>..<paramref name="n"/>-1 of the plain shape (cell = count, sum) while they fall in the slice
    /// at <paramref name="start"/>, their key has a direct id and their sum does not overflow; returns the first row it
    /// did not take. No calls, no bounds checks and few live values, so the JIT keeps the loop in registers.
    /// The caller guarantees n ≤ the row arrays' lengths and a cell (and a touched entry) for every interned key.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int AddPlainRun(long[] ts, long[] keyValues, long[] values, int i, int n, long start, long sliceLength,
        int[] directIds, long[] cells, int[] touched, ref int touchedCount)
    {
        ref var tsRow = ref MemoryMarshal.GetArrayDataReference(ts);
        ref var keyRow = ref MemoryMarshal.GetArrayDataReference(keyValues);
        ref var valueRow = ref MemoryMarshal.GetArrayDataReference(values);
        ref var direct = ref MemoryMarshal.GetArrayDataReference(directIds);
        ref var cell0 = ref MemoryMarshal.GetArrayDataReference(cells);
        ref var touched0 = ref MemoryMarshal.GetArrayDataReference(touched);
        var directLength = (ulong)directIds.Length;
        var count = touchedCount;
        for (; i < n; i++)
        {
            if ((ulong)(Unsafe.Add(ref tsRow, i) - start) >= (ulong)sliceLength)
            {
                break;
            }

            var key = Unsafe.Add(ref keyRow, i);
            if ((ulong)key >= directLength)
            {
                break;
            }

            // The direct index holds id + 1: exactly the key's cell index (0 = not interned yet). Interned ids are
            // below the slice's capacity (the caller grew it), so the cell and a touched entry exist.
            var index = Unsafe.Add(ref direct, (nint)key);
            if (index == 0)
            {
                break;
            }

            ref var cell = ref Unsafe.Add(ref cell0, index * 2);
            var x = Unsafe.Add(ref cell, 1);
            var y = Unsafe.Add(ref valueRow, i);
            var r = x + y;
            if (((x ^ r) & (y ^ r)) < 0)
            {
                break;
            }

            var rows = cell;
            Unsafe.Add(ref touched0, count) = index;
            count += rows == 0 ? 1 : 0;
            cell = rows + 1;
            Unsafe.Add(ref cell, 1) = r;
        }

        touchedCount = count;
        return i;
    }

    /// <summary>The general shape's aggregates for one row: NULL inputs and SUM overflow are left out of the aggregate (counted as missing).</summary>
    private void AddAggregates(ColumnBatch batch, int row, Slice slice, int index, IOperatorOutput output)
    {
        var cells = slice.Cells;
        for (var a = 0; a < _inputs.Length; a++)
        {
            var input = _inputs[a];
            if (input < 0)
            {
                continue;
            }

            var column = batch.ColumnAt<long>(input);
            if (column.IsNull(row))
            {
                slice.AddMissing(index, a, _inputs.Length);
                continue;
            }

            var offset = _sumOffset[a];
            if (offset == 0)
            {
                continue;
            }

            var cell = index * _stride + offset;
            var x = cells[cell];
            var y = column.Values[row];
            var r = x + y;
            if (((x ^ r) & (y ^ r)) < 0)
            {
                slice.AddMissing(index, a, _inputs.Length);
                Overflow(batch, row, a, output);
                continue;
            }

            cells[cell] = r;
        }
    }

    /// <summary>
    /// Writes every touched cell as a partial row into the batch of the task that owns its key, then empties the slices.
    /// The cells are first sorted into one list per task, so each column is then written by a tight loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EmitPartials(IOperatorOutput output)
    {
        var targetOf = _keys.TargetOf;
        var nullTarget = _keys.NullTarget;
        foreach (var slice in _slices)
        {
            var touched = slice.Touched;
            var touchedCount = slice.TouchedCount;
            Array.Clear(_cellsOfTarget);
            if (_cellsOf.Length < touchedCount * _targets)
            {
                _cellsOf = new int[touchedCount * _targets * 2];
            }

            // Task t's cells go to _cellsOf[t * touchedCount ..].
            var cellsOf = _cellsOf;
            var cellsOfTarget = _cellsOfTarget;
            for (var j = 0; j < touchedCount; j++)
            {
                var index = touched[j];
                var t = index == 0 ? nullTarget : targetOf[index - 1];
                cellsOf[(t * touchedCount) + cellsOfTarget[t]++] = index;
            }

            for (var t = 0; t < _targets; t++)
            {
                var cells = cellsOf.AsSpan(t * touchedCount, cellsOfTarget[t]);
                while (!cells.IsEmpty)
                {
                    if (_out[t] is null || _outRows[t] == _batchSize)
                    {
                        NextBatch(t, output);
                    }

                    var take = Math.Min(cells.Length, _batchSize - _outRows[t]);
                    WriteRows(slice, cells[..take], _out[t]!, _outRows[t]);
                    _outRows[t] += take;
                    cells = cells[take..];
                }
            }

            var stride = _stride;
            var cellValues = slice.Cells;
            for (var j = 0; j < touchedCount; j++)
            {
                var cell = touched[j] * stride;
                for (var k = 0; k < stride; k++)
                {
                    cellValues[cell + k] = 0;
                }
            }

            if (slice.Missing is { } missing)
            {
                for (var j = 0; j < touchedCount; j++)
                {
                    missing.AsSpan(touched[j] * _inputs.Length, _inputs.Length).Clear();
                }
            }

            slice.TouchedCount = 0;
            _spareSlices.Push(slice);
        }

        _slices.Clear();
        for (var t = 0; t < _out.Length; t++)
        {
            if (_out[t] is { } batch)
            {
                batch.Count = _outRows[t];
                _out[t] = null;
                Emit(batch, t, output);
            }
        }
    }

    /// <summary>Writes the partial rows of <paramref name="cells"/> (cell indexes of <paramref name="slice"/>) into rows firstRow.. of <paramref name="target"/>, a column at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteRows(Slice slice, ReadOnlySpan<int> cells, ColumnBatch target, int firstRow)
    {
        var keyValues = _keys.Keys;
        var keys = target.ColumnAt<long>(0).Values.AsSpan(firstRow, cells.Length);
        for (var j = 0; j < cells.Length; j++)
        {
            var index = cells[j];
            if (index == 0)
            {
                keys[j] = 0;
                target.Columns[0].SetNull(firstRow + j);
            }
            else
            {
                keys[j] = keyValues[index - 1];
            }
        }

        target.ColumnAt<long>(1).Values.AsSpan(firstRow, cells.Length).Fill(slice.Start);
        target.ColumnAt<long>(2).Values.AsSpan(firstRow, cells.Length).Fill(slice.Start + _sliceLength);
        var stride = _stride;
        var values = slice.Cells;
        var missing = slice.Missing;
        var aggregates = _inputs.Length;
        for (var a = 0; a < aggregates; a++)
        {
            var column = target.ColumnAt<long>(3 + a);
            var output = column.Values.AsSpan(firstRow, cells.Length);
            var offset = _sumOffset[a];
            for (var j = 0; j < cells.Length; j++)
            {
                var cell = cells[j] * stride;
                // Rows taken by this aggregate: the cell's rows less those it left out (NULL input, SUM overflow).
                var n = missing is null ? values[cell] : values[cell] - missing[(cells[j] * aggregates) + a];
                if (offset == 0)
                {
                    output[j] = n;
                }
                else if (n == 0)
                {
                    output[j] = 0;
                    column.SetNull(firstRow + j);
                }
                else
                {
                    output[j] = values[cell + offset];
                }
            }
        }
    }

    private void Emit(ColumnBatch batch, int target, IOperatorOutput output)
    {
        batch.SetExchangeTarget(target, _targets);
        output.Emit(batch);
    }

    /// <summary>Sends task <paramref name="target"/>'s full batch on (if any) and starts a new one.</summary>
    private void NextBatch(int target, IOperatorOutput output)
    {
        if (_out[target] is { } full)
        {
            full.Count = _outRows[target];
            Emit(full, target, output);
        }

        _out[target] = _pool.Rent(_partialSchema, _batchSize);
        _outRows[target] = 0;
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

        var slice = _spareSlices.TryPop(out var spare) ? spare : new Slice(_stride);
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

    /// <summary>
    /// One slice touched by the current batch: a cell per key (index 0: the NULL key, k + 1: key id k), the cells touched
    /// (in first-seen order) and, once a row is left out of an aggregate, the per-aggregate missing counts.
    /// </summary>
    private sealed class Slice(int stride)
    {
        public long Start { get; set; }

        /// <summary>Cells the arrays hold (key ids + 1).</summary>
        public int Capacity { get; private set; } = 1024;

        public long[] Cells { get; private set; } = new long[1024 * stride];

        /// <summary>The touched cell indexes, one spare entry at the end (the branch-free append writes before it counts).</summary>
        public int[] Touched { get; private set; } = new int[1024 + 1];

        public int TouchedCount { get; set; }

        /// <summary>Rows left out per (cell, aggregate); null until the first one.</summary>
        public long[]? Missing { get; private set; }

        /// <summary>Makes room for cell <paramref name="index"/> (and at least <paramref name="cells"/> cells).</summary>
        public void Grow(int index, int cells)
        {
            var capacity = (int)Math.Min(int.MaxValue / stride - 1, Math.Max(Math.Max(index + 1, cells), 2L * Capacity));
            var grown = new long[capacity * stride];
            Cells.CopyTo(grown, 0);
            Cells = grown;
            var touched = new int[capacity + 1];
            Touched.CopyTo(touched, 0);
            Touched = touched;
            if (Missing is not null)
            {
                var missing = new long[capacity * (Missing.Length / Capacity)];
                Missing.CopyTo(missing, 0);
                Missing = missing;
            }

            Capacity = capacity;
        }

        /// <summary>Counts a row of cell <paramref name="index"/> left out of aggregate <paramref name="a"/> (of <paramref name="aggregates"/>).</summary>
        public void AddMissing(int index, int a, int aggregates)
        {
            Missing ??= new long[Capacity * aggregates];
            Missing[index * aggregates + a]++;
        }
    }
}
