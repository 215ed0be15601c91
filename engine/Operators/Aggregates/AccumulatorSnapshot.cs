using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Streams.Engine.State;

namespace Streams.Engine.Operators.Aggregates;

/// <summary>Checkpoint encoding of accumulator slots: each array goes out as one block over slots [0, count).</summary>
internal abstract partial class Accumulator
{
    /// <summary>Writes slots [0, <paramref name="slots"/>) of this accumulator.</summary>
    public abstract void SnapshotSlots(IStateSnapshotWriter writer, int slots);

    /// <summary>Reads what <see cref="SnapshotSlots"/> wrote into slots [0, <paramref name="slots"/>) (capacity already grown).</summary>
    public abstract void RestoreSlots(IStateSnapshotReader reader, int slots);
}

/// <summary>Encodes typed slot arrays and per-slot sets for accumulator snapshots.</summary>
internal static class SlotArrayCodec
{
    public static void Write<T>(IStateSnapshotWriter writer, T[] values, int count)
    {
        if (typeof(T) == typeof(string))
        {
            writer.WriteInt32(count);
            var strings = (string?[])(object)values;
            for (var i = 0; i < count; i++)
            {
                writer.WriteString(strings[i]);
            }

            return;
        }

        writer.WriteValues<byte>(AsBytes(values, count));
    }

    public static void Read<T>(IStateSnapshotReader reader, T[] into, int count)
    {
        if (typeof(T) == typeof(string))
        {
            var n = reader.ReadInt32();
            Check(n, count);
            var strings = (string?[])(object)into;
            for (var i = 0; i < n; i++)
            {
                strings[i] = reader.ReadString();
            }

            return;
        }

        var bytes = reader.ReadValues<byte>();
        var target = AsBytes(into, count);
        Check(bytes.Length, target.Length);
        bytes.CopyTo(target);
    }

    /// <summary>Writes one slot's (value → multiplicity) set; null (no set) is written as -1.</summary>
    public static void WriteSet<T>(IStateSnapshotWriter writer, IReadOnlyCollection<KeyValuePair<T, long>>? set)
    {
        if (set is null)
        {
            writer.WriteInt32(-1);
            return;
        }

        writer.WriteInt32(set.Count);
        var keys = new T[set.Count];
        var counts = new long[set.Count];
        var i = 0;
        foreach (var (k, c) in set)
        {
            keys[i] = k;
            counts[i++] = c;
        }

        Write(writer, keys, keys.Length);
        writer.WriteValues<long>(counts);
    }

    /// <summary>Reads a set written by <see cref="WriteSet{T}"/> through <paramref name="add"/>; false when it was null.</summary>
    public static bool ReadSet<T>(IStateSnapshotReader reader, Action<T, long> add)
    {
        var n = reader.ReadInt32();
        if (n < 0)
        {
            return false;
        }

        var keys = new T[n];
        Read(reader, keys, n);
        var counts = reader.ReadValues<long>();
        Check(counts.Length, n);
        for (var i = 0; i < n; i++)
        {
            add(keys[i], counts[i]);
        }

        return true;
    }

    private static Span<byte> AsBytes<T>(T[] values, int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            throw new NotSupportedException($"cannot snapshot slots of {typeof(T).Name}");
        }

        // Only reference-free value types reach here, so their bytes are the whole value.
        return MemoryMarshal.CreateSpan(ref Unsafe.As<T, byte>(ref MemoryMarshal.GetArrayDataReference(values)), count * Unsafe.SizeOf<T>());
    }

    private static void Check(int actual, int expected)
    {
        if (actual != expected)
        {
            throw new InvalidDataException($"aggregate snapshot holds {actual} values where {expected} were expected: the snapshot does not match this operator");
        }
    }
}

internal sealed partial class CountAccumulator
{
    public override void SnapshotSlots(IStateSnapshotWriter writer, int slots) => SlotArrayCodec.Write(writer, _counts, slots);

