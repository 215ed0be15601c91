using System.Runtime.CompilerServices;
using Streams.Engine.Data;

namespace Streams.Engine.Operators.Joins;

/// <summary>
/// One column of a <see cref="RowArena"/>: a growable typed array plus a null bitmap, addressed by slot.
/// Rows kept by a join live here instead of as objects, so keeping a row costs no allocation in steady state.
/// </summary>
internal abstract class ArenaColumn
{
    private ulong[] _nulls = new ulong[1];

    public abstract DataType Type { get; }

    /// <summary>True once any NULL was stored (lets gathers skip the null bitmap).</summary>
    protected bool AnyNull { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsNull(int slot) => (_nulls[slot >> 6] & (1UL << slot)) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void SetNull(int slot, bool isNull)
    {
        if (isNull)
        {
            _nulls[slot >> 6] |= 1UL << slot;
            AnyNull = true;
        }
        else
        {
            _nulls[slot >> 6] &= ~(1UL << slot);
        }
    }

    public virtual void Grow(int capacity) => Array.Resize(ref _nulls, Column.BitWords(capacity));

    /// <summary>Stores row <paramref name="row"/> of <paramref name="source"/> (same type) in <paramref name="slot"/>.</summary>
    public abstract void Store(int slot, Column source, int row);

    /// <summary>Copies <paramref name="slot"/> into row <paramref name="row"/> of <paramref name="target"/> (same type).</summary>
    public abstract void CopyTo(int slot, Column target, int row);

    /// <summary>Copies <paramref name="slot"/> into <paramref name="targetSlot"/> of <paramref name="target"/> (same type).</summary>
    public abstract void CopyTo(int slot, ArenaColumn target, int targetSlot);

    /// <summary>Copies slots <c>slots[from..to)</c> into rows <c>from..to</c> of <paramref name="target"/> (same type, rows not yet NULL).</summary>
    public abstract void GatherTo(int[] slots, int from, int to, Column target);

    /// <summary>SQL-equal values where NULL equals NULL (row identity for retractions; keys never hold NULL).</summary>
    public abstract bool ValueEquals(int slot, Column other, int row);

    /// <summary>Drops references held by a freed slot so the arena does not keep strings alive.</summary>
    public abstract void Release(int slot);

    /// <summary>The boxed value for snapshots and tests, never for hot paths.</summary>
    public abstract object? GetBoxed(int slot);

    public static ArenaColumn Create(DataType type) => type switch
    {
        DataType.Boolean => new ArenaColumn<bool>(type),
        DataType.Int32 => new ArenaColumn<int>(type),
        DataType.Int64 or DataType.Timestamp => new ArenaColumn<long>(type),
        DataType.Double => new ArenaColumn<double>(type),
        DataType.Decimal => new ArenaColumn<decimal>(type),
        DataType.String => new ArenaColumn<string?>(type),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "cannot store a column of this type"),
    };
}

/// <summary>An arena column storing <typeparamref name="T"/> values.</summary>
internal sealed class ArenaColumn<T>(DataType type) : ArenaColumn
{
    private T[] _values = new T[1];

    public override DataType Type { get; } = type;

    /// <summary>The value array, indexed by slot; re-read after the arena grows.</summary>
    public T[] Values => _values;

    public override void Grow(int capacity)
    {
        base.Grow(capacity);
        Array.Resize(ref _values, capacity);
    }

    public override void Store(int slot, Column source, int row)
    {
        var s = (Column<T>)source;
        var isNull = s.IsNull(row);
        _values[slot] = isNull ? default! : s.Values[row];
        SetNull(slot, isNull);
    }

    public override void CopyTo(int slot, Column target, int row)
    {
        var t = (Column<T>)target;
        t.Values[row] = _values[slot];
        t.SetNull(row, IsNull(slot));
    }

    public override void CopyTo(int slot, ArenaColumn target, int targetSlot)
    {
        var t = (ArenaColumn<T>)target;
        t._values[targetSlot] = _values[slot];
        t.SetNull(targetSlot, IsNull(slot));
    }

    public override void GatherTo(int[] slots, int from, int to, Column target)
    {
        var t = (Column<T>)target;
        var src = _values;
        var dst = t.Values;
        for (var i = from; i < to; i++)
        {
            dst[i] = src[slots[i]];
        }

        if (AnyNull)
        {
            for (var i = from; i < to; i++)
            {
                if (IsNull(slots[i]))
                {
                    t.SetNull(i);
                }
            }
        }
    }

    public override bool ValueEquals(int slot, Column other, int row)
    {
        var o = (Column<T>)other;
        var leftNull = IsNull(slot);
        if (leftNull || o.IsNull(row))
        {
            return leftNull && o.IsNull(row);
        }

        return EqualityComparer<T>.Default.Equals(_values[slot], o.Values[row]);
    }

