using System.Runtime.CompilerServices;
using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;
using Streams.Engine.State;

namespace Streams.Engine.Operators.IntervalJoin;

/// <summary>
/// Event-time interval join: pairs a left row <c>l</c> and a right row <c>r</c> with equal keys when
/// <c>l.ts + lowerBound &lt;= r.ts &lt;= l.ts + upperBound</c> (both ends inclusive, like SQL BETWEEN). The SQL
/// <c>a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts - INTERVAL '5' SECOND AND a.ts</c> is lowerBound = -5000, upperBound = 0.
/// <para>
/// Output schema: all left columns, then all right columns (see <see cref="JoinSchemas.Concat"/>), event time = the left
/// event-time column. Output is append-only (+I). A LEFT join emits a left row padded with NULLs once the watermark shows it can
/// no longer match (l.ts + upperBound &lt;= watermark) and it never matched; a left row with a NULL key is emitted padded at once.
/// NULL keys never match. The watermark frees rows that can no longer match, so state stays bounded by the data rate times
/// the interval width plus the watermark delay. The output watermark is held back by max(0, upperBound, -lowerBound) so
/// joined rows are never late downstream.
/// </para>
/// <para>
/// With a left upper time column (<c>b.ts BETWEEN a.ts AND a.expires</c>: lowerBound = 0, upperBound = 0, upper column =
/// <c>expires</c>) a left row matches right rows with <c>l.ts + lowerBound &lt;= r.ts &lt;= l.upper + upperBound</c> and is kept
/// until the watermark passes <c>l.upper + upperBound</c>; a NULL upper matches nothing. The output watermark is then held
/// back by the widest <c>l.upper + upperBound - l.ts</c> seen, so rows of long-lived left rows are not late either.
/// </para>
/// </summary>
public sealed class IntervalJoinOperator : ITwoInputOperator, ICheckpointableOperator
{
    private readonly int[] _leftKeys;
    private readonly int[] _rightKeys;
    private readonly int _leftTime;
    private readonly int _rightTime;
    private readonly long _lower;
    private readonly long _upper;
    private readonly long _outputDelay;
    private readonly int _leftUpper;
    private long _widestSpan;
    private readonly JoinType _type;
    private readonly JoinKeyHasher _leftHasher;
    private readonly JoinKeyHasher _rightHasher;
    private readonly JoinOutputBuilder _out;
    private IntervalJoinState _state;

    /// <summary>Creates an interval join.</summary>
    /// <param name="left">Schema of the left (first) input.</param>
    /// <param name="right">Schema of the right (second) input.</param>
    /// <param name="leftKeys">Key column indexes in the left schema.</param>
    /// <param name="rightKeys">Key column indexes in the right schema, pairwise equal-typed with <paramref name="leftKeys"/>.</param>
    /// <param name="lowerBoundMs">Least value of <c>r.ts - l.ts</c> that matches (inclusive, may be negative).</param>
    /// <param name="upperBoundMs">Greatest value of <c>r.ts - l.ts</c> that matches (inclusive).</param>
    /// <param name="type">Inner or Left.</param>
    /// <param name="leftTimeColumn">Left event-time column; -1 = the schema's event-time column.</param>
    /// <param name="rightTimeColumn">Right event-time column; -1 = the schema's event-time column.</param>
    /// <param name="outputBatchCapacity">Rows per output batch.</param>
    /// <param name="leftUpperTimeColumn">A left TIMESTAMP column the upper bound is relative to instead of the left event time; -1 = none.</param>
    public IntervalJoinOperator(Schema left, Schema right, int[] leftKeys, int[] rightKeys, long lowerBoundMs, long upperBoundMs,
        JoinType type = JoinType.Inner, int leftTimeColumn = -1, int rightTimeColumn = -1, int outputBatchCapacity = BatchPool.DefaultCapacity,
        int leftUpperTimeColumn = -1)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        JoinSchemas.CheckKeys(left, right, leftKeys, rightKeys);
        if (leftUpperTimeColumn >= 0 && (leftUpperTimeColumn >= left.Count || left[leftUpperTimeColumn].Type != DataType.Timestamp))
        {
            throw new ArgumentException($"interval join upper time column {leftUpperTimeColumn} is not a TIMESTAMP column of {left}");
        }

        if (leftUpperTimeColumn < 0 && lowerBoundMs > upperBoundMs)
        {
            throw new ArgumentException($"interval join lower bound {lowerBoundMs} ms is above the upper bound {upperBoundMs} ms");
        }

