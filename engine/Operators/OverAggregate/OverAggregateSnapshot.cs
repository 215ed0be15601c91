using Streams.Engine.State;

namespace Streams.Engine.Operators.OverAggregate;

/// <summary>
/// Checkpointing of the OVER aggregate: the watermark, the partition keys, each partition's frame (times and
/// accumulator rows) and the rows still held for the watermark, written value by value.
/// </summary>
public sealed partial class OverAggregateOperator
{
    private const string Format = "over-aggregate/1";

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SnapshotHeader.Write(writer, Format, _input);
        writer.WriteInt64(_watermark);
        writer.WriteInt64(_arrivals);
        _keys.Snapshot(writer);
        writer.WriteInt32(_partitions.Count);
        foreach (var p in _partitions)
        {
            writer.WriteBoolean(p is not null);
            p?.Snapshot(writer);
        }

        writer.WriteInt32(_pendingCount);
        for (var i = 0; i < _pendingCount; i++)
        {
            var p = _pending[i];
            writer.WriteInt64(p.Ts);
            writer.WriteInt64(p.Arrival);
            writer.WriteInt32(p.Key);
            var batch = _store[p.Slot]!;
            foreach (var column in batch.Columns)
            {
                BoxedValueCodec.Write(writer, column.GetBoxed(p.Row));
            }
        }
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        SnapshotHeader.Read(reader, Format, _input);
        _watermark = reader.ReadInt64();
        _arrivals = reader.ReadInt64();
        _keys.Restore(reader, _input);
        _partitions.Clear();
        var partitions = reader.ReadInt32();
        for (var i = 0; i < partitions; i++)
        {
            OverPartition? p = null;
            if (reader.ReadBoolean())
            {
                p = new OverPartition(_spec, _input);
                p.Restore(reader);
            }

            _partitions.Add(p);
        }

        Dispose();
        var held = reader.ReadInt32();
        for (var i = 0; i < held; i++)
        {
            var ts = reader.ReadInt64();
            var arrival = reader.ReadInt64();
            var key = reader.ReadInt32();
            var target = AppendTarget();
            var row = target.Count;
            foreach (var column in target.Columns)
            {
                column.SetBoxed(row, BoxedValueCodec.Read(reader));
            }

            target.Count = row + 1;
            _storeRemaining[_appendSlot]++;
            Push(new PendingRow(ts, arrival, key, _appendSlot, row));
        }
    }
}
