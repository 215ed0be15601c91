using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Exchange;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>
/// Keyed tumbling or hopping window aggregate over event time. Each row lands in one slice (a tumbling window, or a
/// pane of gcd(slide, size) for hopping windows) chosen by arithmetic; its key becomes a dense id and the aggregates
/// update typed arrays a column at a time. When the watermark reaches a window's end − 1 + allowed lateness the window
/// fires once: one row per key (keys..., window_start, window_end, aggregates...). Rows whose windows all fired
/// already go to the late side output (<see cref="LateTag"/>).
/// </summary>
public sealed partial class WindowAggregateOperator : IOperator
{
    private readonly WindowAggregateSpec _spec;
    private readonly Schema _outputSchema;
    private readonly WindowAggregateState _state;
    private readonly BatchPool _pool;
    private readonly int _batchSize;
    private readonly long _size;
    private readonly long _slide;
    private readonly long _sliceLength;
    private readonly long _offset;
    private int[] _ids = [];
    private int[] _slots = [];
    private int[] _late = [];
    private int[] _mergeSlotByKey = [];
    private int[] _slotScratch = [];
    private int[] _mergeFrom = [];
    private int[] _mergeInto = [];
    private readonly List<int> _mergeKeys = [];
    private readonly List<long> _expired = [];
    private long _emittedWatermark = long.MinValue;
    private readonly bool _combiner;
    private readonly int _fusedKeyColumn;
    private readonly CountAccumulator[] _fusedCounts = [];
    private readonly IntegerSumAccumulator<long>[] _fusedSums = [];

    /// <summary>Creates the operator for rows of <paramref name="input"/>; output batches come from <paramref name="pool"/>.</summary>
    public WindowAggregateOperator(Schema input, WindowAggregateSpec spec, OutputTag lateTag, BatchPool pool, int batchSize = BatchPool.DefaultCapacity)
        : this(input, spec, lateTag, pool, batchSize, null)
    {
    }

    /// <summary>Creates the operator, emitting batches of <paramref name="outputSchema"/> (same column types as the spec's).</summary>
    internal WindowAggregateOperator(Schema input, WindowAggregateSpec spec, OutputTag lateTag, BatchPool pool, int batchSize, Schema? outputSchema, bool combiner = false)
    {
        _combiner = combiner;
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Window.Kind == WindowKind.Session)
        {
            throw new ArgumentException("session windows are computed by SessionWindowOperator", nameof(spec));
        }

