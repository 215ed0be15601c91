using System.Buffers.Binary;

namespace Streams.Engine.Log;

/// <summary>
/// Maps keys to partitions with Kafka's default hash: <c>(murmur2(key) &amp; 0x7fffffff) % partitions</c> (seed 0x9747b28c),
/// so the same key lands on the same partition forever and matches what a Kafka producer would pick.
/// </summary>
public static class KeyPartitioner
{
    /// <summary>The partition for <paramref name="key"/> among <paramref name="partitions"/>.</summary>
    public static int PartitionFor(ReadOnlySpan<byte> key, int partitions) => (int)((Murmur2(key) & 0x7fffffff) % (uint)partitions);

    /// <summary>Kafka's murmur2 variant.</summary>
    public static uint Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28cu ^ (uint)length;
        var words = length / 4;
        for (var i = 0; i < words; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data[(i * 4)..]);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }

        var tail = words * 4;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }
}
