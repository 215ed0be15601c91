namespace Streams.Engine.State;

/// <summary>
/// Writes boxed SQL values (rows kept as <c>object?[]</c>, such as a group's last emitted result or Top-N's kept rows)
/// into a snapshot, each with a type tag, and reads them back.
/// </summary>
public static class BoxedValueCodec
{
    /// <summary>Writes a row (or null) with its length.</summary>
    public static void WriteRow(IStateSnapshotWriter writer, object?[]? row)
    {
        if (row is null)
        {
            writer.WriteInt32(-1);
            return;
        }

        writer.WriteInt32(row.Length);
        foreach (var value in row)
        {
            Write(writer, value);
        }
    }

    /// <summary>Reads a row written by <see cref="WriteRow"/>.</summary>
    public static object?[]? ReadRow(IStateSnapshotReader reader)
    {
        var length = reader.ReadInt32();
        if (length < 0)
        {
            return null;
        }

        var row = new object?[length];
        for (var i = 0; i < length; i++)
        {
            row[i] = Read(reader);
        }

        return row;
    }

    /// <summary>Writes one value (null, BOOLEAN, INT, BIGINT/TIMESTAMP, DOUBLE, DECIMAL or VARCHAR) with its type tag.</summary>
    public static void Write(IStateSnapshotWriter writer, object? value)
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
                throw new NotSupportedException($"cannot snapshot a value of type {value.GetType().Name}");
        }
    }

    /// <summary>Reads one value written by <see cref="Write"/>.</summary>
    public static object? Read(IStateSnapshotReader reader) => reader.ReadInt32() switch
    {
        0 => null,
        1 => reader.ReadBoolean(),
        2 => reader.ReadInt32(),
        3 => reader.ReadInt64(),
        4 => reader.ReadDouble(),
        5 => new decimal(reader.ReadValues<int>()),
        6 => reader.ReadString(),
        var tag => throw new InvalidDataException($"snapshot holds a value with unknown type tag {tag}: the snapshot is damaged"),
    };
}
