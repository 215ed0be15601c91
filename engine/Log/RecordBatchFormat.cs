using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Streams.Engine.Log;

/// <summary>
/// The on-disk layout of a record batch (little-endian). The base offset and length sit before the CRC so the log can
/// assign offsets without re-checksumming; the CRC32C covers every byte after itself.
/// <code>
///  0 i64 base offset        8 i32 batch length (whole batch, header included)   12 u32 CRC32C of [16, length)
/// 16 u16 format version    18 u16 attributes (bit 4 transactional, bit 5 control; bits 0-3 reserved for compression)
/// 20 i32 record count      24 i64 first timestamp   32 i64 max timestamp
/// 40 i64 producer id (-1)  48 i16 producer epoch    50 i16 reserved   52 i32 base sequence (-1)
/// 56 records: i32 size-after-this, i64 timestamp, i32 key length (-1 = null), key, i32 value length (-1 = null), value,
///    u16 header count, then per header: u16 name length, UTF-8 name, i32 value length, value
/// </code>
/// </summary>
internal static class RecordBatchFormat
{
    public const int BaseOffsetAt = 0;
    public const int LengthAt = 8;
    public const int CrcAt = 12;
    public const int VersionAt = 16;
    public const int AttributesAt = 18;
    public const int CountAt = 20;
    public const int FirstTimestampAt = 24;
    public const int MaxTimestampAt = 32;
    public const int ProducerIdAt = 40;
    public const int EpochAt = 48;
    public const int BaseSequenceAt = 52;
    public const int HeaderSize = 56;
    public const ushort Version = 1;

    /// <summary>Smallest possible record: size, timestamp, key length, value length, header count.</summary>
    public const int MinRecordSize = 4 + 8 + 4 + 4 + 2;

