using System.Runtime.CompilerServices;
using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;
using Streams.Engine.State;

namespace Streams.Engine.Operators.WindowJoin;

/// <summary>
/// Window join (Flink's window join over TUMBLE / HOP / SESSION): assigns each row of both inputs to windows of its event
/// time, and when the watermark passes a window's end joins the rows of that window whose keys are equal. Rows of both sides
/// must share window_start, window_end and key. Session windows are computed per side and per join key, and only identical
/// sessions join.
/// <para>
/// Output schema: all left columns, all right columns (<see cref="JoinSchemas.Concat"/>), then <c>window_start</c>,
/// <c>window_end</c> and <c>window_time</c> (= window_end - 1 ms, the output event time). Output is append-only (+I), emitted once
/// per window when the watermark reaches window_end - 1 (sessions: window_end, since a row at exactly the end still merges).
/// A LEFT join emits every left row of a window that has no partner in it, padded with NULLs. NULL keys never match.
/// Rows whose every window has already fired are late: they go to the side outputs <see cref="LateLeft"/> / <see cref="LateRight"/>
/// (input schema of that side; reported as errors when nobody reads them) and are counted in <see cref="LateRows"/>.
/// State holds only rows of open windows; firing frees them.
/// </para>
/// </summary>
public sealed class WindowJoinOperator : ITwoInputOperator, ICheckpointableOperator
{
    private readonly int[] _leftKeys;
    private readonly int[] _rightKeys;
    private readonly int _leftTime;
    private readonly int _rightTime;
    private readonly JoinWindow _window;
    private readonly JoinType _type;
    private readonly JoinKeyHasher _leftHasher;
    private readonly JoinKeyHasher _rightHasher;
    private readonly JoinOutputBuilder _out;
    private readonly Schema _left;
    private readonly Schema _right;
    private WindowJoinState _state;
    private readonly int _windowStartColumn;
    private readonly Stack<WindowBucket> _freeBuckets = new();
    private ColumnBatch? _late;
    private int[] _scratchHead = [];
    private int[] _scratchNext = new int[64];
    private long[] _leftTimes = new long[64];
    private int[] _leftSlots = new int[64];
    private long[] _rightTimes = new long[64];
    private int[] _rightSlots = new int[64];

    /// <summary>Creates a window join.</summary>
    /// <param name="left">Schema of the left (first) input.</param>
    /// <param name="right">Schema of the right (second) input.</param>
    /// <param name="leftKeys">Key column indexes in the left schema.</param>
    /// <param name="rightKeys">Key column indexes in the right schema, pairwise equal-typed with <paramref name="leftKeys"/>.</param>
    /// <param name="window">The windows both sides are grouped by.</param>
    /// <param name="type">Inner or Left.</param>
    /// <param name="leftTimeColumn">Left event-time column; -1 = the schema's event-time column.</param>
    /// <param name="rightTimeColumn">Right event-time column; -1 = the schema's event-time column.</param>
    /// <param name="outputBatchCapacity">Rows per output batch.</param>
    public WindowJoinOperator(Schema left, Schema right, int[] leftKeys, int[] rightKeys, JoinWindow window, JoinType type = JoinType.Inner,
        int leftTimeColumn = -1, int rightTimeColumn = -1, int outputBatchCapacity = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        JoinSchemas.CheckKeys(left, right, leftKeys, rightKeys);
        window.Validate();
        _leftKeys = (int[])leftKeys.Clone();
        _rightKeys = (int[])rightKeys.Clone();
        _leftTime = JoinSchemas.TimeColumn(left, leftTimeColumn, "left");
        _rightTime = JoinSchemas.TimeColumn(right, rightTimeColumn, "right");
        _window = window;
        _type = type;
        _left = left;
        _right = right;
        _windowStartColumn = left.Count + right.Count;
        OutputSchema = JoinSchemas.Concat(left, right, type, _windowStartColumn + 2,
            new Field("window_start", DataType.Timestamp, false), new Field("window_end", DataType.Timestamp, false), new Field("window_time", DataType.Timestamp, false));
        _leftHasher = new JoinKeyHasher(_leftKeys);
        _rightHasher = new JoinKeyHasher(_rightKeys);
        _out = new JoinOutputBuilder(OutputSchema, left.Count, right.Count, outputBatchCapacity);
        _state = new WindowJoinState(left, right, _leftKeys);
        LateLeft = new OutputTag("late-left", left, CountsAsLate: true);
        LateRight = new OutputTag("late-right", right, CountsAsLate: true);
    }