    public override void Release(int slot)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            _values[slot] = default!;
        }
    }

    public override object? GetBoxed(int slot) => IsNull(slot) ? null : _values[slot];
}

/// <summary>
/// Columnar storage for rows a join keeps: one <see cref="ArenaColumn"/> per stored column, rows addressed by an int slot,
/// freed slots reused. It holds either all columns of a side or a projection (the key columns of a <see cref="KeyTable"/>).
/// </summary>
internal sealed class RowArena
{
    private readonly int[]? _sourceColumns;
    private int[] _free = new int[16];
    private int _freeCount;

    /// <summary>Creates an arena storing <paramref name="types"/>; row i of a batch stores batch column <c>sourceColumns[i]</c> (all columns in order when null).</summary>
    public RowArena(IReadOnlyList<DataType> types, int[]? sourceColumns = null, int initialCapacity = 64)
    {
        Columns = new ArenaColumn[types.Count];
        for (var i = 0; i < Columns.Length; i++)
        {
            Columns[i] = ArenaColumn.Create(types[i]);
        }

        _sourceColumns = sourceColumns;
        Capacity = 0;
        GrowTo(Math.Max(1, initialCapacity));
    }

    /// <summary>Creates an arena storing every column of <paramref name="schema"/>.</summary>
    public RowArena(Schema schema)
        : this(schema.Fields.Select(f => f.Type).ToArray())
    {
    }

    public ArenaColumn[] Columns { get; }

    /// <summary>Slots that exist (used or free); slot ids are below this.</summary>
    public int Capacity { get; private set; }

    /// <summary>Slots handed out so far (the high-water mark).</summary>
    public int HighWater { get; private set; }

    /// <summary>Rows currently stored.</summary>
    public int Count => HighWater - _freeCount;

    /// <summary>Raised after the arena grew, so owners can grow their per-slot arrays.</summary>
    public event Action<int>? Grown;

    /// <summary>Stores row <paramref name="row"/> of <paramref name="batch"/> and returns its slot.</summary>
    public int Add(ColumnBatch batch, int row)
    {
        var slot = TakeSlot();
        Store(slot, batch, row);
        return slot;
    }

    /// <summary>Overwrites slot <paramref name="slot"/> with row <paramref name="row"/> of <paramref name="batch"/>.</summary>
    public void Store(int slot, ColumnBatch batch, int row)
    {
        var cols = batch.Columns;
        if (_sourceColumns is null)
        {
            for (var c = 0; c < Columns.Length; c++)
            {
                Columns[c].Store(slot, cols[c], row);
            }
        }
        else
        {
            for (var c = 0; c < Columns.Length; c++)
            {
                Columns[c].Store(slot, cols[_sourceColumns[c]], row);
            }
        }
    }

    /// <summary>Takes a slot without filling it (the caller fills its columns).</summary>
    public int TakeSlot()
    {
        if (_freeCount > 0)
        {
            return _free[--_freeCount];
        }

        if (HighWater == Capacity)
        {
            GrowTo(Capacity * 2);
        }

        return HighWater++;
    }

    /// <summary>Frees <paramref name="slot"/> for reuse.</summary>
    public void Free(int slot)
    {
        foreach (var c in Columns)
        {
            c.Release(slot);
        }

        if (_freeCount == _free.Length)
        {
            Array.Resize(ref _free, _free.Length * 2);
        }

        _free[_freeCount++] = slot;
    }

    /// <summary>Copies slot <paramref name="slot"/> into columns <paramref name="firstColumn"/>.. of row <paramref name="row"/> of <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyTo(int slot, ColumnBatch target, int row, int firstColumn)
    {
        var cols = target.Columns;
        for (var c = 0; c < Columns.Length; c++)
        {
            Columns[c].CopyTo(slot, cols[firstColumn + c], row);
        }
    }

    /// <summary>True when every stored column of <paramref name="slot"/> equals the corresponding column of the batch row (NULL equals NULL).</summary>
    public bool RowEquals(int slot, ColumnBatch batch, int row)
    {
        var cols = batch.Columns;
        for (var c = 0; c < Columns.Length; c++)
        {
            if (!Columns[c].ValueEquals(slot, cols[_sourceColumns is null ? c : _sourceColumns[c]], row))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The typed values of column <paramref name="column"/>; re-read after adds, which may grow the arena.</summary>
    public T[] ValuesOf<T>(int column) => ((ArenaColumn<T>)Columns[column]).Values;

    private void GrowTo(int capacity)
    {
        foreach (var c in Columns)
        {
            c.Grow(capacity);
        }

        Capacity = capacity;
        Grown?.Invoke(capacity);
    }
}
