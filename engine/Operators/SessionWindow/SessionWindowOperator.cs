using Streams.Engine.Data;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Exchange;

namespace Streams.Engine.Operators.SessionWindow;

/// <summary>
/// Keyed session window aggregate over event time (Flink semantics): each row opens [ts, ts + gap); sessions of a key
/// that overlap or touch merge (an out-of-order row can bridge two). A session fires once the watermark reaches its
/// end − 1 + allowed lateness. Output: keys..., window_start, window_end, aggregates... . A row that would form a
/// session which already ended before the watermark goes to the late side output.
/// </summary>
public sealed partial class SessionWindowOperator : IOperator
{
    private readonly WindowAggregateSpec _spec;
    private readonly Schema _outputSchema;
    private readonly SessionWindowState _state;
    private readonly BatchPool _pool;
    private readonly int _batchSize;
    private readonly long _gap;
    private int[] _ids = [];
    private int[] _slots = [];
    private int[] _late = [];
    private int[] _redirect = [];
    private readonly List<int> _merged = [];

    /// <summary>Creates the operator for rows of <paramref name="input"/>.</summary>
    public SessionWindowOperator(Schema input, WindowAggregateSpec spec, OutputTag lateTag, BatchPool pool, int batchSize = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Window.Kind != WindowKind.Session)
        {
            throw new ArgumentException("not a session window", nameof(spec));
        }