    /// <summary>Side output of left rows that arrived after all their windows fired (left schema).</summary>
    public OutputTag LateLeft { get; }

    /// <summary>Side output of right rows that arrived after all their windows fired (right schema).</summary>
    public OutputTag LateRight { get; }

    /// <summary>Left columns, right columns, window_start, window_end, window_time (the event time).</summary>
    public Schema OutputSchema { get; }

    /// <summary>Rows currently held in state on both sides (state-size metric).</summary>
    public int StateRowCount => _state.RowCount;

    /// <summary>Distinct keys currently held in state.</summary>
    public int StateKeyCount => _state.Keys.Count;

    /// <summary>Windows currently open (tumble/hop).</summary>
    public int OpenWindowCount => _state.Windows.Count;

    /// <summary>Rows that arrived after all their windows fired (sent to the error output).</summary>
    public long LateRows { get; private set; }

    internal WindowJoinState State => _state;

    /// <inheritdoc />
    public void OnBatch(JoinSide side, ColumnBatch batch, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        try
        {
            var isLeft = side == JoinSide.Left;
            var hasher = isLeft ? _leftHasher : _rightHasher;
            var keyColumns = isLeft ? _leftKeys : _rightKeys;
            var store = isLeft ? _state.Left : _state.Right;
            // A right row with a NULL key can never be part of the output; a left one can (padded) in a LEFT join.
            var keepNullKeys = isLeft && _type == JoinType.Left;
            var times = batch.ColumnAt<long>(isLeft ? _leftTime : _rightTime);
            hasher.Hash(batch);
            var hashes = hasher.Hashes;
            var nullKey = hasher.NullKey;
            var n = batch.Count;
            for (var i = 0; i < n; i++)
            {
                if (!batch.IsLive(i))
                {
                    continue;
                }

                var kind = batch.KindOf(i);
                if (kind is not (RowKind.Insert or RowKind.UpdateAfter) || times.IsNull(i))
                {
                    Reject(batch, i, output, kind);
                    continue;
                }

                if (nullKey[i] && !keepNullKeys)
                {
                    continue;
                }

                var ts = times.Values[i];
                if (_window.Kind == JoinWindowKind.Session)
                {
                    AddSessionRow(store, batch, i, keyColumns, hashes[i], ts, restoring: false);
                }
                else
                {
                    AddWindowedRow(side, store, batch, i, keyColumns, hashes[i], ts);
                }
            }

            if (_late is not null)
            {
                var late = _late;
                _late = null;
                output.EmitSide(isLeft ? LateLeft : LateRight, late);
            }
        }
        finally
        {
            batch.Dispose();
        }
    }

    private void AddWindowedRow(JoinSide side, KeyedRowStore store, ColumnBatch batch, int row, int[] keyColumns, int hash, long ts)
    {
        var watermark = _state.Watermark;
        var lastStart = _window.LastStart(ts);
        var firstStart = lastStart;
        // Windows [s, s + size) containing ts and not fired yet (fired once watermark >= end - 1).
        while (firstStart - _window.SlideMs > ts - _window.SizeMs)
        {
            firstStart -= _window.SlideMs;
        }

        while (firstStart <= lastStart && firstStart + _window.SizeMs - 1 <= watermark)
        {
            firstStart += _window.SlideMs;
        }

        if (firstStart > lastStart)
        {
            Late(batch, row);
            return;
        }

        var keyId = _state.Keys.FindOrAdd(batch, keyColumns, row, hash);
        var slot = store.Add(batch, row, keyId);
        var count = 0;
        for (var start = firstStart; start <= lastStart; start += _window.SlideMs)
        {
            Bucket(start).Add(side, slot);
            count++;
        }

        (side == JoinSide.Left ? _state.LeftWindows : _state.RightWindows)[slot] = count;
    }

