using Streams.Engine.Data;
using Streams.Engine.State;

namespace Streams.Engine.Operators.OverAggregate;

/// <summary>
/// The frame of one partition: the event times of the rows in it (oldest first, for bounded frames) and one accumulator
/// per aggregate. Rows are numbered in the order they enter; the oldest row in the frame is number
/// <c>NextSeq - Times.Count</c>.
/// </summary>
internal sealed class OverPartition
{
    private readonly OverFrame _frame;

    public OverPartition(OverAggregateSpec spec, Schema input)
    {
        _frame = spec.Frame;
        Accumulators = spec.Aggregates.Select(a => OverAccumulator.Create(a, input, !spec.Frame.IsUnbounded)).ToArray();
    }

    public OverAccumulator[] Accumulators { get; }

    /// <summary>Event times of the rows in a bounded frame, oldest first.</summary>
    public FrameRing<long> Times { get; } = new();

    /// <summary>The number the next row gets.</summary>
    public long NextSeq { get; private set; }

    /// <summary>Adds one row (already in event-time order) to the frame.</summary>
    public void Add(ColumnBatch batch, int row, long ts)
    {
        var seq = NextSeq++;
        foreach (var a in Accumulators)
        {
            a.Add(batch, row, seq);
        }

        if (!_frame.IsUnbounded)
        {
            Times.PushBack(ts);
        }
    }

    /// <summary>Drops the rows that fell out of a bounded frame ending at a row with time <paramref name="ts"/>.</summary>
    public void Evict(long ts)
    {
        if (_frame.IsUnbounded)
        {
            return;
        }

        if (_frame.Unit == OverFrameUnit.Rows)
        {
            while (Times.Count > _frame.Preceding + 1)
            {
                EvictOldest();
            }
        }
        else
        {
            // RANGE: the frame starts at ts - preceding, inclusive.
            while (Times.Count > 0 && Times.Front < ts - _frame.Preceding)
            {
                EvictOldest();
            }
        }
    }

    /// <summary>Writes every aggregate into row <paramref name="row"/> of <paramref name="target"/>, from column <paramref name="firstColumn"/>.</summary>
    public void Write(ColumnBatch target, int row, int firstColumn)
    {
        for (var a = 0; a < Accumulators.Length; a++)
        {
            Accumulators[a].Write(target.Columns[firstColumn + a], row);
        }
    }

    public void Snapshot(IStateSnapshotWriter writer)
    {
        writer.WriteInt64(NextSeq);
        writer.WriteValues<long>(Times.ToArray());
        foreach (var a in Accumulators)
        {
            a.Snapshot(writer);
        }
    }

    public void Restore(IStateSnapshotReader reader)
    {
        NextSeq = reader.ReadInt64();
        Times.Load(reader.ReadValues<long>());
        foreach (var a in Accumulators)
        {
            a.Restore(reader);
        }
    }

    private void EvictOldest()
    {
        var seq = NextSeq - Times.Count;
        Times.PopFront();
        foreach (var a in Accumulators)
        {
            a.EvictOldest(seq);
        }
    }
}
