using System.Globalization;
using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Engine.Tests.Joins;

/// <summary>One row as seen by a test: its change kind and boxed values.</summary>
internal sealed record TestRow(RowKind Kind, object?[] Values)
{
    public string Text => string.Join("|", Values.Select(v => v switch
    {
        null => "NULL",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture),
    }));
}

/// <summary>Collects what an operator emits, copying rows out and disposing every batch it receives.</summary>
internal sealed class CollectingOutput : IOperatorOutput
{
    public List<TestRow> Rows { get; } = [];

    public List<long> Watermarks { get; } = [];

    public List<string> Errors { get; } = [];

    public List<CheckpointBarrier> Barriers { get; } = [];

    /// <summary>For each emitted row, the last watermark emitted before it (late-row checks).</summary>
    public List<long> WatermarkBeforeRow { get; } = [];

    public int Batches { get; private set; }

    public Schema? LastSchema { get; private set; }

    public void Emit(ColumnBatch batch)
    {
        Batches++;
        LastSchema = batch.Schema;
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            var values = new object?[batch.Columns.Length];
            for (var c = 0; c < values.Length; c++)
            {
                values[c] = batch.Columns[c].GetBoxed(i);
            }

            Rows.Add(new TestRow(batch.KindOf(i), values));
            WatermarkBeforeRow.Add(Watermarks.Count == 0 ? long.MinValue : Watermarks[^1]);
        }

        batch.Dispose();
    }

    public void EmitWatermark(long watermark) => Watermarks.Add(watermark);

    public void EmitBarrier(CheckpointBarrier barrier) => Barriers.Add(barrier);

    public void EmitError(ColumnBatch batch, int row, string reason) => Errors.Add(reason);

    /// <summary>Rows sent to side outputs, by tag name.</summary>
    public Dictionary<string, List<TestRow>> Side { get; } = [];

    public void EmitSide(OutputTag tag, ColumnBatch batch)
    {
        var rows = Side.TryGetValue(tag.Name, out var list) ? list : Side[tag.Name] = [];
        for (var i = 0; i < batch.Count; i++)
        {
            rows.Add(new TestRow(batch.KindOf(i), batch.Columns.Select(c => c.GetBoxed(i)).ToArray()));
        }

        Assert.Same(tag.Schema, batch.Schema);
        batch.Dispose();
    }

    /// <summary>Applies the collected changelog (+I/+U add, -U/-D remove one equal row) and returns the resulting multiset.</summary>
    public List<string> Materialize()
    {
        var bag = new Dictionary<string, int>();
        foreach (var r in Rows)
        {
            var t = r.Text;
            if (r.Kind is RowKind.Insert or RowKind.UpdateAfter)
            {
                bag[t] = bag.GetValueOrDefault(t) + 1;
            }
            else
            {
                var n = bag.GetValueOrDefault(t);
                Assert.True(n > 0, $"changelog retracts a row that is not there: {r.Kind} {t}");
                if (n == 1)
                {
                    bag.Remove(t);
                }
                else
                {
                    bag[t] = n - 1;
                }
            }
        }

        return Sorted(bag.SelectMany(kv => Enumerable.Repeat(kv.Key, kv.Value)));
    }

    public static List<string> Sorted(IEnumerable<string> rows)
    {
        var list = rows.ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}

/// <summary>Builds batches from boxed rows.</summary>
internal static class Batches
{
    public static ColumnBatch Of(BatchPool pool, Schema schema, IReadOnlyList<object?[]> rows, IReadOnlyList<RowKind>? kinds = null, int capacity = 0)
    {
        var batch = pool.Rent(schema, capacity > 0 ? capacity : Math.Max(16, rows.Count));
        for (var i = 0; i < rows.Count; i++)
        {
            for (var c = 0; c < schema.Count; c++)
            {
                batch.Columns[c].SetBoxed(i, rows[i][c]);
            }

            if (kinds is not null)
            {
                batch.SetKind(i, kinds[i]);
            }
        }

        batch.Count = rows.Count;
        return batch;
    }

    public static string Text(params object?[] values) => new TestRow(RowKind.Insert, values).Text;
}

/// <summary>Takes a snapshot of an operator and restores it into a fresh instance, as recovery from a checkpoint does.</summary>
internal static class Checkpointing
{
    public static T RoundTrip<T>(T op, Func<T> create)
        where T : Streams.Engine.State.ICheckpointableOperator
    {
        using var stream = new MemoryStream();
        op.Snapshot(new Streams.Engine.State.StateSnapshotWriter(stream, Path.GetTempPath()));
        stream.Position = 0;
        var restored = create();
        restored.Restore(new Streams.Engine.State.StateSnapshotReader(stream, "test snapshot", Path.GetTempPath()));
        Assert.Equal(stream.Length, stream.Position);
        return restored;
    }
}
