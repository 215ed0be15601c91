using Streams.Engine.Data;

namespace Streams.Engine.Operators.Joins;

/// <summary>
/// The rows one side of a join keeps, grouped by key: a columnar <see cref="RowArena"/> plus, per key id of a shared
/// <see cref="KeyTable"/>, a doubly linked list of slots (arrival order) so a row is removed in O(1).
/// </summary>
internal sealed class KeyedRowStore
{
    private readonly KeyTable _keys;
    private int[] _next;
    private int[] _prev;
    private int[] _keyOf;
    private int[] _head;
    private int[] _tail;
    private int[] _perKey;

    public KeyedRowStore(Schema schema, KeyTable keys)
    {
        _keys = keys;
        Rows = new RowArena(schema);
        _next = new int[Rows.Capacity];
        _prev = new int[Rows.Capacity];
        _keyOf = new int[Rows.Capacity];
        Rows.Grown += cap =>
        {
            Array.Resize(ref _next, cap);
            Array.Resize(ref _prev, cap);
            Array.Resize(ref _keyOf, cap);
        };
        _head = [];
        _tail = [];
        _perKey = [];
        EnsureKeys();
    }

    /// <summary>The stored rows.</summary>
    public RowArena Rows { get; }

    /// <summary>Rows stored.</summary>
    public int Count => Rows.Count;

    /// <summary>Stores row <paramref name="row"/> under key <paramref name="keyId"/> (adding a key reference) and returns its slot.</summary>
    public int Add(ColumnBatch batch, int row, int keyId)
    {
        EnsureKeys();
        var slot = Rows.Add(batch, row);
        _keyOf[slot] = keyId;
        _next[slot] = -1;
        var tail = _perKey[keyId] == 0 ? -1 : _tail[keyId];
        _prev[slot] = tail;
        if (tail < 0)
        {
            _head[keyId] = slot;
        }
        else
        {
            _next[tail] = slot;
        }

        _tail[keyId] = slot;
        _perKey[keyId]++;
        _keys.AddRef(keyId);
        return slot;
    }

    /// <summary>Removes <paramref name="slot"/>, dropping its key reference.</summary>
    public void Remove(int slot)
    {
        var keyId = _keyOf[slot];
        var prev = _prev[slot];
        var next = _next[slot];
        if (prev < 0)
        {
            _head[keyId] = next;
        }
        else
        {
            _next[prev] = next;
        }

        if (next < 0)
        {
            _tail[keyId] = prev;
        }
        else
        {
            _prev[next] = prev;
        }

        _perKey[keyId]--;
        Rows.Free(slot);
        _keys.Release(keyId);
    }

    /// <summary>The first slot stored under <paramref name="keyId"/>, or -1.</summary>
    public int First(int keyId) => keyId < _perKey.Length && _perKey[keyId] > 0 ? _head[keyId] : -1;

    /// <summary>The slot after <paramref name="slot"/> under the same key, or -1.</summary>
    public int Next(int slot) => _next[slot];

    /// <summary>The key id of <paramref name="slot"/>.</summary>
    public int KeyOf(int slot) => _keyOf[slot];

    /// <summary>How many rows are stored under <paramref name="keyId"/>.</summary>
    public int CountOf(int keyId) => keyId < _perKey.Length ? _perKey[keyId] : 0;

    private void EnsureKeys()
    {
        var cap = _keys.IdCapacity;
        if (_perKey.Length < cap)
        {
            Array.Resize(ref _head, cap);
            Array.Resize(ref _tail, cap);
            Array.Resize(ref _perKey, cap);
        }
    }
}
