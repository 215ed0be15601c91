using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;

namespace Streams.Engine.Operators.SessionWindow;

/// <summary>
/// State of a session window aggregate: per key id the open sessions (sorted by start, each with its accumulator
/// slot) and a timer queue of session ends. (Checkpointing snapshots this class.)
/// </summary>
internal sealed class SessionWindowState
{
    public SessionWindowState(Schema input, WindowAggregateSpec spec)
    {
        Input = input;
        Keys = new GroupKeyTable(input, spec.KeyColumns);
        Slots = new AggregateSlots(input, spec.Aggregates, retractable: false);
    }

    /// <summary>The operator's input schema (snapshots carry it so a mismatched one is refused).</summary>
    public Schema Input { get; }

    public GroupKeyTable Keys { get; }

    public AggregateSlots Slots { get; }

    /// <summary>Open sessions per key id (null = none).</summary>
    public List<Session>?[] SessionsByKey { get; set; } = new List<Session>?[64];

    /// <summary>(key id, start, end) of sessions by firing time; entries of sessions that merged or moved are skipped when popped.</summary>
    public PriorityQueue<(int KeyId, long Start, long End), long> Timers { get; } = new();

    public long Watermark { get; set; } = long.MinValue;

    /// <summary>One open session: [Start, End) where End = last event time + gap.</summary>
    internal struct Session
    {
        public long Start;
        public long End;
        public int Slot;
    }
}
