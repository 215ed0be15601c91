using Streams.Engine.State;

namespace Streams.Query.Execution;

/// <summary>
/// Checkpointing of Top-N: a header (format, input schema) then every partition's kept rows in rank order (ties in
/// arrival order), each value with a type tag, so a restored operator ranks exactly the rows an uninterrupted one would
/// and knows which top N the output already shows.
/// </summary>
internal sealed partial class TopNOperator : ICheckpointableOperator
{
    private const string SnapshotFormat = "top-n/2";

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
                    BoxedValueCodec.Write(writer, value);
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
                    row[c] = BoxedValueCodec.Read(reader);
                }

                rows.Add(row);
            }

            _partitions[key] = rows;
        }

        RebuildEmitted();
    }
}