    private WindowBucket Bucket(long start)
    {
        if (!_state.Windows.TryGetValue(start, out var bucket))
        {
            bucket = _freeBuckets.Count > 0 ? _freeBuckets.Pop() : new WindowBucket();
            bucket.Start = start;
            _state.Windows.Add(start, bucket);
            _state.WindowEnds.Push(start + _window.SizeMs, 0);
        }

        return bucket;
    }

    private void AddSessionRow(KeyedRowStore store, ColumnBatch batch, int row, int[] keyColumns, int hash, long ts, bool restoring)
    {
        // The row's own session [ts, ts + gap) is already final: it would be joined after its partners left.
        if (!restoring && ts + _window.GapMs <= _state.Watermark)
        {
            Late(batch, row);
            return;
        }

        var keyId = _state.Keys.FindOrAdd(batch, keyColumns, row, hash);
        store.Add(batch, row, keyId);
        var check = ts + _window.GapMs;
        if (check < _state.NextCheck[keyId])
        {
            _state.NextCheck[keyId] = check;
            _state.SessionChecks.Push(check, keyId);
        }
    }

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SnapshotHeader.Write(writer, "window-join/1", _left, _right);
        writer.WriteInt64(_state.Watermark);
        writer.WriteInt64(LateRows);
        JoinStateSnapshot.WriteRows(writer, _state.Left.Rows, JoinStateSnapshot.LiveSlots(_state.Left, _state.Keys.IdCapacity));
        JoinStateSnapshot.WriteRows(writer, _state.Right.Rows, JoinStateSnapshot.LiveSlots(_state.Right, _state.Keys.IdCapacity));
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        SnapshotHeader.Read(reader, "window-join/1", _left, _right);
        _state = new WindowJoinState(_left, _right, _leftKeys) { Watermark = reader.ReadInt64() };
        _freeBuckets.Clear();
        LateRows = reader.ReadInt64();
        // Re-adding rebuilds keys, windows and session checks; every stored row still belongs to a window that has not fired.
        foreach (var side in (ReadOnlySpan<JoinSide>)[JoinSide.Left, JoinSide.Right])
        {
            var isLeft = side == JoinSide.Left;
            using var rows = JoinStateSnapshot.ReadRows(reader, isLeft ? _left : _right, BatchPool.Shared);
            var hasher = isLeft ? _leftHasher : _rightHasher;
            var keyColumns = isLeft ? _leftKeys : _rightKeys;
            var store = isLeft ? _state.Left : _state.Right;
            var times = rows.ColumnAt<long>(isLeft ? _leftTime : _rightTime).Values;
            hasher.Hash(rows);
            for (var i = 0; i < rows.Count; i++)
            {
                if (_window.Kind == JoinWindowKind.Session)
                {
                    AddSessionRow(store, rows, i, keyColumns, hasher.Hashes[i], times[i], restoring: true);
                }
                else
                {
                    AddWindowedRow(side, store, rows, i, keyColumns, hasher.Hashes[i], times[i]);
                }
            }

            if (_late is not null)
            {
                _late.Dispose();
                _late = null;
                throw new InvalidDataException("window join snapshot holds rows whose windows have already fired");
            }
        }
    }

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (watermark <= _state.Watermark)
        {
            return;
        }

        _state.Watermark = watermark;
        _out.Bind(output, null);
        Fire(watermark);
        _out.Flush();
        output.EmitWatermark(watermark);
    }

    /// <inheritdoc />
    public void OnEndOfInput(IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _out.Bind(output, null);
        _state.Watermark = long.MaxValue;
        Fire(long.MaxValue);
        _out.Flush();
    }

    private void Fire(long watermark)
    {
        if (_window.Kind == JoinWindowKind.Session)
        {
            var checks = _state.SessionChecks;
            while (checks.Count > 0 && checks.MinTime <= watermark)
            {
                var time = checks.MinTime;
                var keyId = checks.MinSlot;
                checks.Pop();
                if (_state.NextCheck[keyId] == time)
                {
                    FireSessions(keyId, watermark);
                }
            }

            return;
        }

        var ends = _state.WindowEnds;
        while (ends.Count > 0 && ends.MinTime - 1 <= watermark)
        {
            var end = ends.MinTime;
            ends.Pop();
            var start = end - _window.SizeMs;
            if (_state.Windows.Remove(start, out var bucket))
            {
                FireWindow(bucket, start, end);
                bucket.LeftCount = 0;
                bucket.RightCount = 0;
                _freeBuckets.Push(bucket);
            }
        }
    }

    private void FireWindow(WindowBucket bucket, long start, long end)
    {
        var left = _state.Left;
        var right = _state.Right;
        EnsureScratch(bucket.RightCount);
        var head = _scratchHead;
        var next = _scratchNext;
        for (var j = 0; j < bucket.RightCount; j++)
        {
            var k = right.KeyOf(bucket.Right[j]);
            next[j] = head[k];
            head[k] = j;
        }

        for (var i = 0; i < bucket.LeftCount; i++)
        {
            var l = bucket.Left[i];
            var matched = false;
            for (var j = head[left.KeyOf(l)]; j >= 0; j = next[j])
            {
                EmitPair(l, bucket.Right[j], start, end);
                matched = true;
            }

            if (!matched && _type == JoinType.Left)
            {
                EmitPadded(l, start, end);
            }
        }

        for (var j = 0; j < bucket.RightCount; j++)
        {
            head[right.KeyOf(bucket.Right[j])] = -1;
        }

        // Joined rows are read when gathered: copy them out before their slots are freed.
        _out.Settle();

        var leftWindows = _state.LeftWindows;
        for (var i = 0; i < bucket.LeftCount; i++)
        {
            var l = bucket.Left[i];
            if (--leftWindows[l] == 0)
            {
                left.Remove(l);
            }
        }

        var rightWindows = _state.RightWindows;
        for (var j = 0; j < bucket.RightCount; j++)
        {
            var r = bucket.Right[j];
            if (--rightWindows[r] == 0)
            {
                right.Remove(r);
            }
        }
    }

    private void FireSessions(int keyId, long watermark)
    {
        var nl = Collect(_state.Left, keyId, _leftTime, ref _leftTimes, ref _leftSlots);
        var nr = Collect(_state.Right, keyId, _rightTime, ref _rightTimes, ref _rightSlots);
        var gap = _window.GapMs;
        var li = 0;
        var ri = 0;
        var nextCheck = long.MaxValue;
        while (li < nl || ri < nr)
        {
            // The next session of each side: a run of rows each within gap of the running end (touching merges).
            long ls = long.MaxValue, le = long.MaxValue, rs = long.MaxValue, re = long.MaxValue;
            var lj = SessionEnd(_leftTimes, li, nl, gap, ref ls, ref le);
            var rj = SessionEnd(_rightTimes, ri, nr, gap, ref rs, ref re);
            var leftFinal = li < nl && le <= watermark;
            var rightFinal = ri < nr && re <= watermark;
            if (!leftFinal && !rightFinal)
            {
                nextCheck = Math.Min(li < nl ? le : long.MaxValue, ri < nr ? re : long.MaxValue);
                break;
            }

            if (leftFinal && rightFinal && ls == rs && le == re)
            {
                // The same session window on both sides: join every pair.
                for (var a = li; a < lj; a++)
                {
                    for (var b = ri; b < rj; b++)
                    {
                        EmitPair(_leftSlots[a], _rightSlots[b], ls, le);
                    }
                }

                _out.Settle();
                RemoveRange(_state.Left, _leftSlots, li, lj);
                RemoveRange(_state.Right, _rightSlots, ri, rj);
                li = lj;
                ri = rj;
            }
            else if (leftFinal && (!rightFinal || ls < rs || (ls == rs && le < re)))
            {
                // A final left session that no right session equals: done, padded in a LEFT join.
                if (_type == JoinType.Left)
                {
                    for (var a = li; a < lj; a++)
                    {
                        EmitPadded(_leftSlots[a], ls, le);
                    }

                    _out.Settle();
                }

                RemoveRange(_state.Left, _leftSlots, li, lj);
                li = lj;
            }
            else
            {
                // A final right session that no left session equals.
                RemoveRange(_state.Right, _rightSlots, ri, rj);
                ri = rj;
            }
        }

        // The key may have been removed with its last row; its id can be reused, so its check time resets.
        _state.NextCheck[keyId] = nextCheck;
        if (nextCheck != long.MaxValue)
        {
            _state.SessionChecks.Push(nextCheck, keyId);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SessionEnd(long[] times, int from, int count, long gap, ref long start, ref long end)
    {
        if (from >= count)
        {
            return from;
        }

        start = times[from];
        end = start + gap;
        var j = from + 1;
        while (j < count && times[j] <= end)
        {
            end = Math.Max(end, times[j] + gap);
            j++;
        }

        return j;
    }

    private static int Collect(KeyedRowStore store, int keyId, int timeColumn, ref long[] times, ref int[] slots)
    {
        var n = store.CountOf(keyId);
        if (times.Length < n)
        {
            times = new long[Math.Max(n, times.Length * 2)];
            slots = new int[times.Length];
        }

        var ts = store.Rows.ValuesOf<long>(timeColumn);
        var i = 0;
        for (var s = store.First(keyId); s >= 0; s = store.Next(s))
        {
            times[i] = ts[s];
            slots[i] = s;
            i++;
        }

        Array.Sort(times, slots, 0, n);
        return n;
    }

    private static void RemoveRange(KeyedRowStore store, int[] slots, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            store.Remove(slots[i]);
        }
    }

    private void EmitPair(int leftSlot, int rightSlot, long start, long end)
    {
        _out.LeftFrom(_state.Left.Rows, leftSlot);
        _out.RightFrom(_state.Right.Rows, rightSlot);
        SetWindow(start, end);
        _out.EndRow();
    }

    private void EmitPadded(int leftSlot, long start, long end)
    {
        _out.LeftFrom(_state.Left.Rows, leftSlot);
        _out.RightNull();
        SetWindow(start, end);
        _out.EndRow();
    }

    private void SetWindow(long start, long end)
    {
        _out.SetInt64(_windowStartColumn, start);
        _out.SetInt64(_windowStartColumn + 1, end);
        _out.SetInt64(_windowStartColumn + 2, end - 1);
    }

    private void EnsureScratch(int rights)
    {
        var keys = _state.Keys.IdCapacity;
        if (_scratchHead.Length < keys)
        {
            var old = _scratchHead.Length;
            Array.Resize(ref _scratchHead, keys);
            _scratchHead.AsSpan(old).Fill(-1);
        }

        if (_scratchNext.Length < rights)
        {
            _scratchNext = new int[Math.Max(rights, _scratchNext.Length * 2)];
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Late(ColumnBatch batch, int row)
    {
        LateRows++;
        var late = _late ??= batch.Pool.Rent(batch.Schema, batch.Capacity);
        var r = late.Count;
        for (var c = 0; c < batch.Columns.Length; c++)
        {
            batch.Columns[c].CopyRowTo(row, late.Columns[c], r);
        }

        late.Count = r + 1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Reject(ColumnBatch batch, int row, IOperatorOutput output, RowKind kind) =>
        output.EmitError(batch, row, kind is RowKind.Insert or RowKind.UpdateAfter
            ? "window join: the event-time column is NULL"
            : $"window join: input must be append-only, got a {kind} row");
}
