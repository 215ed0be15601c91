using System.Runtime.CompilerServices;
using Streams.Engine.Data;

namespace Streams.Engine.Operators.Joins;

/// <summary>
/// Interns join keys: maps each distinct key (compared column by column) to a dense key id, with reference counts so a key
/// disappears once no stored row uses it. Open addressing with linear probing and backward-shift deletion: no tombstones,
/// no per-key objects. Key values live in a columnar <see cref="RowArena"/>; the key id is the arena slot.
/// Both sides of a join share one table, so equal keys from either side get the same id.
/// </summary>
internal sealed class KeyTable
{
    private int[] _buckets;        // key id + 1, 0 = empty
    private int[] _hashes;         // by key id
    private int[] _refs;           // by key id
    private int _mask;

    /// <summary>Creates a table for keys of <paramref name="keyTypes"/>.</summary>
    public KeyTable(IReadOnlyList<DataType> keyTypes)
    {
        Keys = new RowArena(keyTypes);
        _hashes = new int[Keys.Capacity];
        _refs = new int[Keys.Capacity];
        _buckets = new int[16];
        _mask = _buckets.Length - 1;
        Keys.Grown += cap =>
        {
            Array.Resize(ref _hashes, cap);
            Array.Resize(ref _refs, cap);
        };
    }

    /// <summary>The stored key values, slot = key id.</summary>
    public RowArena Keys { get; }

    /// <summary>Key ids are below this; per-key arrays of the owners must be at least this long.</summary>
    public int IdCapacity => Keys.Capacity;

    /// <summary>Distinct keys held.</summary>
    public int Count => Keys.Count;

    /// <summary>How many stored rows reference key <paramref name="keyId"/>.</summary>
    public int RefCount(int keyId) => _refs[keyId];

    /// <summary>The id of the key of row <paramref name="row"/> (key columns <paramref name="keyColumns"/>), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ColumnBatch batch, int[] keyColumns, int row, int hash)
    {
        var b = hash & _mask;
        while (true)
        {
            var id = _buckets[b] - 1;
            if (id < 0)
            {
                return -1;
            }

            if (_hashes[id] == hash && KeyEquals(id, batch, keyColumns, row))
            {
                return id;
            }

            b = (b + 1) & _mask;
        }
    }

    /// <summary>The id of the key of the row, adding it (with no references) when new.</summary>
    public int FindOrAdd(ColumnBatch batch, int[] keyColumns, int row, int hash)
    {
        var b = hash & _mask;
        while (true)
        {
            var id = _buckets[b] - 1;
            if (id < 0)
            {
                break;
            }

            if (_hashes[id] == hash && KeyEquals(id, batch, keyColumns, row))
            {
                return id;
            }

            b = (b + 1) & _mask;
        }

        var slot = Keys.TakeSlot();
        var cols = Keys.Columns;
        for (var c = 0; c < cols.Length; c++)
        {
            cols[c].Store(slot, batch.Columns[keyColumns[c]], row);
        }

        _hashes[slot] = hash;
        _refs[slot] = 0;
        _buckets[b] = slot + 1;
        if (Keys.Count * 2 > _buckets.Length)
        {
            Rehash(_buckets.Length * 2);
        }

        return slot;
    }

    /// <summary>Adds a reference to <paramref name="keyId"/> (a stored row uses it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddRef(int keyId) => _refs[keyId]++;

    /// <summary>Drops a reference; the key is removed when none is left.</summary>
    public void Release(int keyId)
    {
        if (--_refs[keyId] == 0)
        {
            Remove(keyId);
        }
    }

    /// <summary>Removes a key that was added but never referenced.</summary>
    public void RemoveIfUnused(int keyId)
    {
        if (_refs[keyId] == 0)
        {
            Remove(keyId);
        }
    }

    private void Remove(int keyId)
    {
        var b = _hashes[keyId] & _mask;
        while (_buckets[b] != keyId + 1)
        {
            b = (b + 1) & _mask;
        }

        // Backward-shift deletion: pull later entries of the probe run into the hole so lookups never stop early.
        var hole = b;
        var next = (hole + 1) & _mask;
        while (_buckets[next] != 0)
        {
            var home = _hashes[_buckets[next] - 1] & _mask;
            // The entry may move into the hole when the hole lies cyclically between its home and its position.
            if (((next - home) & _mask) >= ((next - hole) & _mask))
            {
                _buckets[hole] = _buckets[next];
                hole = next;
            }

            next = (next + 1) & _mask;
        }

        _buckets[hole] = 0;
        Keys.Free(keyId);
    }

    private bool KeyEquals(int keyId, ColumnBatch batch, int[] keyColumns, int row)
    {
        var cols = Keys.Columns;
        for (var c = 0; c < cols.Length; c++)
        {
            if (!cols[c].ValueEquals(keyId, batch.Columns[keyColumns[c]], row))
            {
                return false;
            }
        }

        return true;
    }

    private void Rehash(int size)
    {
        var old = _buckets;
        _buckets = new int[size];
        _mask = size - 1;
        foreach (var e in old)
        {
            if (e == 0)
            {
                continue;
            }

            var b = _hashes[e - 1] & _mask;
            while (_buckets[b] != 0)
            {
                b = (b + 1) & _mask;
            }

            _buckets[b] = e;
        }
    }
}
