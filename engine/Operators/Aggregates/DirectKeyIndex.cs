using System.Runtime.CompilerServices;

namespace Streams.Engine.Operators.Aggregates;

/// <summary>
/// A shortcut in front of a BIGINT key hash table: small non-negative keys (ids, codes) find their dense id by
/// indexing an array, no hashing or probing. The array grows only while it stays within a small multiple of the keys
/// interned, so sparse or negative keys simply keep using the hash table.
/// </summary>
internal struct DirectKeyIndex
{
    /// <summary>Keys below this bound may be indexed directly (at most 1 MiB of ints).</summary>
    private const long Limit = 1 << 18;

    // id + 1 per key; 0 = not known here (ask the hash table).
    private int[] _ids;

    /// <summary>id + 1 per key below the array's length (0: not indexed here).</summary>
    public readonly int[] Ids => _ids ?? [];

    /// <summary>The id of <paramref name="key"/> if it is indexed here, else -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Find(long key)
    {
        var ids = _ids;
        return ids is not null && (ulong)key < (ulong)ids.Length ? ids[key] - 1 : -1;
    }

    /// <summary>Indexes <paramref name="key"/> → <paramref name="id"/> when the key is small enough; <paramref name="keyCount"/> bounds the array.</summary>
    public void Remember(long key, int id, int keyCount)
    {
        if ((ulong)key >= Limit)
        {
            return;
        }

        _ids ??= [];
        if (key >= _ids.Length)
        {
            var size = (int)Math.Max(1024, System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)key + 1));
            if (size > 4 * keyCount + 4096)
            {
                return;
            }

            Array.Resize(ref _ids, size);
        }

        _ids[key] = id + 1;
    }

    /// <summary>Forgets every key.</summary>
    public readonly void Clear()
    {
        if (_ids is not null)
        {
            Array.Clear(_ids);
        }
    }
}