    public static long BaseOffset(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64LittleEndian(batch);

    public static int Length(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt32LittleEndian(batch[LengthAt..]);

    public static uint StoredCrc(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadUInt32LittleEndian(batch[CrcAt..]);

    public static BatchAttributes Attributes(ReadOnlySpan<byte> batch) => (BatchAttributes)BinaryPrimitives.ReadUInt16LittleEndian(batch[AttributesAt..]);

    public static int Count(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt32LittleEndian(batch[CountAt..]);

    public static long FirstTimestamp(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64LittleEndian(batch[FirstTimestampAt..]);

    public static long MaxTimestamp(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64LittleEndian(batch[MaxTimestampAt..]);

    public static long ProducerId(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64LittleEndian(batch[ProducerIdAt..]);

    public static short Epoch(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt16LittleEndian(batch[EpochAt..]);

    public static int BaseSequence(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt32LittleEndian(batch[BaseSequenceAt..]);

    /// <summary>Why a batch failed validation, or null when it is sound.</summary>
    public static string? Validate(ReadOnlySpan<byte> batch, long expectedBaseOffset)
    {
        if (batch.Length < HeaderSize)
        {
            return "truncated header";
        }

        var length = Length(batch);
        if (length < HeaderSize || length > batch.Length)
        {
            return length < HeaderSize ? $"impossible batch length {length}" : $"batch length {length} runs past the end of the data ({batch.Length} bytes left)";
        }

        var body = batch[..length];
        var stored = StoredCrc(body);
        var actual = Crc32C.Compute(body[(CrcAt + 4)..]);
        if (stored != actual)
        {
            return $"CRC32C mismatch (stored {stored:x8}, computed {actual:x8})";
        }

        if (BaseOffset(body) != expectedBaseOffset)
        {
            return $"base offset {BaseOffset(body)} where {expectedBaseOffset} was expected";
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(body[VersionAt..]) != Version)
        {
            return "unknown batch format version";
        }

        return CheckRecords(body);
    }

    /// <summary>Walks the records of a CRC-valid batch to make sure their lengths add up (a writer bug would show here).</summary>
    private static string? CheckRecords(ReadOnlySpan<byte> batch)
    {
        var count = Count(batch);
        var at = HeaderSize;
        for (var i = 0; i < count; i++)
        {
            if (batch.Length - at < 4)
            {
                return $"record {i} runs past the batch";
            }

            var size = BinaryPrimitives.ReadInt32LittleEndian(batch[at..]);
            if (size < MinRecordSize - 4 || size > batch.Length - at - 4)
            {
                return $"record {i} has impossible size {size}";
            }

            at += 4 + size;
        }

        return at == batch.Length ? null : "record count does not match the batch length";
    }
}

/// <summary>Flags stored in a batch header.</summary>
[Flags]
public enum BatchAttributes : ushort
{
    /// <summary>An ordinary batch.</summary>
    None = 0,
    /// <summary>Part of a transaction: read-committed readers hold it back until the commit marker (reserved for exactly-once sinks).</summary>
    Transactional = 1 << 4,
    /// <summary>A control batch (transaction commit/abort marker), never shown to applications.</summary>
    Control = 1 << 5,
}

/// <summary>
/// CRC32C (Castagnoli) on the hardware instruction (<see cref="BitOperations.Crc32C(uint, ulong)"/>). Large inputs run
/// three independent lanes (the instruction has 3-cycle latency but 1-cycle throughput) and combine them with zlib's
/// GF(2) polynomial arithmetic, which roughly triples throughput for record batches.
/// </summary>
internal static class Crc32C
{
    private const uint Polynomial = 0x82F63B78; // reflected Castagnoli
    private const int ThreeLaneMinBytes = 4096;
    private static readonly uint[] PowersOfX = BuildPowers();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        if (data.Length < ThreeLaneMinBytes)
        {
            return ~Update(0xFFFFFFFFu, data);
        }

        var words = MemoryMarshal.Cast<byte, ulong>(data);
        var lane = words.Length / 3;
        uint a = 0xFFFFFFFFu, b = 0xFFFFFFFFu, c = 0xFFFFFFFFu;
        for (var i = 0; i < lane; i++)
        {
            a = BitOperations.Crc32C(a, words[i]);
            b = BitOperations.Crc32C(b, words[lane + i]);
            c = BitOperations.Crc32C(c, words[2 * lane + i]);
        }

        var laneBytes = lane * 8;
        c = Update(c, data[(3 * laneBytes)..]);
        var crcA = ~a;
        var crcB = ~b;
        var crcC = ~c;
        var ab = Combine(crcA, crcB, laneBytes);
        return Combine(ab, crcC, data.Length - 2 * laneBytes);
    }

    /// <summary>The single-lane reference (also used for short inputs and tails).</summary>
    public static uint ComputeSimple(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var w in words)
        {
            crc = BitOperations.Crc32C(crc, w);
        }

        foreach (var b in data[(words.Length * 8)..])
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }

    /// <summary>CRC of A‖B from CRC(A), CRC(B) and |B| (zlib's crc32_combine with the Castagnoli polynomial).</summary>
    private static uint Combine(uint crcA, uint crcB, long lengthB) => MultiplyModP(PowerOfX(lengthB, 3), crcA) ^ crcB;

    private static uint MultiplyModP(uint a, uint b)
    {
        var m = 1u << 31;
        var p = 0u;
        while (true)
        {
            if ((a & m) != 0)
            {
                p ^= b;
                if ((a & (m - 1)) == 0)
                {
                    return p;
                }
            }

            m >>= 1;
            b = (b & 1) != 0 ? (b >> 1) ^ Polynomial : b >> 1;
        }
    }

    /// <summary>x^(n·2^k) mod P.</summary>
    private static uint PowerOfX(long n, int k)
    {
        var p = 1u << 31;
        while (n != 0)
        {
            if ((n & 1) != 0)
            {
                p = MultiplyModP(PowersOfX[k & 31], p);
            }

            n >>= 1;
            k++;
        }

        return p;
    }

    private static uint[] BuildPowers()
    {
        var table = new uint[32];
        var p = 1u << 30; // x^1
        table[0] = p;
        for (var n = 1; n < 32; n++)
        {
            table[n] = p = MultiplyModP(p, p);
        }

        return table;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Stamp(Span<byte> batch) =>
        BinaryPrimitives.WriteUInt32LittleEndian(batch[RecordBatchFormat.CrcAt..], Compute(batch[(RecordBatchFormat.CrcAt + 4)..]));
}
