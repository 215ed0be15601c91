using System.Buffers;
using System.IO.Hashing;

namespace Streams.Engine.Checkpoints;

/// <summary>XXH64 checksums of checkpoint files, printed as 16 lower-case hex digits.</summary>
internal static class FileChecksum
{
    private const int ChunkSize = 1 << 20;

    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static string Of(ReadOnlySpan<byte> data) => Format(XxHash64.HashToUInt64(data));

    /// <summary>The checksum and length of the file at <paramref name="path"/>, read in large sequential chunks.</summary>
    public static (string Checksum, long Length) OfFile(string path)
    {
        var hash = new XxHash64();
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            long length = 0;
            int read;
            while ((read = stream.Read(buffer, 0, ChunkSize)) > 0)
            {
                hash.Append(buffer.AsSpan(0, read));
                length += read;
            }

            return (Format(hash.GetCurrentHashAsUInt64()), length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string Format(ulong value) => value.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}
