using System.Buffers;
using System.Runtime.CompilerServices;

namespace Streams.Engine.Data;

/// <summary>The change a row carries in a changelog stream (Flink's RowKind).</summary>
public enum RowKind : byte
{
    /// <summary>+I: a new row.</summary>
    Insert = 0,
    /// <summary>-U: the old version of an updated row.</summary>
    UpdateBefore = 1,
    /// <summary>+U: the new version of an updated row.</summary>
    UpdateAfter = 2,
    /// <summary>-D: a deleted row.</summary>
    Delete = 3,
}

/// <summary>
/// A pooled columnar batch of rows (Trill's StreamMessage): one typed array per column, a null bitmap per column,
/// a bitvector of rows filtered out, and optional row kinds for changelogs.
/// Whoever holds a batch owns it: it either passes it on or disposes it, which returns it to its <see cref="BatchPool"/>.
/// </summary>
public sealed class ColumnBatch : IDisposable
{
    private readonly ulong[] _filtered;
    private RowKind[]? _kinds;
    private bool _rented;
    private int _exchangeTarget = -1;
    private int _exchangeTargets;

    internal ColumnBatch(BatchPool pool, Schema schema, int capacity)
    {
        Pool = pool;
        Schema = schema;
        Columns = new Column[schema.Count];
        for (var i = 0; i < Columns.Length; i++)
        {
            Columns[i] = Column.Create(schema[i].Type, capacity);
        }

        Capacity = capacity;
        _filtered = ArrayPool<ulong>.Shared.Rent(Data.Column.BitWords(capacity));
        Array.Clear(_filtered);
    }

    /// <summary>The pool the batch returns to.</summary>
    public BatchPool Pool { get; }

    /// <summary>The columns' names and types.</summary>
    public Schema Schema { get; }

    /// <summary>The columns, in schema order.</summary>
    public Column[] Columns { get; }

    /// <summary>How many rows the batch can hold.</summary>
    public int Capacity { get; }

    /// <summary>How many rows are filled, including filtered-out ones.</summary>
    public int Count { get; set; }

    /// <summary>True when at least one row is filtered out.</summary>
    public bool HasFiltered { get; private set; }

    /// <summary>True when rows carry <see cref="RowKind"/>s; otherwise every row is an insert.</summary>
    public bool HasRowKinds => _kinds is not null;

    /// <summary>True when the batch is full.</summary>
    public bool IsFull => Count >= Capacity;

    /// <summary>The typed column at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Column<T> ColumnAt<T>(int index) => (Column<T>)Columns[index];

    /// <summary>The bitvector of filtered-out rows (bit set = row is gone). Meaningful only while <see cref="HasFiltered"/>.</summary>
    public Span<ulong> FilteredBits => _filtered.AsSpan(0, Data.Column.BitWords(Capacity));

    /// <summary>Whether row <paramref name="row"/> is still part of the batch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsLive(int row) => !HasFiltered || (_filtered[row >> 6] & (1UL << row)) == 0;

    /// <summary>Filters row <paramref name="row"/> out of the batch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FilterOut(int row)
    {
        _filtered[row >> 6] |= 1UL << row;
        HasFiltered = true;
    }

    /// <summary>Declares that bits were set directly through <see cref="FilteredBits"/>.</summary>
    public void MarkFiltered() => HasFiltered = true;

    /// <summary>How many rows are live.</summary>
    public int LiveCount()
    {
        if (!HasFiltered)
        {
            return Count;
        }

        var gone = 0;
        var words = _filtered.AsSpan(0, Data.Column.BitWords(Count));
        for (var i = 0; i < words.Length; i++)
        {
            gone += System.Numerics.BitOperations.PopCount(words[i]);
        }

        // Bits past Count may be set by vectorised filters; subtract them.
        var tail = Count & 63;
        if (tail != 0)
        {
            gone -= System.Numerics.BitOperations.PopCount(words[^1] & ~((1UL << tail) - 1));
        }

        return Count - gone;
    }

    /// <summary>The kind of row <paramref name="row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RowKind KindOf(int row) => _kinds is null ? RowKind.Insert : _kinds[row];

    /// <summary>Sets the kind of row <paramref name="row"/>, switching the batch to changelog mode.</summary>
    public void SetKind(int row, RowKind kind)
    {
        if (_kinds is null)
        {
            if (kind == RowKind.Insert)
            {
                return;
            }

            _kinds = ArrayPool<RowKind>.Shared.Rent(Capacity);
            Array.Clear(_kinds, 0, Capacity);
        }

        _kinds[row] = kind;
    }

    /// <summary>
    /// Says that every row of the batch belongs to downstream task <paramref name="task"/> of <paramref name="tasks"/> under
    /// the hash exchange (an operator that already grouped its output by key task), so the exchange forwards it whole.
    /// </summary>
    internal void SetExchangeTarget(int task, int tasks)
    {
        _exchangeTarget = task;
        _exchangeTargets = tasks;
    }

    /// <summary>The task set by <see cref="SetExchangeTarget"/> when it was computed for <paramref name="tasks"/> tasks, else -1; forgets it.</summary>
    internal int TakeExchangeTarget(int tasks)
    {
        var task = _exchangeTargets == tasks ? _exchangeTarget : -1;
        _exchangeTarget = -1;
        return task;
    }

    /// <summary>Empties the batch so it can be refilled: no rows, no nulls, no filtered rows, no row kinds.</summary>
    public void Clear()
    {
        Count = 0;
        _exchangeTarget = -1;
        foreach (var c in Columns)
        {
            c.ClearNulls();
        }

        if (HasFiltered)
        {
            Array.Clear(_filtered);
            HasFiltered = false;
        }

        if (_kinds is not null)
        {
            ArrayPool<RowKind>.Shared.Return(_kinds);
            _kinds = null;
        }
    }

    /// <summary>Returns the batch to its pool. Disposing twice is a bug and throws.</summary>
    public void Dispose() => Pool.Return(this);

    internal void MarkRented()
    {
        if (_rented)
        {
            ThrowHelper.AlreadyRented();
        }

        _rented = true;
    }

    internal void MarkReturned()
    {
        if (!_rented)
        {
            ThrowHelper.DoubleReturn();
        }

        _rented = false;
        Clear();
    }

    internal void ReleaseArrays()
    {
        foreach (var c in Columns)
        {
            c.ReturnArrays();
        }

        ArrayPool<ulong>.Shared.Return(_filtered);
    }

    private static class ThrowHelper
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void AlreadyRented() => throw new InvalidOperationException("batch handed out twice by its pool");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void DoubleReturn() => throw new InvalidOperationException("batch returned to its pool twice (disposed twice, or disposed after being passed on)");
    }
}
