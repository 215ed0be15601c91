using System.Runtime.CompilerServices;
using Streams.Engine.Data;
using Streams.Engine.Runtime.Exchange;

namespace Streams.Engine.Operators.Aggregates;

/// <summary>
/// Interns GROUP BY key tuples as dense ids 0..Count-1 (so per-key state lives in plain arrays) and writes them back
/// out. A single integer key uses an open-addressing table over primitive arrays; other keys hash the row and compare
/// stored values. NULL is a key value of its own.
/// </summary>
internal sealed partial class GroupKeyTable
{
    private readonly int[] _keyColumns;
    private readonly bool _singleInteger;

    // Small non-negative single-integer keys skip the hash table.
    private DirectKeyIndex _direct;

    // Open addressing: _slots holds id+1 (0 = empty), probed linearly from the hash.
    private int[] _slots = new int[1024];
    private ulong[] _slotHashes = new ulong[1024];
    private long[] _longKeys = new long[256];
    private object?[][] _tupleKeys = [];
    private int _nullId = -1;
    private ulong[] _rowHashes = [];

    public GroupKeyTable(Schema input, int[] keyColumns)
    {
        _keyColumns = keyColumns;
        _singleInteger = keyColumns.Length == 1 && input[keyColumns[0]].Type is DataType.Int64 or DataType.Int32 or DataType.Timestamp;
        KeyTypes = keyColumns.Select(k => input[k].Type).ToArray();
    }

    public int Count { get; private set; }

    /// <summary>The key column when the key is one BIGINT/TIMESTAMP column (the fused window path reads it directly), else -1.</summary>
    public int SingleLongColumn => _singleInteger && KeyTypes[0] is DataType.Int64 or DataType.Timestamp ? _keyColumns[0] : -1;

    /// <summary>id + 1 per small non-negative single-integer key (0: not indexed there), for loops that look keys up inline.</summary>
    public int[] DirectIds => _direct.Ids;

    /// <summary>The id of non-NULL single-integer key <paramref name="key"/>, interning it when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IdOfLongKey(long key) => IdOfLong(key);

    public DataType[] KeyTypes { get; }

