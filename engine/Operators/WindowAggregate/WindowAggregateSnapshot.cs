using Streams.Engine.State;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>
/// Checkpointing of the window aggregate: a header (format, window shape, input schema) so a snapshot of another
/// query is refused, then keys, accumulator slots, open slices (start, key ids, slots), the watermark and the last
/// fired window, which together make a restored operator emit exactly what an uninterrupted one would.
/// </summary>
public sealed partial class WindowAggregateOperator : ICheckpointableOperator
{
    private const string SnapshotFormat = "window-aggregate/1";

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        SnapshotHeader.Write(writer, SnapshotFormat, _state.Input);
        writer.WriteInt64(_size);
        writer.WriteInt64(_slide);
        writer.WriteInt64(_offset);
        writer.WriteBoolean(_combiner);
        writer.WriteInt64(_state.Watermark);
        writer.WriteInt64(_state.LastFiredStart);
        _state.Keys.Snapshot(writer);
        _state.Slots.Snapshot(writer);
        writer.WriteInt32(_state.Slices.Count);
        foreach (var (start, slice) in _state.Slices)
        {
            writer.WriteInt64(start);
            var ids = slice.KeyIds.ToArray();
            var slots = new int[ids.Length];
            for (var j = 0; j < ids.Length; j++)
            {
                slots[j] = slice.SlotByKey[ids[j]];
            }

            writer.WriteValues<int>(ids);
            writer.WriteValues<int>(slots);
        }
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        SnapshotHeader.Read(reader, SnapshotFormat, _state.Input);
        var size = reader.ReadInt64();
        var slide = reader.ReadInt64();
        var offset = reader.ReadInt64();
        var combiner = reader.ReadBoolean();
        if (size != _size || slide != _slide || offset != _offset || combiner != _combiner)
        {
            throw new InvalidDataException(
                $"window aggregate snapshot is for a window of size {size} ms, slide {slide} ms, offset {offset} ms{(combiner ? " (combiner)" : "")}, " +
                $"but the operator has size {_size} ms, slide {_slide} ms, offset {_offset} ms{(_combiner ? " (combiner)" : "")}: the query changed");
        }

        if (_state.Keys.Count != 0 || _state.Slices.Count != 0)
        {
            throw new InvalidOperationException("a window aggregate is restored only before its first batch");
        }

        var state = _state;
        state.Watermark = reader.ReadInt64();
        state.LastFiredStart = reader.ReadInt64();
        state.Keys.Restore(reader, state.Input);
        state.Slots.Restore(reader);
        var slices = reader.ReadInt32();
        for (var s = 0; s < slices; s++)
        {
            var start = reader.ReadInt64();
            var ids = reader.ReadValues<int>();
            var slots = reader.ReadValues<int>();
            if (ids.Length != slots.Length)
            {
                throw new InvalidDataException($"window aggregate snapshot slice {start} has {ids.Length} keys but {slots.Length} slots: the snapshot is damaged");
            }

            var slice = new WindowAggregateState.Slice(start);
            slice.EnsureKeys(state.Keys.Count);
            for (var j = 0; j < ids.Length; j++)
            {
                slice.SlotByKey[ids[j]] = slots[j];
                slice.KeyIds.Add(ids[j]);
            }

            state.Slices.Add(start, slice);
        }

        _mergeSlotByKey = [];
    }
}