    public override void RestoreSlots(IStateSnapshotReader reader, int slots) => SlotArrayCodec.Read(reader, _counts, slots);
}

internal sealed partial class IntegerSumAccumulator<T>
{
    public override void SnapshotSlots(IStateSnapshotWriter writer, int slots)
    {
        SlotArrayCodec.Write(writer, _sums, slots);
        SlotArrayCodec.Write(writer, _counts, slots);
    }

    public override void RestoreSlots(IStateSnapshotReader reader, int slots)
    {
        SlotArrayCodec.Read(reader, _sums, slots);
        SlotArrayCodec.Read(reader, _counts, slots);
    }
}

internal sealed partial class DoubleSumAccumulator
{
    public override void SnapshotSlots(IStateSnapshotWriter writer, int slots)
    {
        SlotArrayCodec.Write(writer, _sums, slots);
        SlotArrayCodec.Write(writer, _counts, slots);
    }

    public override void RestoreSlots(IStateSnapshotReader reader, int slots)
    {
        SlotArrayCodec.Read(reader, _sums, slots);
        SlotArrayCodec.Read(reader, _counts, slots);
    }
}

internal sealed partial class DecimalSumAccumulator
{
    public override void SnapshotSlots(IStateSnapshotWriter writer, int slots)
    {
        SlotArrayCodec.Write(writer, _sums, slots);
        SlotArrayCodec.Write(writer, _counts, slots);
    }

    public override void RestoreSlots(IStateSnapshotReader reader, int slots)
    {
        SlotArrayCodec.Read(reader, _sums, slots);
        SlotArrayCodec.Read(reader, _counts, slots);
    }
}

internal sealed partial class MinMaxAccumulator<T, TOrder>
{
    public override void SnapshotSlots(IStateSnapshotWriter writer, int slots)
    {
        SlotArrayCodec.Write(writer, _values, slots);
        SlotArrayCodec.Write(writer, _has, slots);
    }

    public override void RestoreSlots(IStateSnapshotReader reader, int slots)
    {
        SlotArrayCodec.Read(reader, _values, slots);
        SlotArrayCodec.Read(reader, _has, slots);
    }
}

internal abstract partial class MultisetAccumulator<T, TSet>
{
    public override void SnapshotSlots(IStateSnapshotWriter writer, int slots)
    {
        for (var s = 0; s < slots; s++)
        {
            SlotArrayCodec.WriteSet(writer, _sets[s]);
        }
    }

    public override void RestoreSlots(IStateSnapshotReader reader, int slots)
    {
        for (var s = 0; s < slots; s++)
        {
            var set = new TSet();
            _sets[s] = SlotArrayCodec.ReadSet<T>(reader, (k, c) => set.Add(k, c)) ? set : null;
        }
    }
}

/// <summary>Checkpoint encoding of slot allocation: the high-water mark, the free list, then every accumulator.</summary>
internal sealed partial class AggregateSlots
{
    public void Snapshot(IStateSnapshotWriter writer)
    {
        writer.WriteInt32(Accumulators.Length);
        writer.WriteInt32(_next);
        // Stack enumerates top first; the reader pushes them back bottom first.
        writer.WriteValues<int>(_free.ToArray());
        foreach (var a in Accumulators)
        {
            a.SnapshotSlots(writer, _next);
        }
    }

    public void Restore(IStateSnapshotReader reader)
    {
        var count = reader.ReadInt32();
        if (count != Accumulators.Length)
        {
            throw new InvalidDataException($"aggregate snapshot has {count} aggregates but the operator computes {Accumulators.Length}");
        }

        var next = reader.ReadInt32();
        var free = reader.ReadValues<int>();
        var capacity = _capacity;
        while (capacity < next)
        {
            capacity *= 2;
        }

        Grow(capacity);
        _next = next;
        _free.Clear();
        for (var i = free.Length - 1; i >= 0; i--)
        {
            _free.Push(free[i]);
        }

        foreach (var a in Accumulators)
        {
            a.RestoreSlots(reader, next);
        }
    }
}