    /// <summary>Writes the key id of every live row into <paramref name="ids"/> (-1 for rows filtered out).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Lookup(ColumnBatch batch, int[] ids)
    {
        var n = batch.Count;
        if (_keyColumns.Length == 0)
        {
            if (Count == 0)
            {
                Count = 1;
            }

            for (var i = 0; i < n; i++)
            {
                ids[i] = batch.IsLive(i) ? 0 : -1;
            }

            return;
        }

        if (_singleInteger)
        {
            var column = batch.Columns[_keyColumns[0]];
            if (column is Column<long> longs)
            {
                LookupLongs(batch, longs.Values, column, ids);
            }
            else
            {
                var ints = ((Column<int>)column).Values;
                for (var i = 0; i < n; i++)
                {
                    ids[i] = !batch.IsLive(i) ? -1 : column.IsNull(i) ? NullId() : IdOfLong(ints[i]);
                }
            }

            return;
        }

        if (_rowHashes.Length < n)
        {
            _rowHashes = new ulong[batch.Capacity];
        }

        KeyHasher.HashRows(batch, _keyColumns, _rowHashes);
        for (var i = 0; i < n; i++)
        {
            ids[i] = batch.IsLive(i) ? IdOfTuple(batch, i, _rowHashes[i]) : -1;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void LookupLongs(ColumnBatch batch, long[] keys, Column column, int[] ids)
    {
        var n = batch.Count;
        if (!batch.HasFiltered && !column.HasNulls)
        {
            for (var i = 0; i < n; i++)
            {
                ids[i] = IdOfLong(keys[i]);
            }

            return;
        }

        for (var i = 0; i < n; i++)
        {
            ids[i] = !batch.IsLive(i) ? -1 : column.IsNull(i) ? NullId() : IdOfLong(keys[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int IdOfLong(long key)
    {
        var id = _direct.Find(key);
        return id >= 0 ? id : IdOfLongHashed(key);
    }

    private int IdOfLongHashed(long key)
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
                id = AddLong(key, h);
                break;
            }

            if (_longKeys[s - 1] == key && s - 1 != _nullId)
            {
                id = s - 1;
                break;
            }

            h = (h + 1) & mask;
        }

        _direct.Remember(key, id, Count);
        return id;
    }

    /// <summary>Fibonacci hashing: one multiply spreads consecutive and strided keys; the high bits are folded down for the mask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SlotHash(long key)
    {
        var h = (ulong)key * 0x9E3779B97F4A7C15UL;
        return h ^ (h >> 29);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int AddLong(long key, int slot)
    {
        var id = NewId();
        _longKeys[id] = key;
        _slots[slot] = id + 1;
        _slotHashes[slot] = SlotHash(key);
        if (Count * 2 > _slots.Length)
        {
            Rehash();
        }

        return id;
    }

    private int NullId()
    {
        if (_nullId < 0)
        {
            _nullId = NewId();
            if (_singleInteger)
            {
                _longKeys[_nullId] = 0;
            }
            else
            {
                _tupleKeys[_nullId] = new object?[_keyColumns.Length];
            }
        }

        return _nullId;
    }

    private int IdOfTuple(ColumnBatch batch, int row, ulong hash)
    {
        var mask = _slots.Length - 1;
        var h = (int)(hash & (uint)mask);
        while (true)
        {
            var s = _slots[h];
            if (s == 0)
            {
                var id = NewId();
                var tuple = new object?[_keyColumns.Length];
                for (var k = 0; k < tuple.Length; k++)
                {
                    tuple[k] = batch.Columns[_keyColumns[k]].GetBoxed(row);
                }

                _tupleKeys[id] = tuple;
                _slots[h] = id + 1;
                _slotHashes[h] = hash;
                if (Count * 2 > _slots.Length)
                {
                    Rehash();
                }

                return id;
            }

            if (_slotHashes[h] == hash && TupleEquals(_tupleKeys[s - 1], batch, row))
            {
                return s - 1;
            }

            h = (h + 1) & mask;
        }
    }

    private bool TupleEquals(object?[] stored, ColumnBatch batch, int row)
    {
        for (var k = 0; k < stored.Length; k++)
        {
            var column = batch.Columns[_keyColumns[k]];
            var isNull = column.IsNull(row);
            if (isNull || stored[k] is null)
            {
                if (isNull != stored[k] is null)
                {
                    return false;
                }

                continue;
            }

            var equal = column switch
            {
                Column<long> c => stored[k] is long v && v == c.Values[row],
                Column<int> c => stored[k] is int v && v == c.Values[row],
                Column<string?> c => stored[k] is string v && string.Equals(v, c.Values[row], StringComparison.Ordinal),
                Column<double> c => stored[k] is double v && v.Equals(c.Values[row]),
                Column<decimal> c => stored[k] is decimal v && v == c.Values[row],
                Column<bool> c => stored[k] is bool v && v == c.Values[row],
                _ => Equals(stored[k], column.GetBoxed(row)),
            };
            if (!equal)
            {
                return false;
            }
        }

        return true;
    }

    private int NewId()
    {
        var id = Count++;
        if (_singleInteger)
        {
            if (id >= _longKeys.Length)
            {
                Array.Resize(ref _longKeys, _longKeys.Length * 2);
            }
        }
        else if (id >= _tupleKeys.Length)
        {
            Array.Resize(ref _tupleKeys, Math.Max(256, _tupleKeys.Length * 2));
        }

        return id;
    }

    private void Rehash()
    {
        var oldSlots = _slots;
        var oldHashes = _slotHashes;
        _slots = new int[oldSlots.Length * 2];
        _slotHashes = new ulong[oldSlots.Length * 2];
        var mask = _slots.Length - 1;
        for (var i = 0; i < oldSlots.Length; i++)
        {
            if (oldSlots[i] == 0)
            {
                continue;
            }

            var h = (int)(oldHashes[i] & (uint)mask);
            while (_slots[h] != 0)
            {
                h = (h + 1) & mask;
            }

            _slots[h] = oldSlots[i];
            _slotHashes[h] = oldHashes[i];
        }
    }

    /// <summary>
    /// Forgets every key except <paramref name="live"/> (distinct ids), which become ids 0..live.Count-1 in that order;
    /// <paramref name="remap"/>[old id] receives the new id, or -1 for a forgotten key. Lets an operator whose keys come
    /// and go (window aggregates over ever-new auction ids) keep the table as large as its open state, not its history.
    /// </summary>
    public void Retain(IReadOnlyList<int> live, int[] remap)
    {
        Array.Fill(remap, -1, 0, Count);
        for (var j = 0; j < live.Count; j++)
        {
            remap[live[j]] = j;
        }

        var size = 1024;
        while (size < live.Count * 4)
        {
            size *= 2;
        }

        var oldSlots = _slots;
        var oldHashes = _slotHashes;
        _slots = new int[size];
        _slotHashes = new ulong[size];
        var mask = size - 1;
        for (var i = 0; i < oldSlots.Length; i++)
        {
            if (oldSlots[i] == 0 || remap[oldSlots[i] - 1] is var id && id < 0)
            {
                continue;
            }

            var h = (int)(oldHashes[i] & (uint)mask);
            while (_slots[h] != 0)
            {
                h = (h + 1) & mask;
            }

            _slots[h] = id + 1;
            _slotHashes[h] = oldHashes[i];
        }

        if (_singleInteger)
        {
            var keys = new long[Math.Max(256, live.Count)];
            for (var j = 0; j < live.Count; j++)
            {
                keys[j] = _longKeys[live[j]];
            }

            _longKeys = keys;
        }
        else
        {
            var tuples = new object?[Math.Max(256, live.Count)][];
            for (var j = 0; j < live.Count; j++)
            {
                tuples[j] = _tupleKeys[live[j]];
            }

            _tupleKeys = tuples;
        }

        _nullId = _nullId < 0 ? -1 : remap[_nullId];
        Count = live.Count;

        // The ids changed: small keys are indexed again as they are looked up.
        _direct.Clear();
    }

    /// <summary>Writes the keys of ids[j] into row firstRow + j of the first key columns of <paramref name="target"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void WriteKeys(ReadOnlySpan<int> ids, ColumnBatch target, int firstRow)
    {
        if (_singleInteger && _nullId < 0 && target.Columns[0] is Column<long> longs)
        {
            var values = longs.Values;
            var keys = _longKeys;
            for (var j = 0; j < ids.Length; j++)
            {
                values[firstRow + j] = keys[ids[j]];
            }

            return;
        }

        for (var j = 0; j < ids.Length; j++)
        {
            WriteKey(ids[j], target, firstRow + j);
        }
    }

    /// <summary>Writes the key values of <paramref name="id"/> into the first key columns of <paramref name="target"/> at <paramref name="row"/>.</summary>
    public void WriteKey(int id, ColumnBatch target, int row)
    {
        // A global aggregate (GROUP BY only the window) has no key columns to write.
        if (_keyColumns.Length == 0)
        {
            return;
        }

        if (_singleInteger)
        {
            if (id == _nullId)
            {
                target.Columns[0].SetNull(row);
            }
            else if (target.Columns[0] is Column<long> l)
            {
                l.Values[row] = _longKeys[id];
            }
            else
            {
                ((Column<int>)target.Columns[0]).Values[row] = (int)_longKeys[id];
            }

            return;
        }

        var tuple = _tupleKeys[id];
        for (var k = 0; k < tuple.Length; k++)
        {
            target.Columns[k].SetBoxed(row, tuple[k]);
        }
    }
}
