using Streams.Engine.State;

namespace Streams.Query.Execution;

/// <summary>
/// Checkpointing of Top-N: a header (format, input schema) then every partition's kept rows in arrival order, each
/// value with a type tag, so a restored operator ranks exactly the rows an uninterrupted one would.
/// </summary>
internal sealed partial class TopNOperator : ICheckpointableOperator
{
    private const string SnapshotFormat = "top-n/1";

    public void Snapshot(IStateSnapshotWriter writer)
    {
        writer.WriteString(SnapshotFormat);
        writer.WriteString(_input.ToString());
        writer.WriteInt32(_partitions.Count);
        foreach (var (key, rows) in _partitions)
        {
            writer.WriteString(key);
            writer.WriteInt32(rows.Count);
            foreach (var row in rows)
            {
                foreach (var value in row)
                {
                    WriteValue(writer, value);
                }
            }
        }
    }

    public void Restore(IStateSnapshotReader reader)
    {
        var format = reader.ReadString();
        var schema = reader.ReadString();
        if (format != SnapshotFormat || schema != _input.ToString())
        {
            throw new InvalidDataException($"Top-N snapshot is '{format}' over {schema}; this operator is '{SnapshotFormat}' over {_input}: the query changed");
        }

        _partitions.Clear();
        var partitions = reader.ReadInt32();
        for (var p = 0; p < partitions; p++)
        {
            var key = reader.ReadString() ?? "";
            var count = reader.ReadInt32();
            var rows = new List<object?[]>(count);
            for (var r = 0; r < count; r++)
            {
                var row = new object?[_input.Count];
                for (var c = 0; c < row.Length; c++)
                {
                    row[c] = ReadValue(reader);
                }

                rows.Add(row);
            }

            _partitions[key] = rows;
        }
    }

    private static void WriteValue(IStateSnapshotWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteInt32(0);
                break;
            case bool b:
                writer.WriteInt32(1);
                writer.WriteBoolean(b);
                break;
            case int i:
                writer.WriteInt32(2);
                writer.WriteInt32(i);
                break;
            case long l:
                writer.WriteInt32(3);
                writer.WriteInt64(l);
                break;
            case double d:
                writer.WriteInt32(4);
                writer.WriteDouble(d);
                break;
            case decimal m:
                writer.WriteInt32(5);
                writer.WriteValues<int>(decimal.GetBits(m));
                break;
            case string s:
                writer.WriteInt32(6);
                writer.WriteString(s);
                break;
            default:
                throw new NotSupportedException($"Top-N cannot snapshot a value of type {value.GetType().Name}");
        }
    }

    private static object? ReadValue(IStateSnapshotReader reader) => reader.ReadInt32() switch
    {
        0 => null,
        1 => reader.ReadBoolean(),
        2 => reader.ReadInt32(),
        3 => reader.ReadInt64(),
        4 => reader.ReadDouble(),
        5 => new decimal(reader.ReadValues<int>()),
        6 => reader.ReadString(),
        var tag => throw new InvalidDataException($"Top-N snapshot holds a value with unknown type tag {tag}: the snapshot is damaged"),
    };
}
