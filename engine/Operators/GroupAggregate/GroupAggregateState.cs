using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Operators.GroupAggregate;

/// <summary>
/// State of a non-windowed GROUP BY: key ids, one accumulator slot per key, the number of rows each key holds, and the
/// aggregate values last emitted per key (what a -U / -D must repeat), stored columnar so a changed group costs no
/// allocation. (Checkpointing snapshots this class.)
/// </summary>
internal sealed class GroupAggregateState
{
    public GroupAggregateState(Schema input, GroupAggregateSpec spec, Schema output)
    {
        Input = input;
        Keys = new GroupKeyTable(input, spec.KeyColumns);
        // An append-only input never retracts, so MIN/MAX keep one value per group instead of a multiset.
        Slots = new AggregateSlots(input, spec.Aggregates, retractable: !spec.AppendOnlyInput);
        var k = spec.KeyColumns.Length;
        var aggregateColumns = Enumerable.Range(k, spec.Aggregates.Length).ToArray();
        Emitted = new RowArena(aggregateColumns.Select(c => output[c].Type).ToArray(), aggregateColumns);
    }

    /// <summary>The operator's input schema (snapshots carry it so a mismatched one is refused).</summary>
    public Schema Input { get; }

    public GroupKeyTable Keys { get; }

    public AggregateSlots Slots { get; }

    /// <summary>The aggregate columns of the last row emitted per key (the key columns are rewritten from <see cref="Keys"/>).</summary>
    public RowArena Emitted { get; }

    public int[] SlotByKey { get; set; } = [];

    public long[] RowsByKey { get; set; } = [];

    /// <summary>Per key, its slot in <see cref="Emitted"/>, or -1 when nothing is emitted for it.</summary>
    public int[] EmittedByKey { get; set; } = [];

    public void EnsureKeys(int count)
    {
        if (SlotByKey.Length >= count)
        {
            return;
        }

        var size = Math.Max(count, Math.Max(64, SlotByKey.Length * 2));
        SlotByKey = Grow(SlotByKey, size);
        EmittedByKey = Grow(EmittedByKey, size);
        var rows = RowsByKey;
        Array.Resize(ref rows, size);
        RowsByKey = rows;
    }

    private static int[] Grow(int[] array, int size)
    {
        var old = array.Length;
        Array.Resize(ref array, size);
        Array.Fill(array, -1, old, size - old);
        return array;
    }
}
