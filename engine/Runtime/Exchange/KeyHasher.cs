using System.Numerics;
using System.Runtime.CompilerServices;
using Streams.Engine.Data;

namespace Streams.Engine.Runtime.Exchange;

/// <summary>
/// Stable (process- and run-independent) hashes of key columns, computed a column at a time. Stability matters:
/// checkpoints store state per key group, so a key must land in the same group after a restart.
/// </summary>
internal static class KeyHasher
{
    /// <summary>Key groups: the unit of state redistribution. Tasks own contiguous ranges of them (Flink's max parallelism).</summary>
    public const int KeyGroups = 128;

    /// <summary>Writes the combined hash of <paramref name="keyColumns"/> for rows 0..count of <paramref name="batch"/> into <paramref name="hashes"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void HashRows(ColumnBatch batch, ReadOnlySpan<int> keyColumns, Span<ulong> hashes)
    {
        var count = batch.Count;
        hashes[..count].Fill(Seed);
        foreach (var k in keyColumns)
        {
            var column = batch.Columns[k];
            // A NULL row's hash must not depend on whatever its value slot holds: keep the hash before this column.
            var before = column.HasNulls ? System.Buffers.ArrayPool<ulong>.Shared.Rent(count) : null;
            if (before is not null)
            {
                hashes[..count].CopyTo(before);
            }

            switch (column)
            {
                case Column<long> c: Combine(c.Values, count, hashes); break;
                case Column<int> c: Combine(c.Values, count, hashes); break;
                case Column<double> c: Combine(c.Values, count, hashes); break;
                case Column<bool> c: Combine(c.Values, count, hashes); break;
                case Column<decimal> c: Combine(c.Values, count, hashes); break;
                case Column<string?> c: Combine(c.Values, count, hashes); break;
                default: throw new NotSupportedException("cannot hash a column of " + column.Type);
            }

            if (before is not null)
            {
                // NULL is one group of its own.
                for (var i = 0; i < count; i++)
                {
                    if (column.IsNull(i))
                    {
                        hashes[i] = Mix(before[i] ^ NullMark);
                    }
                }

                System.Buffers.ArrayPool<ulong>.Shared.Return(before);
            }
        }
    }

    /// <summary>The hash <see cref="HashRows"/> gives a row whose only key column is the BIGINT <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong HashLongKey(long key) => Step(Seed, HashLong(key));

    /// <summary>The hash <see cref="HashRows"/> gives a row whose only key column is NULL.</summary>
    public static ulong NullSingleKeyHash => Mix(Seed ^ NullMark);

    private const ulong Seed = 0x9E3779B97F4A7C15UL;

    private const ulong NullMark = 0xA5A5A5A5UL;

    /// <summary>The key group of a row hash.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int KeyGroupOf(ulong hash) => (int)(hash % KeyGroups);

    /// <summary>The task (of <paramref name="parallelism"/>) that owns <paramref name="keyGroup"/>: contiguous ranges, as in Flink.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TaskOf(int keyGroup, int parallelism) => keyGroup * parallelism / KeyGroups;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong h)
    {
        // MurmurHash3 fmix64: cheap and spreads every input bit.
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong HashLong(long v) => Mix((ulong)v);

    public static ulong HashString(string? s)
    {
        if (s is null)
        {
            return 0;
        }

        // FNV-1a over UTF-16 code units, then fmix: stable across processes, unlike string.GetHashCode.
        var h = 14695981039346656037UL;
        foreach (var ch in s)
        {
            h = (h ^ ch) * 1099511628211UL;
        }

        return Mix(h);
    }

    public static ulong HashDecimal(decimal d)
    {
        // Normalise the scale so 1.0 and 1.00 hash alike.
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(d / 1.000000000000000000000000000000000m, bits);
        return Mix((ulong)(uint)bits[0] | ((ulong)(uint)bits[1] << 32)) ^ Mix((ulong)(uint)bits[2] | ((ulong)(uint)bits[3] << 32));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Step(ulong acc, ulong value) => BitOperations.RotateLeft(acc, 5) * 31 ^ value;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Combine(long[] values, int count, Span<ulong> hashes)
    {
        for (var i = 0; i < count; i++)
        {
            hashes[i] = Step(hashes[i], HashLong(values[i]));
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Combine(int[] values, int count, Span<ulong> hashes)
    {
        for (var i = 0; i < count; i++)
        {
            hashes[i] = Step(hashes[i], HashLong(values[i]));
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Combine(double[] values, int count, Span<ulong> hashes)
    {
        for (var i = 0; i < count; i++)
        {
            var v = values[i];
            // -0.0 and 0.0 are equal keys.
            hashes[i] = Step(hashes[i], HashLong(v == 0 ? 0 : BitConverter.DoubleToInt64Bits(v)));
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Combine(bool[] values, int count, Span<ulong> hashes)
    {
        for (var i = 0; i < count; i++)
        {
            hashes[i] = Step(hashes[i], values[i] ? 0x1234567UL : 0x7654321UL);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Combine(decimal[] values, int count, Span<ulong> hashes)
    {
        for (var i = 0; i < count; i++)
        {
            hashes[i] = Step(hashes[i], HashDecimal(values[i]));
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Combine(string?[] values, int count, Span<ulong> hashes)
    {
        for (var i = 0; i < count; i++)
        {
            hashes[i] = Step(hashes[i], HashString(values[i]));
        }
    }
}
