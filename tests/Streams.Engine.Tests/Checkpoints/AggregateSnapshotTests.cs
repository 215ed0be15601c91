using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.GroupAggregate;
using Streams.Engine.Operators.SessionWindow;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.State;
using Streams.Engine.Tests.Joins;

namespace Streams.Engine.Tests.Checkpoints;

/// <summary>
/// A stateful aggregate snapshotted halfway and restored into a fresh instance emits exactly what an uninterrupted one
/// does: same rows, same late rows, nothing twice, nothing lost.
/// </summary>
public class AggregateSnapshotTests : PooledBatchTest
{
    private const long Delay = 300;

    private static readonly Schema Events = new(
        [new Field("region", DataType.String), new Field("user", DataType.Int64), new Field("amount", DataType.Double), new Field("ts", DataType.Timestamp)], 3);

    private static readonly AggregateSpec[] Aggregates =
    [
        AggregateSpec.CountStar("n"), AggregateSpec.Sum(2, "total"), AggregateSpec.Min(0, "first_region"), AggregateSpec.Max(2, "top"),
        AggregateSpec.Avg(2, "mean"), AggregateSpec.CountDistinct(1, "users"), AggregateSpec.Count(1, "with_user"),
    ];

    /// <summary>Disordered events (bounded by Delay, plus some beyond it that are late), some NULL users.</summary>
    private static List<object?[]> EventRows(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => (Order: i * 5 + random.Next(0, random.Next(20) == 0 ? 10 * (int)Delay : (int)Delay),
                Row: new object?[] { "r" + random.Next(0, 7), random.Next(10) == 0 ? null : (long)random.Next(0, 40), Math.Round(random.NextDouble() * 100, 2), (long)i * 5 }))
            .OrderBy(e => e.Order)
            .Select(e => e.Row)
            .ToList();
    }

    private (List<string> Rows, List<string> Late) Run<T>(Func<T> create, List<object?[]> events, int? snapshotAfterBatch, Func<T, T>? roundTrip = null, List<RowKind>? kinds = null)
        where T : IOperator
    {
        var offset = 0;
        var output = new CollectingOutput();
        var op = create();
        var maxTs = long.MinValue;
        var batchIndex = 0;
        foreach (var chunk in events.Chunk(53))
        {
            if (batchIndex++ == snapshotAfterBatch)
            {
                op = roundTrip!(op);
            }

            op.OnBatch(Batches.Of(Pool, Events, chunk, kinds?.GetRange(offset, chunk.Length), capacity: 64), output);
            offset += chunk.Length;
            maxTs = Math.Max(maxTs, chunk.Max(r => (long)r[3]!));
            op.OnWatermark(maxTs - Delay, output);
        }

        op.OnEndOfInput(output);
        var late = output.Side.Values.SelectMany(rows => rows).Select(r => r.Text).Order(StringComparer.Ordinal).ToList();
        return (output.Rows.Select(r => r.Kind + " " + r.Text).Order(StringComparer.Ordinal).ToList(), late);
    }

    public static TheoryData<string> Windows() => ["tumble", "hop", "hop-uneven"];

    private WindowAggregateOperator Window(string name, Schema input) => new(input, new WindowAggregateSpec(3, name switch
    {
        "tumble" => WindowSpec.Tumble(1000),
        "hop" => WindowSpec.Hop(500, 2000),
        _ => WindowSpec.Hop(300, 1000),
    }, [0], Aggregates), new OutputTag("late", input), Pool, 100);

    [Theory]
    [MemberData(nameof(Windows))]
    public void Window_aggregate_restored_from_a_snapshot_emits_what_an_uninterrupted_one_does(string window)
    {
        var events = EventRows(7, 4000);
        var expected = Run(() => Window(window, Events), events, null);
        Assert.NotEmpty(expected.Rows);
        Assert.NotEmpty(expected.Late);
        foreach (var at in new[] { 1, 20, 41, 75 })
        {
            var restored = Run(() => Window(window, Events), events, at, op => Checkpointing.RoundTrip(op, () => Window(window, Events)));
            Assert.Equal(expected.Rows, restored.Rows);
            Assert.Equal(expected.Late, restored.Late);
        }
    }

    [Fact]
    public void Window_aggregate_restored_from_an_empty_snapshot_matches_too()
    {
        var events = EventRows(3, 500);
        var expected = Run(() => Window("tumble", Events), events, null);
        var restored = Run(() => Window("tumble", Events), events, 0, op => Checkpointing.RoundTrip(op, () => Window("tumble", Events)));
        Assert.Equal(expected.Rows, restored.Rows);
    }

    [Fact]
    public void Window_aggregate_refuses_a_snapshot_of_another_shape()
    {
        var op = Window("tumble", Events);
        op.OnBatch(Batches.Of(Pool, Events, EventRows(1, 50), capacity: 64), new CollectingOutput());
        using var stream = new MemoryStream();
        op.Snapshot(new StateSnapshotWriter(stream, Path.GetTempPath()));

        stream.Position = 0;
        var otherWindow = Window("hop", Events);
        var error = Assert.ThrowsAny<Exception>(() => otherWindow.Restore(new StateSnapshotReader(stream, "snap", Path.GetTempPath())));
        Assert.Contains("size 1000 ms", error.Message);

        stream.Position = 0;
        var otherSchema = new Schema([new Field("region", DataType.String), new Field("user", DataType.Int32), new Field("amount", DataType.Double), new Field("ts", DataType.Timestamp)], 3);
        var otherInput = new WindowAggregateOperator(otherSchema, new WindowAggregateSpec(3, WindowSpec.Tumble(1000), [0], [AggregateSpec.CountStar("n")]), new OutputTag("late", otherSchema), Pool, 100);
        Assert.ThrowsAny<Exception>(() => otherInput.Restore(new StateSnapshotReader(stream, "snap", Path.GetTempPath())));
    }

    private SessionWindowOperator Session() =>
        new(Events, new WindowAggregateSpec(3, WindowSpec.Session(40), [0], Aggregates), new OutputTag("late", Events), Pool, 100);

    [Fact]
    public void Session_window_restored_from_a_snapshot_emits_what_an_uninterrupted_one_does()
    {
        var events = EventRows(11, 4000);
        var expected = Run(Session, events, null);
        Assert.NotEmpty(expected.Rows);
        Assert.NotEmpty(expected.Late);
        foreach (var at in new[] { 1, 33, 60 })
        {
            var restored = Run(Session, events, at, op => Checkpointing.RoundTrip(op, Session));
            Assert.Equal(expected.Rows, restored.Rows);
            Assert.Equal(expected.Late, restored.Late);
        }
    }

    [Fact]
    public void Session_window_refuses_a_snapshot_with_another_gap()
    {
        var op = Session();
        op.OnBatch(Batches.Of(Pool, Events, EventRows(1, 50), capacity: 64), new CollectingOutput());
        using var stream = new MemoryStream();
        op.Snapshot(new StateSnapshotWriter(stream, Path.GetTempPath()));
        stream.Position = 0;
        var other = new SessionWindowOperator(Events, new WindowAggregateSpec(3, WindowSpec.Session(41), [0], Aggregates), new OutputTag("late", Events), Pool, 100);
        var error = Assert.ThrowsAny<Exception>(() => other.Restore(new StateSnapshotReader(stream, "snap", Path.GetTempPath())));
        Assert.Contains("gap", error.Message);
    }

    private GroupAggregateOperator Group() => new(Events, new GroupAggregateSpec([0, 1], [
        AggregateSpec.CountStar("n"), AggregateSpec.Sum(2, "total"), AggregateSpec.Min(2, "low"), AggregateSpec.Max(0, "top"),
        AggregateSpec.Avg(2, "mean"), AggregateSpec.CountDistinct(2, "amounts"),
    ]), Pool, 100);

    [Fact]
    public void Group_aggregate_restored_from_a_snapshot_emits_the_same_changelog()
    {
        // A changelog input: inserts, and retractions of earlier inserted rows, so keys vanish and come back.
        var random = new Random(5);
        var rows = new List<object?[]>();
        var kinds = new List<RowKind>();
        var live = new List<object?[]>();
        for (var i = 0; i < 3000; i++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                var at = random.Next(live.Count);
                rows.Add(live[at]);
                kinds.Add(RowKind.Delete);
                live.RemoveAt(at);
                continue;
            }

            var row = new object?[] { "r" + random.Next(0, 5), random.Next(8) == 0 ? null : (long)random.Next(0, 6), (double)random.Next(0, 50), (long)i };
            rows.Add(row);
            kinds.Add(RowKind.Insert);
            live.Add(row);
        }

        var expected = Run(Group, rows, null, kinds: kinds);
        Assert.Contains(expected.Rows, r => r.StartsWith("Delete", StringComparison.Ordinal));
        foreach (var at in new[] { 1, 17, 40 })
        {
            var restored = Run(Group, rows, at, op => Checkpointing.RoundTrip(op, Group), kinds);
            Assert.Equal(expected.Rows, restored.Rows);
        }
    }
}
