using Streams.Engine.Data;

namespace Streams.Engine.State;

/// <summary>
/// The header every operator snapshot starts with: the operator's format tag and the input schemas its state belongs
/// to, so a snapshot is refused, with both sides named, rather than restored into a different operator or query.
/// </summary>
internal static class SnapshotHeader
{
    /// <summary>Writes the header: format tag and the schemas the state belongs to.</summary>
    public static void Write(IStateSnapshotWriter writer, string format, params Schema[] schemas)
    {
        writer.WriteString(format);
        writer.WriteInt32(schemas.Length);
        foreach (var s in schemas)
        {
            writer.WriteString(s.ToString());
        }
    }

    /// <summary>Reads and checks the header written by <see cref="Write"/>.</summary>
    public static void Read(IStateSnapshotReader reader, string format, params Schema[] schemas)
    {
        var found = reader.ReadString();
        if (found != format)
        {
            throw new InvalidDataException($"state snapshot is '{found}', expected '{format}'");
        }

        var n = reader.ReadInt32();
        if (n != schemas.Length)
        {
            throw new InvalidDataException($"state snapshot '{format}' has {n} schemas, expected {schemas.Length}");
        }

        foreach (var s in schemas)
        {
            var text = reader.ReadString();
            if (text != s.ToString())
            {
                throw new InvalidDataException($"state snapshot '{format}' was taken for input {text}, this operator reads {s}");
            }
        }
    }
}
