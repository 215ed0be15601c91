using System.Runtime.CompilerServices;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Runtime.Exchange;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>
/// Interns non-NULL BIGINT keys as dense ids 0..Count-1 and remembers, per id, the downstream task the hash exchange
/// sends the key to. Small non-negative keys (ids, codes) are found by indexing an array (<see cref="DirectKeyIndex"/>);
/// others by open addressing on the key. It only grows; its owner calls <see cref="Clear"/> when it holds no state that uses the ids.
/// </summary>
internal sealed class LongKeyTable
{
    private readonly int _targets;
    private DirectKeyIndex _direct;
    private int[] _slots = new int[1024];
    private long[] _keys = new long[256];
    private int[] _targetOf = new int[256];

    /// <summary>Creates a table whose keys go to one of <paramref name="targets"/> downstream tasks.</summary>
    public LongKeyTable(int targets)
    {
        _targets = targets;
        NullTarget = KeyHasher.TaskOf(KeyHasher.KeyGroupOf(KeyHasher.NullSingleKeyHash), targets);
    }

    /// <summary>How many keys are interned.</summary>
    public int Count { get; private set; }

    /// <summary>The downstream task of the NULL key.</summary>
    public int NullTarget { get; }

    /// <summary>id + 1 per small non-negative key (0: not indexed there), for loops that look keys up inline.</summary>
    public int[] DirectIds => _direct.Ids;

    /// <summary>The key of each id.</summary>
    public long[] Keys => _keys;

    /// <summary>The downstream task of each id.</summary>
    public int[] TargetOf => _targetOf;

    /// <summary>The id of <paramref name="key"/>, interning it when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IdOf(long key)
    {
        var id = _direct.Find(key);
        return id >= 0 ? id : IdOfHashed(key);
    }

    /// <summary>Forgets every key.</summary>
    public void Clear()
    {
        _direct.Clear();
        Array.Clear(_slots);
        Count = 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int IdOfHashed(long key)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var h = (int)(SlotHash(key) & (uint)mask);
        int id;
        while (true)
        {
            var s = slots[h];
            if (s == 0)
            {
                id = Add(key, h);
                break;
            }

            if (_keys[s - 1] == key)
            {
                id = s - 1;
                break;
            }

            h = (h + 1) & mask;
        }

        _direct.Remember(key, id, Count);
        return id;
    }

    private int Add(long key, int slot)
    {
        var id = Count++;
        if (id >= _keys.Length)
        {
            Array.Resize(ref _keys, _keys.Length * 2);
            Array.Resize(ref _targetOf, _keys.Length);
        }

        _keys[id] = key;
        _targetOf[id] = KeyHasher.TaskOf(KeyHasher.KeyGroupOf(KeyHasher.HashLongKey(key)), _targets);
        _slots[slot] = id + 1;
        if (Count * 2 > _slots.Length)
        {
            Rehash();
        }

        return id;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SlotHash(long key)
    {
        var h = (ulong)key * 0x9E3779B97F4A7C15UL;
        return h ^ (h >> 29);
    }

    private void Rehash()
    {
        _slots = new int[_slots.Length * 2];
        var mask = _slots.Length - 1;
        for (var id = 0; id < Count; id++)
        {
            var h = (int)(SlotHash(_keys[id]) & (uint)mask);
            while (_slots[h] != 0)
            {
                h = (h + 1) & mask;
            }

            _slots[h] = id + 1;
        }
    }
}
