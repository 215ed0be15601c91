using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>
/// State of a tumbling/hopping window aggregate: keys interned to dense ids, one slice (pane) per slice start with a
/// key id → slot array, and the accumulators' slots. Hopping windows are the merge of their slices, so each row
/// updates one slice, not size/slide windows. (Checkpointing snapshots this class: keys, slices, accumulators, watermark.)
/// </summary>
internal sealed class WindowAggregateState
{
    public WindowAggregateState(Schema input, WindowAggregateSpec spec)
    {
        Input = input;
        Keys = new GroupKeyTable(input, spec.KeyColumns);
        Slots = new AggregateSlots(input, spec.Aggregates, retractable: false);
    }

    /// <summary>The operator's input schema (snapshots carry it so a mismatched one is refused).</summary>
    public Schema Input { get; }

    public GroupKeyTable Keys { get; }

    public AggregateSlots Slots { get; }

    /// <summary>Open slices by start.</summary>
    public SortedDictionary<long, Slice> Slices { get; } = [];

    /// <summary>Emptied slices kept for reuse, so a long run does not allocate a key → slot array per slice.</summary>
    public Stack<Slice> SpareSlices { get; } = new();

    /// <summary>Spare slices kept at most: enough to cover the slices open at once (size / slide + disorder).</summary>
    public const int MaxSpareSlices = 16;

    /// <summary>The start of the last window that fired (windows fire in start order).</summary>
    public long LastFiredStart { get; set; } = long.MinValue;

    /// <summary>Keys in the table right after it last forgot the keys of fired windows.</summary>
    public int KeysAfterLastForget { get; set; }

    /// <summary>The last watermark seen.</summary>
    public long Watermark { get; set; } = long.MinValue;

    /// <summary>One slice: the groups (keys) that have rows in [Start, Start + slice length).</summary>
    internal sealed class Slice(long start)
    {
        public long Start { get; private set; } = start;

        /// <summary>Empties the slice for reuse at <paramref name="start"/> (keeps its arrays, so steady state allocates nothing).</summary>
        public void Reuse(long start)
        {
            Start = start;
            foreach (var id in KeyIds)
            {
                SlotByKey[id] = -1;
            }

            KeyIds.Clear();
        }

        /// <summary>Slot per key id, -1 when the key has no row in the slice.</summary>
        public int[] SlotByKey { get; private set; } = Fill(new int[64]);

        /// <summary>The key ids present, in first-seen order.</summary>
        public List<int> KeyIds { get; } = [];

        /// <summary>Renumbers the slice's key ids after the key table forgot keys (<paramref name="remap"/>: old id → new id).</summary>
        public void Renumber(int[] remap, int keyCount)
        {
            var slots = Fill(new int[Math.Max(64, keyCount)]);
            for (var i = 0; i < KeyIds.Count; i++)
            {
                var id = remap[KeyIds[i]];
                slots[id] = SlotByKey[KeyIds[i]];
                KeyIds[i] = id;
            }

            SlotByKey = slots;
        }

        public void EnsureKeys(int keys)
        {
            if (SlotByKey.Length < keys)
            {
                var grown = Fill(new int[Math.Max(keys, SlotByKey.Length * 2)]);
                SlotByKey.CopyTo(grown, 0);
                SlotByKey = grown;
            }
        }

        private static int[] Fill(int[] a)
        {
            Array.Fill(a, -1);
            return a;
        }
    }
}
