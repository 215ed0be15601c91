using System.Buffers;
using System.Runtime.CompilerServices;

namespace Streams.Engine.Data;

/// <summary>
/// One column of a <see cref="ColumnBatch"/>: a pooled typed array plus a null bitmap (bit set = NULL).
/// A column belongs to exactly one batch and goes back to the pool with it.
/// </summary>
public abstract class Column
{
    private readonly ulong[] _nulls;

    private protected Column(DataType type, int capacity)
    {
        Type = type;
        _nulls = ArrayPool<ulong>.Shared.Rent(BitWords(capacity));
        Array.Clear(_nulls);
    }

    /// <summary>The logical type of the values.</summary>
    public DataType Type { get; }

    /// <summary>How many rows the column can hold.</summary>
    public abstract int Capacity { get; }

    /// <summary>True when at least one row has been marked NULL since the column was last cleared.</summary>
    public bool HasNulls { get; private set; }

    /// <summary>The null bitmap, one bit per row, bit set = NULL. Valid only while <see cref="HasNulls"/> is true.</summary>
    public ReadOnlySpan<ulong> NullBits => _nulls;

    /// <summary>Whether row <paramref name="row"/> is NULL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsNull(int row) => HasNulls && (_nulls[row >> 6] & (1UL << row)) != 0;

    /// <summary>Marks row <paramref name="row"/> NULL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetNull(int row)
    {
        _nulls[row >> 6] |= 1UL << row;
        HasNulls = true;
    }

    /// <summary>Marks row <paramref name="row"/> NULL or not NULL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetNull(int row, bool isNull)
    {
        if (isNull)
        {
            SetNull(row);
        }
        else if (HasNulls)
        {
            _nulls[row >> 6] &= ~(1UL << row);
        }
    }

    /// <summary>Reads row <paramref name="row"/> boxed, or null for SQL NULL. For edges and tests, never for hot paths.</summary>
    public abstract object? GetBoxed(int row);

    /// <summary>Writes a boxed value (null for SQL NULL). For edges and tests, never for hot paths.</summary>
    public abstract void SetBoxed(int row, object? value);

    /// <summary>Copies row <paramref name="from"/> of this column into row <paramref name="to"/> of <paramref name="target"/>, which has the same type.</summary>
    public abstract void CopyRowTo(int from, Column target, int to);

    /// <summary>Forgets all nulls so the column can be refilled.</summary>
    public void ClearNulls()
    {
        if (HasNulls)
        {
            Array.Clear(_nulls);
            HasNulls = false;
        }
    }

    internal abstract void ReturnArrays();

    /// <summary>Words needed for a bitmap of <paramref name="rows"/> bits.</summary>
    public static int BitWords(int rows) => (rows + 63) >> 6;

    private protected void ReturnNulls() => ArrayPool<ulong>.Shared.Return(_nulls);

    /// <summary>Creates a column of <paramref name="type"/> whose arrays come from the shared pool.</summary>
    public static Column Create(DataType type, int capacity) => type switch
    {
        DataType.Boolean => new Column<bool>(type, capacity),
        DataType.Int32 => new Column<int>(type, capacity),
        DataType.Int64 or DataType.Timestamp => new Column<long>(type, capacity),
        DataType.Double => new Column<double>(type, capacity),
        DataType.Decimal => new Column<decimal>(type, capacity),
        DataType.String => new Column<string?>(type, capacity),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "cannot store a column of this type"),
    };
}

/// <summary>A column whose values are stored as <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The CLR storage type (see <see cref="DataTypes.ClrType"/>).</typeparam>
public sealed class Column<T> : Column
{
    private T[] _values;

    internal Column(DataType type, int capacity)
        : base(type, capacity)
    {
        _values = ArrayPool<T>.Shared.Rent(capacity);
    }

    /// <summary>The value array; only the first <c>batch.Count</c> entries are meaningful. NULL rows hold default.</summary>
    public T[] Values => _values;

    /// <inheritdoc />
    public override int Capacity => _values.Length;

    /// <inheritdoc />
    public override object? GetBoxed(int row) => IsNull(row) ? null : _values[row];

    /// <inheritdoc />
    public override void SetBoxed(int row, object? value)
    {
        if (value is null)
        {
            _values[row] = default!;
            SetNull(row);
        }
        else
        {
            _values[row] = (T)value;
            SetNull(row, false);
        }
    }

    /// <inheritdoc />
    public override void CopyRowTo(int from, Column target, int to)
    {
        var t = (Column<T>)target;
        t._values[to] = _values[from];
        t.SetNull(to, IsNull(from));
    }

    internal override void ReturnArrays()
    {
        // Strings are references: clear them so a pooled array does not keep them alive.
        ArrayPool<T>.Shared.Return(_values, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        _values = [];
        ReturnNulls();
    }
}
