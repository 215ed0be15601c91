using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streams.Engine.Checkpoints;

/// <summary>
/// The manifest's on-disk form: one header line <c>STREAMS-CHECKPOINT 1 length=N xxh64=H</c>, then N bytes of JSON.
/// The length catches truncation, the checksum catches flipped bytes; the JSON stays readable for people.
/// </summary>
internal static class ManifestCodec
{
    private const string Magic = "STREAMS-CHECKPOINT";
    private const int Version = 1;

    public static byte[] Encode(CheckpointManifest manifest)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJsonContext.Default.CheckpointManifest);
        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Magic} {Version} length={body.Length} xxh64={FileChecksum.Of(body)}\n"));
        var all = new byte[header.Length + body.Length];
        header.CopyTo(all, 0);
        body.CopyTo(all, header.Length);
        return all;
    }

    /// <summary>Decodes and verifies a manifest; throws <see cref="CorruptCheckpointException"/> naming <paramref name="path"/> on any damage.</summary>
    public static CheckpointManifest Decode(ReadOnlySpan<byte> content, string path)
    {
        var newline = content.IndexOf((byte)'\n');
        if (newline < 0)
        {
            throw new CorruptCheckpointException(path, $"no header line (file is {content.Length} bytes, probably torn)");
        }

        var header = Encoding.ASCII.GetString(content[..newline]).Split(' ');
        if (header.Length != 4 || header[0] != Magic)
        {
            throw new CorruptCheckpointException(path, "the header is not a Streams checkpoint header");
        }

        if (header[1] != Version.ToString(CultureInfo.InvariantCulture))
        {
            throw new CorruptCheckpointException(path, $"manifest format version {header[1]} is not supported (this build reads {Version})");
        }

        if (!header[2].StartsWith("length=", StringComparison.Ordinal)
            || !int.TryParse(header[2].AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || !header[3].StartsWith("xxh64=", StringComparison.Ordinal))
        {
            throw new CorruptCheckpointException(path, "the header's length or checksum field is damaged");
        }

        var body = content[(newline + 1)..];
        if (body.Length != length)
        {
            throw new CorruptCheckpointException(path, $"the body is {body.Length} bytes but the header says {length} (truncated or appended to)");
        }

        var expected = header[3][6..];
        var actual = FileChecksum.Of(body);
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            throw new CorruptCheckpointException(path, $"checksum mismatch (header xxh64={expected}, content xxh64={actual})");
        }

        try
        {
            return JsonSerializer.Deserialize(body, ManifestJsonContext.Default.CheckpointManifest)
                ?? throw new CorruptCheckpointException(path, "the body is empty JSON");
        }
        catch (JsonException e)
        {
            throw new CorruptCheckpointException(path, $"the body is not a valid manifest: {e.Message}");
        }
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CheckpointManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