        _leftKeys = (int[])leftKeys.Clone();
        _rightKeys = (int[])rightKeys.Clone();
        _leftTime = JoinSchemas.TimeColumn(left, leftTimeColumn, "left");
        _rightTime = JoinSchemas.TimeColumn(right, rightTimeColumn, "right");
        _lower = lowerBoundMs;
        _leftUpper = leftUpperTimeColumn;
        _upper = upperBoundMs;
        _outputDelay = Math.Max(0, Math.Max(upperBoundMs, -lowerBoundMs));
        _type = type;
        LeftSchema = left;
        RightSchema = right;
        OutputSchema = JoinSchemas.Concat(left, right, type, _leftTime);
        _leftHasher = new JoinKeyHasher(_leftKeys);
        _rightHasher = new JoinKeyHasher(_rightKeys);
        _out = new JoinOutputBuilder(OutputSchema, left.Count, right.Count, outputBatchCapacity);
        _state = new IntervalJoinState(left, right, _leftKeys);
    }

    /// <summary>The left input schema.</summary>
    public Schema LeftSchema { get; }

    /// <summary>The right input schema.</summary>
    public Schema RightSchema { get; }

    /// <summary>Left columns then right columns; event time = the left event-time column.</summary>
    public Schema OutputSchema { get; }

    /// <summary>Rows currently held in state on both sides (state-size metric).</summary>
    public int StateRowCount => _state.RowCount;

    /// <summary>Distinct keys currently held in state.</summary>
    public int StateKeyCount => _state.Keys.Count;

    /// <summary>Joined rows emitted so far.</summary>
    public long RowsEmitted => _out.RowsEmitted;

    internal IntervalJoinState State => _state;

    /// <inheritdoc />
    public void OnBatch(JoinSide side, ColumnBatch batch, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        _out.Bind(output, batch.Pool);
        try
        {
            if (side == JoinSide.Left)
            {
                OnLeft(batch, output);
            }
            else
            {
                OnRight(batch, output);
            }

            _out.Flush();
        }
        finally
        {
            batch.Dispose();
        }
    }

    private void OnLeft(ColumnBatch batch, IOperatorOutput output)
    {
        _leftHasher.Hash(batch);
        var hashes = _leftHasher.Hashes;
        var nullKey = _leftHasher.NullKey;
        var times = batch.ColumnAt<long>(_leftTime);
        var uppers = _leftUpper >= 0 ? batch.ColumnAt<long>(_leftUpper) : times;
        var right = _state.Right;
        var keys = _state.Keys;
        var watermark = _state.Watermark;
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i) || !Admit(batch, i, times, output))
            {
                continue;
            }

            var lts = times.Values[i];
            var lo = SatAdd(lts, _lower);
            // A NULL upper bound (BETWEEN ... AND NULL) matches nothing.
            var noUpper = _leftUpper >= 0 && uppers.IsNull(i);
            var hi = noUpper ? long.MinValue : SatAdd(uppers.Values[i], _upper);
            var matched = false;
            var keyId = -1;
            if (!nullKey[i] && !noUpper)
            {
                keyId = keys.Find(batch, _leftKeys, i, hashes[i]);
                if (keyId >= 0)
                {
                    var rts = right.Rows.ValuesOf<long>(_rightTime);
                    for (var r = right.First(keyId); r >= 0; r = right.Next(r))
                    {
                        var t = rts[r];
                        if (t >= lo && t <= hi)
                        {
                            _out.LeftFrom(batch, i);
                            _out.RightFrom(right.Rows, r);
                            _out.EndRow();
                            matched = true;
                        }
                    }
                }
            }

            if (!nullKey[i] && hi > watermark)
            {
                _widestSpan = Math.Max(_widestSpan, SatAdd(hi, -lts));
                if (keyId < 0)
                {
                    keyId = keys.FindOrAdd(batch, _leftKeys, i, hashes[i]);
                }

                var slot = _state.Left.Add(batch, i, keyId);
                _state.Matched[slot] = matched;
                _state.LeftExpiry.Push(hi, slot);
            }
            else if (_type == JoinType.Left && !matched)
            {
                // Cannot match any future row (NULL key, or already behind the watermark): pad it now.
                _out.LeftFrom(batch, i);
                _out.RightNull();
                _out.EndRow();
            }
        }
    }

    private void OnRight(ColumnBatch batch, IOperatorOutput output)
    {
        _rightHasher.Hash(batch);
        var hashes = _rightHasher.Hashes;
        var nullKey = _rightHasher.NullKey;
        var times = batch.ColumnAt<long>(_rightTime);
        var left = _state.Left;
        var keys = _state.Keys;
        var watermark = _state.Watermark;
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i) || !Admit(batch, i, times, output) || nullKey[i])
            {
                continue;
            }

            var rts = times.Values[i];
            // l matches r when r.ts - upper <= l.ts <= r.ts - lower (with an upper column: r.ts - upper <= l.upper).
            var lo = SatAdd(rts, -_upper);
            var hi = SatAdd(rts, -_lower);
            var keyId = keys.Find(batch, _rightKeys, i, hashes[i]);
            if (keyId >= 0)
            {
                var lts = left.Rows.ValuesOf<long>(_leftTime);
                var lus = left.Rows.ValuesOf<long>(_leftUpper >= 0 ? _leftUpper : _leftTime);
                var matched = _state.Matched;
                for (var l = left.First(keyId); l >= 0; l = left.Next(l))
                {
                    var t = lts[l];
                    if (lus[l] >= lo && t <= hi)
                    {
                        _out.LeftFrom(left.Rows, l);
                        _out.RightFrom(batch, i);
                        _out.EndRow();
                        matched[l] = true;
                    }
                }
            }

            if (hi > watermark)
            {
                if (keyId < 0)
                {
                    keyId = keys.FindOrAdd(batch, _rightKeys, i, hashes[i]);
                }

                var slot = _state.Right.Add(batch, i, keyId);
                _state.RightExpiry.Push(hi, slot);
            }
        }
    }

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SnapshotHeader.Write(writer, "interval-join/1", LeftSchema, RightSchema);
        writer.WriteInt64(_state.Watermark);
        writer.WriteInt64(_state.EmittedWatermark);
        var left = JoinStateSnapshot.LiveSlots(_state.Left, _state.Keys.IdCapacity);
        JoinStateSnapshot.WriteRows(writer, _state.Left.Rows, left);
        writer.WriteValues<bool>(JoinStateSnapshot.PerSlot(_state.Matched, left));
        var right = JoinStateSnapshot.LiveSlots(_state.Right, _state.Keys.IdCapacity);
        JoinStateSnapshot.WriteRows(writer, _state.Right.Rows, right);
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        SnapshotHeader.Read(reader, "interval-join/1", LeftSchema, RightSchema);
        var state = new IntervalJoinState(LeftSchema, RightSchema, _leftKeys)
        {
            Watermark = reader.ReadInt64(),
            EmittedWatermark = reader.ReadInt64(),
        };
        using (var left = JoinStateSnapshot.ReadRows(reader, LeftSchema, BatchPool.Shared))
        {
            var matched = reader.ReadValues<bool>();
            _leftHasher.Hash(left);
            var times = left.ColumnAt<long>(_leftTime).Values;
            var uppers = left.ColumnAt<long>(_leftUpper >= 0 ? _leftUpper : _leftTime).Values;
            for (var i = 0; i < left.Count; i++)
            {
                var slot = state.Left.Add(left, i, state.Keys.FindOrAdd(left, _leftKeys, i, _leftHasher.Hashes[i]));
                state.Matched[slot] = matched[i];
                var expiry = SatAdd(_leftUpper >= 0 ? uppers[i] : times[i], _upper);
                _widestSpan = Math.Max(_widestSpan, SatAdd(expiry, -times[i]));
                state.LeftExpiry.Push(expiry, slot);
            }
        }

        using (var right = JoinStateSnapshot.ReadRows(reader, RightSchema, BatchPool.Shared))
        {
            _rightHasher.Hash(right);
            var times = right.ColumnAt<long>(_rightTime).Values;
            for (var i = 0; i < right.Count; i++)
            {
                var slot = state.Right.Add(right, i, state.Keys.FindOrAdd(right, _rightKeys, i, _rightHasher.Hashes[i]));
                state.RightExpiry.Push(SatAdd(times[i], -_lower), slot);
            }
        }

        _state = state;
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
        Expire(watermark);
        _out.Flush();
        var outWatermark = watermark == long.MaxValue ? long.MaxValue : SatAdd(watermark, -Math.Max(_outputDelay, _widestSpan));
        if (outWatermark > _state.EmittedWatermark)
        {
            _state.EmittedWatermark = outWatermark;
            output.EmitWatermark(outWatermark);
        }
    }

    /// <inheritdoc />
    public void OnEndOfInput(IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _out.Bind(output, null);
        Expire(long.MaxValue);
        _out.Flush();
    }

    private void Expire(long watermark)
    {
        var leftHeap = _state.LeftExpiry;
        var left = _state.Left;
        while (leftHeap.Count > 0 && leftHeap.MinTime <= watermark)
        {
            var slot = leftHeap.MinSlot;
            leftHeap.Pop();
            if (_type == JoinType.Left && !_state.Matched[slot])
            {
                _out.LeftFrom(left.Rows, slot);
                _out.RightNull();
                _out.EndRow();
                // The row is read when gathered: copy it out before its slot is freed.
                _out.Settle();
            }

            left.Remove(slot);
        }

        var rightHeap = _state.RightExpiry;
        while (rightHeap.Count > 0 && rightHeap.MinTime <= watermark)
        {
            var slot = rightHeap.MinSlot;
            rightHeap.Pop();
            _state.Right.Remove(slot);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Admit(ColumnBatch batch, int row, Column<long> times, IOperatorOutput output)
    {
        var kind = batch.KindOf(row);
        if (kind is RowKind.Insert or RowKind.UpdateAfter && !times.IsNull(row))
        {
            return true;
        }

        Reject(batch, row, output, kind);
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Reject(ColumnBatch batch, int row, IOperatorOutput output, RowKind kind) =>
        output.EmitError(batch, row, kind is RowKind.Insert or RowKind.UpdateAfter
            ? "interval join: the event-time column is NULL"
            : $"interval join: input must be append-only, got a {kind} row");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long SatAdd(long a, long b)
    {
        var r = a + b;
        // Overflow happened when both operands share a sign that the result lost.
        return ((a ^ r) & (b ^ r)) < 0 ? (b > 0 ? long.MaxValue : long.MinValue) : r;
    }
}
