using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;
using Streams.Engine.State;

namespace Streams.Engine.Operators.WindowMaxPrune;

/// <summary>
/// Checkpointing of the window-max prune: header (format, input schema), the end of the last fired window, per open
/// window its start, maximum and how many max rows and start rows it holds, then all those rows in that order.
/// </summary>
public sealed partial class WindowMaxPruneOperator : ICheckpointableOperator
{
    private const string SnapshotFormat = "window-max-prune/1";

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SnapshotHeader.Write(writer, SnapshotFormat, _input);
        writer.WriteInt64(_state.FiredUpTo);
        writer.WriteInt32(_state.Windows.Count);
        var slots = new List<int>();
        foreach (var w in _state.Windows)
        {
            writer.WriteInt64(w.Start);
            writer.WriteInt32(w.HasMax ? 1 : 0);
            writer.WriteInt64(w.Max);
            writer.WriteInt32(w.MaxRows.Count);
            writer.WriteInt32(w.StartRows.Count);
            slots.AddRange(w.MaxRows);
            slots.AddRange(w.StartRows);
        }

        JoinStateSnapshot.WriteRows(writer, _state.Rows, [.. slots]);
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (_state.Rows.Count != 0 || _state.Windows.Count != 0)
        {
            throw new InvalidOperationException("a window-max prune is restored only before its first batch");
        }

        SnapshotHeader.Read(reader, SnapshotFormat, _input);
        _state.FiredUpTo = reader.ReadInt64();
        var windows = reader.ReadInt32();
        var counts = new List<(int Max, int Start)>();
        for (var i = 0; i < windows; i++)
        {
            var w = new WindowMaxPruneState.OpenWindow { Start = reader.ReadInt64(), HasMax = reader.ReadInt32() != 0, Max = reader.ReadInt64() };
            counts.Add((reader.ReadInt32(), reader.ReadInt32()));
            _state.Windows.Add(w);
        }

        using var rows = JoinStateSnapshot.ReadRows(reader, _input, BatchPool.Shared);
        var at = 0;
        for (var i = 0; i < windows; i++)
        {
            var (max, start) = counts[i];
            if (at + max + start > rows.Count)
            {
                throw new InvalidDataException($"window-max snapshot lists more rows than it holds ({rows.Count}): the snapshot is damaged");
            }

            for (var r = 0; r < max; r++)
            {
                _state.Windows[i].MaxRows.Add(_state.Rows.Add(rows, at++));
            }

            for (var r = 0; r < start; r++)
            {
                _state.Windows[i].StartRows.Add(_state.Rows.Add(rows, at++));
            }
        }
    }
}
