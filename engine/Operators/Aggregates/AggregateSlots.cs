using Streams.Engine.Data;

namespace Streams.Engine.Operators.Aggregates;

/// <summary>
/// The accumulators of one aggregate operator and the allocation of their slots (one slot = one group's state).
/// Freed slots are reused, so state stays as large as the number of open groups.
/// </summary>
internal sealed partial class AggregateSlots
{
    private readonly Stack<int> _free = new();
    private int _next;
    private int _capacity;

    private readonly Accumulator[] _holdingReferences;

    public AggregateSlots(Schema input, AggregateSpec[] aggregates, bool retractable)
    {
        Accumulators = aggregates.Select(a => Accumulator.Create(a, input, retractable)).ToArray();
        _holdingReferences = Accumulators.Where(a => a.HoldsReferences).ToArray();
        Grow(1024);
    }

    public Accumulator[] Accumulators { get; }

    /// <summary>Slots in use.</summary>
    public int InUse => _next - _free.Count;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public int Allocate()
    {
        var slot = _free.Count > 0 ? _free.Pop() : _next++;
        if (slot >= _capacity)
        {
            Grow(_capacity * 2);
        }

        foreach (var a in Accumulators)
        {
            a.Reset(slot);
        }

        return slot;
    }

    /// <summary>
    /// Allocates a slot without resetting the accumulators: for callers that own every accumulator's arrays and zero the
    /// slot themselves (the fused window path).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public int AllocateUnreset()
    {
        var slot = _free.Count > 0 ? _free.Pop() : _next++;
        if (slot >= _capacity)
        {
            Grow(_capacity * 2);
        }

        return slot;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Release(int slot)
    {
        foreach (var a in _holdingReferences)
        {
            // Drops references (distinct sets) now rather than at reuse; plain counters are reset by Allocate.
            a.Reset(slot);
        }

        _free.Push(slot);
    }

    /// <summary>Frees every slot at once (a combiner forgets all its groups after each batch).</summary>
    public void ReleaseAll()
    {
        foreach (var a in _holdingReferences)
        {
            for (var slot = 0; slot < _next; slot++)
            {
                a.Reset(slot);
            }
        }

        _free.Clear();
        _next = 0;
    }

    public void AddRows(ColumnBatch batch, int[] slots, IOperatorOutput output, int sign)
    {
        foreach (var a in Accumulators)
        {
            a.Add(batch, slots, output, sign);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Merge(int from, int into)
    {
        foreach (var a in Accumulators)
        {
            a.Merge(from, into);
        }
    }

    /// <summary>Folds from[j] into into[j] for every j, one accumulator at a time.</summary>
    public void MergeMany(ReadOnlySpan<int> from, ReadOnlySpan<int> into)
    {
        foreach (var a in Accumulators)
        {
            a.MergeMany(from, into);
        }
    }

    /// <summary>Writes slot <paramref name="slot"/>'s results into columns firstColumn.. of <paramref name="target"/>.</summary>
    public void Write(int slot, ColumnBatch target, int firstColumn, int row)
    {
        for (var a = 0; a < Accumulators.Length; a++)
        {
            Accumulators[a].Write(slot, target.Columns[firstColumn + a], row);
        }
    }

    /// <summary>Writes slots[j]'s results into row firstRow + j, columns firstColumn.., a column at a time.</summary>
    public void WriteMany(ReadOnlySpan<int> slots, ColumnBatch target, int firstColumn, int firstRow)
    {
        for (var a = 0; a < Accumulators.Length; a++)
        {
            Accumulators[a].WriteMany(slots, target.Columns[firstColumn + a], firstRow);
        }
    }

    private void Grow(int capacity)
    {
        _capacity = capacity;
        foreach (var a in Accumulators)
        {
            a.EnsureCapacity(capacity);
        }
    }
}