        _spec = spec;
        _outputSchema = outputSchema ?? spec.OutputSchema(input);
        _state = new WindowAggregateState(input, spec);
        LateTag = lateTag;
        _pool = pool;
        _batchSize = batchSize;
        _size = spec.Window.SizeMs;
        _slide = spec.Window.SlideMs;
        _sliceLength = Gcd(_size, _slide);
        _offset = spec.Window.OffsetMs;
        _fusedKeyColumn = -1;
        var accumulators = _state.Slots.Accumulators;
        var counts = accumulators.OfType<CountAccumulator>().Where(c => c.CountsEveryRow).ToArray();
        var sums = accumulators.OfType<IntegerSumAccumulator<long>>().Where(a => a.IsPlainLongSum).ToArray();
        if (_state.Keys.SingleLongColumn >= 0 && counts.Length <= 1 && sums.Length <= 2 && counts.Length + sums.Length == accumulators.Length)
        {
            // One BIGINT key with COUNT(*) and up to two SUM(BIGINT) (the global phase sums two partial columns): key lookup, slot and accumulation run in one pass.
            _fusedKeyColumn = _state.Keys.SingleLongColumn;
            _fusedCounts = counts;
            _fusedSums = sums;
        }
    }

    /// <summary>The side output late rows go to (input schema).</summary>
    public OutputTag LateTag { get; }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        var n = batch.Count;
        if (_ids.Length < n)
        {
            _ids = new int[batch.Capacity];
            _slots = new int[batch.Capacity];
            _late = new int[batch.Capacity];
        }

        if (_fusedKeyColumn >= 0 && !batch.HasFiltered && !batch.Columns[_fusedKeyColumn].HasNulls
            && !batch.Columns[_spec.EventTimeColumn].HasNulls && !SumInputsHaveNulls(batch))
        {
            OnBatchFused(batch, output);
            return;
        }

        var ids = _ids;
        var slots = _slots;
        _state.Keys.Lookup(batch, ids);
        var keyCount = _state.Keys.Count;
        var tsColumn = batch.ColumnAt<long>(_spec.EventTimeColumn);
        var ts = tsColumn.Values;
        var checkNulls = tsColumn.HasNulls;
        var sliceLength = _sliceLength;
        var currentStart = long.MinValue;
        WindowAggregateState.Slice? slice = null;
        var lateSlice = false;
        var lateCount = 0;
        for (var i = 0; i < n; i++)
        {
            var id = ids[i];
            if (id < 0)
            {
                slots[i] = -1;
                continue;
            }

            var t = ts[i];
            // One unsigned compare keeps rows of the current slice off the division.
            if ((ulong)(t - currentStart) >= (ulong)sliceLength)
            {
                if ((checkNulls && tsColumn.IsNull(i)) || !EventTime.IsValid(t))
                {
                    RejectTimestamp(batch, i, output);
                    slots[i] = -1;
                    continue;
                }

                currentStart = FloorTo(t, sliceLength);
                lateSlice = IsLate(currentStart);
                slice = lateSlice ? null : SliceAt(currentStart, keyCount);
            }
            else if (checkNulls && tsColumn.IsNull(i))
            {
                RejectTimestamp(batch, i, output);
                slots[i] = -1;
                continue;
            }

            if (lateSlice)
            {
                _late[lateCount++] = i;
                slots[i] = -1;
                continue;
            }

            var slot = slice!.SlotByKey[id];
            if (slot < 0)
            {
                slot = NewGroup(slice, id);
            }

            slots[i] = slot;
        }

        _state.Slots.AddRows(batch, slots, output, 1);
        if (lateCount > 0)
        {
            var late = batch.Pool.Rent(batch.Schema, batch.Capacity);
            BatchGather.Append(batch, _late.AsSpan(0, lateCount), late);
            output.EmitSide(LateTag, late);
        }

        batch.Dispose();
        if (_combiner)
        {
            EmitPartials(output);
        }
    }

    /// <summary>
    /// The single-BIGINT-key COUNT(*)/SUM(BIGINT) path for batches without filtered rows or NULLs: one loop interns the
    /// key, finds the (key, slice) slot and updates the count and sum, instead of one pass per step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnBatchFused(ColumnBatch batch, IOperatorOutput output)
    {
        var n = batch.Count;
        var keys = _state.Keys;
        var ts = batch.ColumnAt<long>(_spec.EventTimeColumn).Values;
        var keyValues = batch.ColumnAt<long>(_fusedKeyColumn).Values;
        var hasCount = _fusedCounts.Length > 0;
        var hasSum = _fusedSums.Length > 0;
        var sumAccumulator = hasSum ? _fusedSums[0] : null;
        var prices = hasSum ? batch.ColumnAt<long>(sumAccumulator!.Spec.InputColumn).Values : [];
        long[] counts = hasCount ? _fusedCounts[0].Counts : [];
        long[] sums = hasSum ? sumAccumulator!.Sums : [];
        long[] sumCounts = hasSum ? sumAccumulator!.Counts : [];
        var hasSum2 = _fusedSums.Length > 1;
        var sumAccumulator2 = hasSum2 ? _fusedSums[1] : null;
        var prices2 = hasSum2 ? batch.ColumnAt<long>(sumAccumulator2!.Spec.InputColumn).Values : [];
        long[] sums2 = hasSum2 ? sumAccumulator2!.Sums : [];
        long[] sumCounts2 = hasSum2 ? sumAccumulator2!.Counts : [];
        var sliceLength = _sliceLength;
        var currentStart = long.MinValue;
        WindowAggregateState.Slice? slice = null;
        int[] slotByKey = [];
        var lateSlice = false;
        var lateCount = 0;
        if (n > ts.Length || n > keyValues.Length || (hasSum && n > prices.Length) || (hasSum2 && n > prices2.Length))
        {
            ThrowShortColumns();
        }

        // The global phase of a two-phase aggregate (SUMs of the partial COUNT and SUM): its bulk goes through a tight loop.
        var twoSums = !hasCount && hasSum2;
        for (var i = 0; i < n; i++)
        {
            if (twoSums && slice is not null)
            {
                if (slotByKey.Length < keys.Count)
                {
                    slice.EnsureKeys(keys.Count);
                    slotByKey = slice.SlotByKey;
                }

                i = AddTwoSumsRun(ts, keyValues, prices, prices2, i, n, currentStart, sliceLength, keys.DirectIds, slotByKey, sums, sumCounts, sums2, sumCounts2);
                if (i >= n)
                {
                    break;
                }
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
                slice = lateSlice ? null : SliceAt(currentStart, keys.Count);
                slotByKey = slice?.SlotByKey ?? [];
            }

            if (lateSlice)
            {
                _late[lateCount++] = i;
                continue;
            }

            var id = keys.IdOfLongKey(keyValues[i]);
            if ((uint)id >= (uint)slotByKey.Length)
            {
                slice!.EnsureKeys(keys.Count);
                slotByKey = slice.SlotByKey;
            }

            var slot = slotByKey[id];
            if (slot < 0)
            {
                slot = NewFusedGroup(slice!, id);
                // Allocating may have grown the accumulator arrays; the fused accumulators are all there is, so the new slot is zeroed here.
                counts = hasCount ? _fusedCounts[0].Counts : counts;
                sums = hasSum ? sumAccumulator!.Sums : sums;
                sumCounts = hasSum ? sumAccumulator!.Counts : sumCounts;
                sums2 = hasSum2 ? sumAccumulator2!.Sums : sums2;
                sumCounts2 = hasSum2 ? sumAccumulator2!.Counts : sumCounts2;
                if (hasCount)
                {
                    counts[slot] = 0;
                }

                if (hasSum)
                {
                    sums[slot] = 0;
                    sumCounts[slot] = 0;
                }

                if (hasSum2)
                {
                    sums2[slot] = 0;
                    sumCounts2[slot] = 0;
                }
            }

            if (hasCount)
            {
                counts[slot]++;
            }

            if (hasSum)
            {
                var a = sums[slot];
                var b = prices[i];
                var r = a + b;
                if (((a ^ r) & (b ^ r)) < 0)
                {
                    // The overflowing row is left out of this sum only; the other aggregates still take it.
                    sumAccumulator!.ReportOverflow(batch, i, output);
                }
                else
                {
                    sums[slot] = r;
                    sumCounts[slot]++;
                }
            }

            if (hasSum2)
            {
                var a = sums2[slot];
                var b = prices2[i];
                var r = a + b;
                if (((a ^ r) & (b ^ r)) < 0)
                {
                    sumAccumulator2!.ReportOverflow(batch, i, output);
                }
                else
                {
                    sums2[slot] = r;
                    sumCounts2[slot]++;
                }
            }
        }

        if (lateCount > 0)
        {
            var late = batch.Pool.Rent(batch.Schema, batch.Capacity);
            BatchGather.Append(batch, _late.AsSpan(0, lateCount), late);
            output.EmitSide(LateTag, late);
        }

        batch.Dispose();
        if (_combiner)
        {
            EmitPartials(output);
        }
    }

    /// <summary>
    /// Rows <paramref name="i"/>..<paramref name="n"/>-1 into two SUMs while they fall in the slice at
    /// <paramref name="start"/>, their key has a direct id and a slot there, and neither sum overflows; returns the first
    /// row it did not take. No calls and no bounds checks, so the JIT keeps the loop in registers. The caller guarantees
    /// n ≤ the row arrays' lengths, a slotByKey entry per interned key, and accumulator arrays covering every slot.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int AddTwoSumsRun(long[] ts, long[] keyValues, long[] values, long[] values2, int i, int n, long start, long sliceLength,
        int[] directIds, int[] slotByKey, long[] sums, long[] counts, long[] sums2, long[] counts2)
    {
        ref var tsRow = ref MemoryMarshal.GetArrayDataReference(ts);
        ref var keyRow = ref MemoryMarshal.GetArrayDataReference(keyValues);
        ref var valueRow = ref MemoryMarshal.GetArrayDataReference(values);
        ref var value2Row = ref MemoryMarshal.GetArrayDataReference(values2);
        ref var direct = ref MemoryMarshal.GetArrayDataReference(directIds);
        ref var slotOf = ref MemoryMarshal.GetArrayDataReference(slotByKey);
        var directLength = (ulong)directIds.Length;
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

            // The direct index holds id + 1 (0 = not interned yet); interned ids have a slotByKey entry.
            var id = Unsafe.Add(ref direct, (nint)key) - 1;
            if (id < 0)
            {
                break;
            }

            var slot = Unsafe.Add(ref slotOf, id);
            if (slot < 0)
            {
                break;
            }

            ref var sum = ref sums[slot];
            ref var sum2 = ref sums2[slot];
            var y = Unsafe.Add(ref valueRow, i);
            var y2 = Unsafe.Add(ref value2Row, i);
            var r = sum + y;
            var r2 = sum2 + y2;
            if ((((sum ^ r) & (y ^ r)) | ((sum2 ^ r2) & (y2 ^ r2))) < 0)
            {
                break;
            }

            sum = r;
            sum2 = r2;
            counts[slot]++;
            counts2[slot]++;
        }

        return i;
    }

    private bool SumInputsHaveNulls(ColumnBatch batch)
    {
        foreach (var a in _fusedSums)
        {
            if (batch.Columns[a.Spec.InputColumn].HasNulls)
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShortColumns() => throw new InvalidOperationException("a column holds fewer values than the batch's row count");

    /// <summary>Combiner mode: emits every (key, slice) group accumulated from the batch as one partial row, then forgets them.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void EmitPartials(IOperatorOutput output)
    {
        ColumnBatch? result = null;
        foreach (var (start, slice) in _state.Slices)
        {
            WriteSlice(slice, start, start + _sliceLength, ref result, output);
        }

        // Every slot of a combiner belongs to a slice emitted above: free them all at once and keep the slices' arrays.
        _state.Slots.ReleaseAll();
        foreach (var (_, slice) in _state.Slices)
        {
            if (_state.SpareSlices.Count < WindowAggregateState.MaxSpareSlices)
            {
                _state.SpareSlices.Push(slice);
            }
        }

        _state.Slices.Clear();
        if (result is not null)
        {
            EmitOrDispose(result, output);
        }
    }

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        if (watermark > _state.Watermark)
        {
            _state.Watermark = watermark;
            if (!_combiner)
            {
                Fire(watermark, output, progress: true);
                ForgetFiredKeys();
            }
        }

        output.EmitWatermark(watermark);
        _emittedWatermark = Math.Max(_emittedWatermark, watermark);
    }

    /// <inheritdoc />
    public void OnEndOfInput(IOperatorOutput output)
    {
        if (!_combiner)
        {
            Fire(long.MaxValue, output);
        }
    }

    /// <summary>
    /// The key table only grows while keys arrive; once it holds twice the keys it had after the last clean-up, keep only
    /// the keys of open slices (the rest belong to fired windows), so ever-new keys (auction ids) do not pile up.
    /// Amortised O(1) per key: each clean-up costs the live keys and happens after the table doubled.
    /// </summary>
    private void ForgetFiredKeys()
    {
        var keys = _state.Keys;
        if (keys.Count < Math.Max(4096, 2 * _state.KeysAfterLastForget))
        {
            return;
        }

        var remap = new int[keys.Count];
        var live = new List<int>();
        foreach (var (_, slice) in _state.Slices)
        {
            foreach (var id in slice.KeyIds)
            {
                if (remap[id] == 0)
                {
                    remap[id] = 1;
                    live.Add(id);
                }
            }
        }

        keys.Retain(live, remap);
        foreach (var (_, slice) in _state.Slices)
        {
            slice.Renumber(remap, live.Count);
        }

        // Spare slices and the merge scratch are sized by the old key count: let them be rebuilt at the new size.
        _state.SpareSlices.Clear();
        _mergeSlotByKey = [];
        _state.KeysAfterLastForget = live.Count;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private int NewGroup(WindowAggregateState.Slice slice, int id)
    {
        var slot = _state.Slots.Allocate();
        slice.SlotByKey[id] = slot;
        slice.KeyIds.Add(id);
        return slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int NewFusedGroup(WindowAggregateState.Slice slice, int id)
    {
        var slot = _state.Slots.AllocateUnreset();
        slice.SlotByKey[id] = slot;
        slice.KeyIds.Add(id);
        return slot;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RejectTimestamp(ColumnBatch batch, int row, IOperatorOutput output)
    {
        var column = batch.Columns[_spec.EventTimeColumn];
        output.EmitError(batch, row, column.IsNull(row)
            ? $"event time '{batch.Schema[_spec.EventTimeColumn].Name}' is NULL: the row belongs to no window"
            : $"event time {batch.ColumnAt<long>(_spec.EventTimeColumn).Values[row]} ms is outside years 0001-9999");
    }

    private WindowAggregateState.Slice SliceAt(long start, int keyCount)
    {
        if (!_state.Slices.TryGetValue(start, out var slice))
        {
            if (_state.SpareSlices.TryPop(out slice))
            {
                slice.Reuse(start);
            }
            else
            {
                slice = new WindowAggregateState.Slice(start);
            }

            _state.Slices.Add(start, slice);
        }

        slice.EnsureKeys(keyCount);
        return slice;
    }

    /// <summary>Keys in the key table (tests: fired windows' keys are forgotten).</summary>
    internal int KeyCount => _state.Keys.Count;

    /// <summary>The slice length: gcd(size, slide).</summary>
    internal long SliceLength => _sliceLength;

    /// <summary>The start of the slice holding event time <paramref name="t"/>.</summary>
    internal long SliceOf(long t) => FloorTo(t, _sliceLength);

    /// <summary>True when a row at event time <paramref name="t"/> would be late now.</summary>
    internal bool IsLateEventTime(long t) => IsLate(FloorTo(t, _sliceLength));

    /// <summary>True when every window containing the slice starting at <paramref name="sliceStart"/> has fired.</summary>
    private bool IsLate(long sliceStart) => LastWindowStart(sliceStart) + _size - 1 + _spec.AllowedLatenessMs <= _state.Watermark;

    private long LastWindowStart(long sliceStart) => FloorTo(sliceStart, _slide);

    private long FirstWindowStart(long sliceStart) => FloorTo(sliceStart - _size, _slide) + _slide;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long FloorTo(long t, long unit)
    {
        var rem = (t - _offset) % unit;
        return t - (rem < 0 ? rem + unit : rem);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Fire(long watermark, IOperatorOutput output, bool progress = false)
    {
        ColumnBatch? result = null;
        var expired = _expired;
        while (_state.Slices.Count > 0)
        {
            var minStart = FirstKey(_state.Slices);
            var start = FirstWindowStart(minStart);
            if (_state.LastFiredStart != long.MinValue)
            {
                start = Math.Max(start, _state.LastFiredStart + _slide);
            }

            if (start + _size - 1 + _spec.AllowedLatenessMs > watermark)
            {
                break;
            }

            EmitWindow(start, ref result, output);
            _state.LastFiredStart = start;
            expired.Clear();
            foreach (var (sliceStart, _) in _state.Slices)
            {
                if (sliceStart >= start + _slide)
                {
                    break;
                }

                if (LastWindowStart(sliceStart) <= start)
                {
                    expired.Add(sliceStart);
                }
            }

            foreach (var s in expired)
            {
                ReleaseSlice(s);
            }

            var end = start + _size - 1;
            if (progress && result is { Count: > 0 } && end > _emittedWatermark && end < watermark)
            {
                // A watermark that fires many windows (end of input, an idle source catching up) announces each one as
                // it goes, so downstream windows and window joins free a window's rows before the next one arrives.
                output.Emit(result);
                result = null;
                output.EmitWatermark(end);
                _emittedWatermark = end;
            }
        }

        if (result is not null)
        {
            EmitOrDispose(result, output);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EmitWindow(long start, ref ColumnBatch? result, IOperatorOutput output)
    {
        var end = start + _size;
        if (_sliceLength == _size)
        {
            // Tumbling (or hop with slide = size): the window is one slice.
            if (_state.Slices.TryGetValue(start, out var slice))
            {
                WriteSlice(slice, start, end, ref result, output);
            }

            return;
        }

        if (_mergeSlotByKey.Length < _state.Keys.Count)
        {
            _mergeSlotByKey = new int[Math.Max(_state.Keys.Count, _mergeSlotByKey.Length * 2)];
            Array.Fill(_mergeSlotByKey, -1);
        }

        var keys = _mergeKeys;
        keys.Clear();
        foreach (var (sliceStart, slice) in _state.Slices)
        {
            if (sliceStart >= end)
            {
                break;
            }

            if (sliceStart < start)
            {
                continue;
            }

            // Pane by pane, a column at a time: pair each key's pane slot with its window slot, then merge all pairs.
            var paneKeys = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(slice.KeyIds);
            if (_mergeFrom.Length < paneKeys.Length)
            {
                _mergeFrom = new int[Math.Max(paneKeys.Length, _mergeFrom.Length * 2)];
                _mergeInto = new int[_mergeFrom.Length];
            }

            for (var j = 0; j < paneKeys.Length; j++)
            {
                var id = paneKeys[j];
                var merged = _mergeSlotByKey[id];
                if (merged < 0)
                {
                    merged = _state.Slots.Allocate();
                    _mergeSlotByKey[id] = merged;
                    keys.Add(id);
                }

                _mergeFrom[j] = slice.SlotByKey[id];
                _mergeInto[j] = merged;
            }

            _state.Slots.MergeMany(_mergeFrom.AsSpan(0, paneKeys.Length), _mergeInto.AsSpan(0, paneKeys.Length));
        }

        var ids = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(keys);
        if (_slotScratch.Length < ids.Length)
        {
            _slotScratch = new int[Math.Max(ids.Length, _slotScratch.Length * 2)];
        }

        var mergedSlots = _slotScratch.AsSpan(0, ids.Length);
        for (var j = 0; j < ids.Length; j++)
        {
            mergedSlots[j] = _mergeSlotByKey[ids[j]];
        }

        WriteRows(ids, mergedSlots, start, end, ref result, output);
        foreach (var id in keys)
        {
            _state.Slots.Release(_mergeSlotByKey[id]);
            _mergeSlotByKey[id] = -1;
        }
    }

    /// <summary>Writes one row per key of <paramref name="slice"/>, a column at a time.</summary>
    private void WriteSlice(WindowAggregateState.Slice slice, long start, long end, ref ColumnBatch? result, IOperatorOutput output)
    {
        var ids = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(slice.KeyIds);
        if (_slotScratch.Length < ids.Length)
        {
            _slotScratch = new int[Math.Max(ids.Length, _slotScratch.Length * 2)];
        }

        var slots = _slotScratch.AsSpan(0, ids.Length);
        for (var j = 0; j < ids.Length; j++)
        {
            slots[j] = slice.SlotByKey[ids[j]];
        }

        WriteRows(ids, slots, start, end, ref result, output);
    }

    /// <summary>Writes one row per (ids[j], slots[j]) for window [start, end), a column at a time.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void WriteRows(ReadOnlySpan<int> ids, ReadOnlySpan<int> slots, long start, long end, ref ColumnBatch? result, IOperatorOutput output)
    {
        var k = _spec.KeyColumns.Length;
        var done = 0;
        while (done < ids.Length)
        {
            if (result is null || result.IsFull)
            {
                if (result is not null)
                {
                    output.Emit(result);
                }

                result = _pool.Rent(_outputSchema, _batchSize);
            }

            var row = result.Count;
            var take = Math.Min(ids.Length - done, result.Capacity - row);
            _state.Keys.WriteKeys(ids.Slice(done, take), result, row);
            result.ColumnAt<long>(k).Values.AsSpan(row, take).Fill(start);
            result.ColumnAt<long>(k + 1).Values.AsSpan(row, take).Fill(end);
            _state.Slots.WriteMany(slots.Slice(done, take), result, k + 2, row);
            result.Count = row + take;
            done += take;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReleaseSlice(long start)
    {
        var slice = _state.Slices[start];
        _state.Slices.Remove(start);
        foreach (var id in slice.KeyIds)
        {
            _state.Slots.Release(slice.SlotByKey[id]);
        }

        if (_state.SpareSlices.Count < WindowAggregateState.MaxSpareSlices)
        {
            _state.SpareSlices.Push(slice);
        }
    }

    private static void EmitOrDispose(ColumnBatch batch, IOperatorOutput output)
    {
        if (batch.Count > 0)
        {
            output.Emit(batch);
        }
        else
        {
            batch.Dispose();
        }
    }

    private static long FirstKey(SortedDictionary<long, WindowAggregateState.Slice> slices)
    {
        foreach (var (k, _) in slices)
        {
            return k;
        }

        return long.MaxValue;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
