using Streams.Engine.State;

namespace Streams.Engine.Operators.SessionWindow;

/// <summary>
/// Checkpointing of the session window: header (format, gap, input schema), keys, accumulator slots, every open
/// session (key, start, end, slot), the timer queue and the watermark.
/// </summary>
public sealed partial class SessionWindowOperator : ICheckpointableOperator
{
    private const string SnapshotFormat = "session-window/1";

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        SnapshotHeader.Write(writer, SnapshotFormat, _state.Input);
        writer.WriteInt64(_gap);
        writer.WriteInt64(_state.Watermark);
        _state.Keys.Snapshot(writer);
        _state.Slots.Snapshot(writer);
        var keys = new List<int>();
        var starts = new List<long>();
        var ends = new List<long>();
        var slots = new List<int>();
        for (var id = 0; id < _state.Keys.Count && id < _state.SessionsByKey.Length; id++)
        {
            foreach (var session in _state.SessionsByKey[id] ?? [])
            {
                keys.Add(id);
                starts.Add(session.Start);
                ends.Add(session.End);
                slots.Add(session.Slot);
            }
        }

        writer.WriteValues<int>(keys.ToArray());
        writer.WriteValues<long>(starts.ToArray());
        writer.WriteValues<long>(ends.ToArray());
        writer.WriteValues<int>(slots.ToArray());
        var timerKeys = new List<int>();
        var timerStarts = new List<long>();
        var timerEnds = new List<long>();
        var timerAt = new List<long>();
        foreach (var ((key, start, end), at) in _state.Timers.UnorderedItems)
        {
            timerKeys.Add(key);
            timerStarts.Add(start);
            timerEnds.Add(end);
            timerAt.Add(at);
        }

        writer.WriteValues<int>(timerKeys.ToArray());
        writer.WriteValues<long>(timerStarts.ToArray());
        writer.WriteValues<long>(timerEnds.ToArray());
        writer.WriteValues<long>(timerAt.ToArray());
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        if (_state.Keys.Count != 0)
        {
            throw new InvalidOperationException("a session window is restored only before its first batch");
        }

        SnapshotHeader.Read(reader, SnapshotFormat, _state.Input);
        var gap = reader.ReadInt64();
        if (gap != _gap)
        {
            throw new InvalidDataException($"session window snapshot has a gap of {gap} ms but the operator's gap is {_gap} ms: the query changed");
        }

        _state.Watermark = reader.ReadInt64();
        _state.Keys.Restore(reader, _state.Input);
        _state.Slots.Restore(reader);
        if (_state.SessionsByKey.Length < _state.Keys.Count)
        {
            _state.SessionsByKey = new List<SessionWindowState.Session>?[_state.Keys.Count];
        }

        var keys = reader.ReadValues<int>();
        var starts = reader.ReadValues<long>();
        var ends = reader.ReadValues<long>();
        var slots = reader.ReadValues<int>();
        Check(keys.Length, starts.Length, ends.Length, slots.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            if ((uint)keys[i] >= (uint)_state.Keys.Count)
            {
                throw new InvalidDataException($"session window snapshot names key #{keys[i]} of {_state.Keys.Count}: the snapshot is damaged");
            }

            (_state.SessionsByKey[keys[i]] ??= []).Add(new SessionWindowState.Session { Start = starts[i], End = ends[i], Slot = slots[i] });
        }

        var timerKeys = reader.ReadValues<int>();
        var timerStarts = reader.ReadValues<long>();
        var timerEnds = reader.ReadValues<long>();
        var timerAt = reader.ReadValues<long>();
        Check(timerKeys.Length, timerStarts.Length, timerEnds.Length, timerAt.Length);
        for (var i = 0; i < timerKeys.Length; i++)
        {
            _state.Timers.Enqueue((timerKeys[i], timerStarts[i], timerEnds[i]), timerAt[i]);
        }
    }

    private static void Check(int a, int b, int c, int d)
    {
        if (a != b || a != c || a != d)
        {
            throw new InvalidDataException("session window snapshot columns differ in length: the snapshot is damaged");
        }
    }
}