        _spec = spec;
        _outputSchema = spec.OutputSchema(input);
        _state = new SessionWindowState(input, spec);
        LateTag = lateTag;
        _pool = pool;
        _batchSize = batchSize;
        _gap = spec.Window.GapMs;
    }

    /// <summary>The side output late rows go to (input schema).</summary>
    public OutputTag LateTag { get; }

    /// <inheritdoc />
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        var n = batch.Count;
        if (_ids.Length < n)
        {
            _ids = new int[batch.Capacity];
            _slots = new int[batch.Capacity];
            _late = new int[batch.Capacity];
        }

        _state.Keys.Lookup(batch, _ids);
        if (_state.SessionsByKey.Length < _state.Keys.Count)
        {
            var grown = new List<SessionWindowState.Session>?[Math.Max(_state.Keys.Count, _state.SessionsByKey.Length * 2)];
            _state.SessionsByKey.CopyTo(grown, 0);
            _state.SessionsByKey = grown;
        }

        var tsColumn = batch.ColumnAt<long>(_spec.EventTimeColumn);
        var lateCount = 0;
        _merged.Clear();
        for (var i = 0; i < n; i++)
        {
            var id = _ids[i];
            _slots[i] = -1;
            if (id < 0)
            {
                continue;
            }

            var t = tsColumn.Values[i];
            if (tsColumn.IsNull(i) || !EventTime.IsValid(t))
            {
                output.EmitError(batch, i, tsColumn.IsNull(i) ? "event time is NULL: the row belongs to no session" : $"event time {t} ms is outside years 0001-9999");
                continue;
            }

            var slot = Assign(id, t, t + _gap);
            if (slot < 0)
            {
                _late[lateCount++] = i;
                continue;
            }

            _slots[i] = slot;
        }

        // Rows assigned before a later row merged their session follow the merge to the surviving slot.
        if (_merged.Count > 0)
        {
            for (var i = 0; i < n; i++)
            {
                if (_slots[i] >= 0)
                {
                    _slots[i] = Resolve(_slots[i]);
                }
            }
        }

        _state.Slots.AddRows(batch, _slots, output, 1);
        foreach (var gone in _merged)
        {
            _redirect[gone] = -1;
            _state.Slots.Release(gone);
        }

        if (lateCount > 0)
        {
            var late = batch.Pool.Rent(batch.Schema, batch.Capacity);
            BatchGather.Append(batch, _late.AsSpan(0, lateCount), late);
            output.EmitSide(LateTag, late);
        }

        batch.Dispose();
    }

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        if (watermark > _state.Watermark)
        {
            _state.Watermark = watermark;
            Fire(watermark, output);
        }

        output.EmitWatermark(watermark);
    }

    /// <inheritdoc />
    public void OnEndOfInput(IOperatorOutput output) => Fire(long.MaxValue, output);

    /// <summary>Puts [start, end) into key <paramref name="id"/>'s sessions, merging what it overlaps or touches; returns the slot, or -1 when late.</summary>
    private int Assign(int id, long start, long end)
    {
        var sessions = _state.SessionsByKey[id] ??= [];
        var first = -1;
        for (var s = 0; s < sessions.Count; s++)
        {
            var session = sessions[s];
            if (session.Start > end || session.End < start)
            {
                continue;
            }

            if (first < 0)
            {
                first = s;
                session.Start = Math.Min(session.Start, start);
                session.End = Math.Max(session.End, end);
                sessions[s] = session;
                continue;
            }

            // A second overlapping session: the new row bridges them, fold it into the first.
            var target = sessions[first];
            target.Start = Math.Min(target.Start, session.Start);
            target.End = Math.Max(target.End, session.End);
            sessions[first] = target;
            _state.Slots.Merge(session.Slot, target.Slot);
            Redirect(session.Slot, target.Slot);
            sessions.RemoveAt(s);
            s--;
        }

        if (first >= 0)
        {
            var merged = sessions[first];
            // The merged session may now reach sessions it did not touch before: merge until stable.
            for (var s = 0; s < sessions.Count; s++)
            {
                if (s == first)
                {
                    continue;
                }

                var other = sessions[s];
                if (other.Start <= merged.End && other.End >= merged.Start)
                {
                    merged.Start = Math.Min(merged.Start, other.Start);
                    merged.End = Math.Max(merged.End, other.End);
                    _state.Slots.Merge(other.Slot, merged.Slot);
                    Redirect(other.Slot, merged.Slot);
                    sessions.RemoveAt(s);
                    if (s < first)
                    {
                        first--;
                    }

                    s = -1;
                }
            }

            sessions[first] = merged;
            _state.Timers.Enqueue((id, merged.Start, merged.End), FireTime(merged.End));
            return merged.Slot;
        }

        if (FireTime(end) <= _state.Watermark)
        {
            return -1;
        }

        var slot = _state.Slots.Allocate();
        sessions.Add(new SessionWindowState.Session { Start = start, End = end, Slot = slot });
        _state.Timers.Enqueue((id, start, end), FireTime(end));
        return slot;
    }

    private long FireTime(long end) => end - 1 + _spec.AllowedLatenessMs;

    private void Redirect(int from, int to)
    {
        if (_redirect.Length <= from)
        {
            var grown = new int[Math.Max(from + 1, _redirect.Length * 2)];
            Array.Fill(grown, -1);
            _redirect.CopyTo(grown, 0);
            _redirect = grown;
        }

        _redirect[from] = to;
        _merged.Add(from);
    }

    private int Resolve(int slot)
    {
        while (slot < _redirect.Length && _redirect[slot] >= 0)
        {
            slot = _redirect[slot];
        }

        return slot;
    }

    private void Fire(long watermark, IOperatorOutput output)
    {
        ColumnBatch? result = null;
        while (_state.Timers.TryPeek(out var timer, out var at) && at <= watermark)
        {
            _state.Timers.Dequeue();
            var sessions = _state.SessionsByKey[timer.KeyId];
            if (sessions is null)
            {
                continue;
            }

            var index = sessions.FindIndex(s => s.Start == timer.Start && s.End == timer.End);
            if (index < 0)
            {
                // The session merged or grew after this timer was set; a newer timer covers it.
                continue;
            }

            var session = sessions[index];
            sessions.RemoveAt(index);
            if (result is null || result.IsFull)
            {
                if (result is not null)
                {
                    output.Emit(result);
                }

                result = _pool.Rent(_outputSchema, _batchSize);
            }

            var row = result.Count;
            var k = _spec.KeyColumns.Length;
            _state.Keys.WriteKey(timer.KeyId, result, row);
            result.ColumnAt<long>(k).Values[row] = session.Start;
            result.ColumnAt<long>(k + 1).Values[row] = session.End;
            _state.Slots.Write(session.Slot, result, k + 2, row);
            result.Count = row + 1;
            _state.Slots.Release(session.Slot);
        }

        if (result is not null)
        {
            if (result.Count > 0)
            {
                output.Emit(result);
            }
            else
            {
                result.Dispose();
            }
        }
    }
}
