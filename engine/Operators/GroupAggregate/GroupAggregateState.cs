using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;

namespace Streams.Engine.Operators.GroupAggregate;

/// <summary>
/// State of a non-windowed GROUP BY: key ids, one retractable accumulator slot per key, the number of rows each key
/// holds, and the last row emitted per key (what a -U / -D must repeat). (Checkpointing snapshots this class.)
/// </summary>
internal sealed class GroupAggregateState(Schema input, GroupAggregateSpec spec)
{
    /// <summary>The operator's input schema (snapshots carry it so a mismatched one is refused).</summary>
    public Schema Input { get; } = input;

    public GroupKeyTable Keys { get; } = new(input, spec.KeyColumns);

    public AggregateSlots Slots { get; } = new(input, spec.Aggregates, retractable: true);

    public int[] SlotByKey { get; set; } = [];

    public long[] RowsByKey { get; set; } = [];

    public object?[]?[] EmittedByKey { get; set; } = [];

    public void EnsureKeys(int count)
    {
        if (SlotByKey.Length >= count)
        {
            return;
        }

        var size = Math.Max(count, Math.Max(64, SlotByKey.Length * 2));
        var old = SlotByKey.Length;
        var slots = SlotByKey;
        Array.Resize(ref slots, size);
        Array.Fill(slots, -1, old, size - old);
        SlotByKey = slots;
        var rows = RowsByKey;
        Array.Resize(ref rows, size);
        RowsByKey = rows;
        var emitted = EmittedByKey;
        Array.Resize(ref emitted, size);
        EmittedByKey = emitted;
    }
}
