using Streams.Engine.State;

namespace Streams.Engine.Operators.GroupAggregate;

/// <summary>
/// Checkpointing of the non-windowed GROUP BY: header (format, input schema), keys, retractable accumulator slots,
/// and per key its slot, row count and last emitted row, so retractions after recovery repeat the right row.
/// </summary>
public sealed partial class GroupAggregateOperator : ICheckpointableOperator
{
    private const string SnapshotFormat = "group-aggregate/1";

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        SnapshotHeader.Write(writer, SnapshotFormat, _state.Input);
        _state.Keys.Snapshot(writer);
        _state.Slots.Snapshot(writer);
        var keys = _state.Keys.Count;
        _state.EnsureKeys(keys);
        writer.WriteValues<int>(_state.SlotByKey.AsSpan(0, keys));
        writer.WriteValues<long>(_state.RowsByKey.AsSpan(0, keys));
        var row = new object?[_outputSchema.Count];
        using var scratch = _pool.Rent(_outputSchema, 1);
        for (var id = 0; id < keys; id++)
        {
            var slot = _state.EmittedByKey[id];
            if (slot < 0)
            {
                BoxedValueCodec.WriteRow(writer, null);
                continue;
            }

            scratch.Clear();
            _state.Keys.WriteKey(id, scratch, 0);
            _state.Emitted.CopyTo(slot, scratch, 0, _spec.KeyColumns.Length);
            for (var c = 0; c < row.Length; c++)
            {
                row[c] = scratch.Columns[c].GetBoxed(0);
            }

            BoxedValueCodec.WriteRow(writer, row);
        }
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        if (_state.Keys.Count != 0)
        {
            throw new InvalidOperationException("a group aggregate is restored only before its first batch");
        }

        SnapshotHeader.Read(reader, SnapshotFormat, _state.Input);
        _state.Keys.Restore(reader, _state.Input);
        _state.Slots.Restore(reader);
        var keys = _state.Keys.Count;
        _state.EnsureKeys(keys);
        var slots = reader.ReadValues<int>();
        var rows = reader.ReadValues<long>();
        if (slots.Length != keys || rows.Length != keys)
        {
            throw new InvalidDataException($"group aggregate snapshot has {keys} keys but {slots.Length} slots and {rows.Length} row counts: the snapshot is damaged");
        }

        slots.CopyTo(_state.SlotByKey, 0);
        rows.CopyTo(_state.RowsByKey, 0);
        using var scratch = _pool.Rent(_outputSchema, 1);
        for (var id = 0; id < keys; id++)
        {
            if (BoxedValueCodec.ReadRow(reader) is not { } row)
            {
                continue;
            }

            scratch.Clear();
            for (var c = 0; c < row.Length; c++)
            {
                scratch.Columns[c].SetBoxed(0, row[c]);
            }

            scratch.Count = 1;
            _state.EmittedByKey[id] = _state.Emitted.Add(scratch, 0);
        }
    }
}
