using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Joins;
using Streams.Engine.Operators.WindowJoin;

namespace Streams.Engine.Tests.Joins;

public class WindowJoinTests
{
    private static readonly Schema LeftSchema = new([new Field("ts", DataType.Timestamp), new Field("k", DataType.Int32), new Field("id", DataType.Int64)], 0);
    private static readonly Schema RightSchema = new([new Field("k", DataType.Int32), new Field("v", DataType.String), new Field("ts", DataType.Timestamp)], 2);

    private sealed record Event(JoinSide Side, int? Key, long Ts, long Base, int Id);

    public static TheoryData<int, JoinType, string> Cases() => new()
    {
        { 31, JoinType.Inner, "tumble" },
        { 32, JoinType.Left, "tumble" },
        { 33, JoinType.Inner, "hop" },
        { 34, JoinType.Left, "hop" },
        { 35, JoinType.Left, "hop-uneven" },
        { 36, JoinType.Inner, "session" },
        { 37, JoinType.Left, "session" },
        { 38, JoinType.Left, "hop-restore" },
        { 39, JoinType.Left, "session-restore" },
    };

    private static JoinWindow WindowOf(string name) => name switch
    {
        "tumble" => JoinWindow.Tumble(1000, offsetMs: 250),
        "hop" => JoinWindow.Hop(500, 1500),
        "hop-uneven" => JoinWindow.Hop(400, 1000),
        _ => JoinWindow.Session(120),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_streams_give_the_reference_windowed_join_and_free_state(int seed, JoinType type, string windowName)
    {
        var restoreMidway = windowName.EndsWith("-restore", StringComparison.Ordinal);
        var window = WindowOf(windowName.Replace("-restore", "", StringComparison.Ordinal));
        var rng = new Random(seed);
        var pool = new BatchPool();
        var events = new List<Event>();
        long b = -5000;   // negative times too: window starts must floor, not truncate
        for (var i = 0; i < 2500; i++)
        {
            int? key = rng.Next(15) == 0 ? null : rng.Next(12);
            var side = rng.Next(2) == 0 ? JoinSide.Left : JoinSide.Right;
            if (window.Kind == JoinWindowKind.Session)
            {
                // Bursts on a coarse time grid, so both sides often form the very same session per key.
                if (i % 40 == 0)
                {
                    b += 1000;
                }

                events.Add(new Event(side, key, b + (rng.Next(3) * 50), b - 1, i));
            }
            else
            {
                b += rng.Next(10) == 0 ? 400 : rng.Next(8);
                events.Add(new Event(side, key, b + rng.Next(300), b, i));
            }
        }

        var op = new WindowJoinOperator(LeftSchema, RightSchema, [1], [0], window, type, outputBatchCapacity: 50);
        var output = new CollectingOutput();
        var maxState = 0;
        var at = 0;
        while (at < events.Count)
        {
            var chunk = events.Skip(at).Take(1 + rng.Next(40)).ToList();
            at += chunk.Count;
            foreach (var side in new[] { JoinSide.Right, JoinSide.Left })
            {
                var rows = chunk.Where(e => e.Side == side).Select(e => side == JoinSide.Left
                    ? new object?[] { e.Ts, e.Key, (long)e.Id }
                    : new object?[] { e.Key, "r" + e.Id, e.Ts }).ToList();
                if (rows.Count > 0)
                {
                    op.OnBatch(side, Batches.Of(pool, side == JoinSide.Left ? LeftSchema : RightSchema, rows), output);
                }
            }

            op.OnWatermark(chunk[^1].Base, output);
            maxState = Math.Max(maxState, op.StateRowCount);
            if (restoreMidway && at >= events.Count / 2 && at - chunk.Count < events.Count / 2)
            {
                var rows = op.StateRowCount;
                Assert.True(rows > 10);
                op = Checkpointing.RoundTrip(op, () => new WindowJoinOperator(LeftSchema, RightSchema, [1], [0], window, type, outputBatchCapacity: 50));
                Assert.Equal(rows, op.StateRowCount);
            }
        }

        op.OnWatermark(long.MaxValue, output);
        op.OnEndOfInput(output);

        var expected = Reference(events, window, type);
        var actual = CollectingOutput.Sorted(output.Rows.Select(r => r.Text));
        Assert.Equal(string.Join("\n", expected.Except(actual).Take(5)), string.Join("\n", actual.Except(expected).Take(5)));
        Assert.Equal(expected, actual);
        Assert.True(expected.Count > 200, $"only {expected.Count} rows: the data should produce a meaningful join");
        for (var i = 0; i < output.Rows.Count; i++)
        {
            Assert.True((long)output.Rows[i].Values[8]! > output.WatermarkBeforeRow[i], "a joined row must not be late for the watermark already sent");
        }

        Assert.Equal(0, op.StateRowCount);
        Assert.Equal(0, op.StateKeyCount);
        Assert.Equal(0, op.OpenWindowCount);
        Assert.True(maxState < 1000, $"state held {maxState} of 2500 rows; firing should free closed windows");
        Assert.Empty(output.Errors);
        Assert.Equal(0, op.LateRows);
        Assert.Equal(0, pool.Outstanding);
    }

    private static List<string> Reference(List<Event> events, JoinWindow window, JoinType type)
    {
        // Windows per row, then a nested loop per window.
        IEnumerable<(long Start, long End, Event E)> Assign(JoinSide side)
        {
            var rows = events.Where(e => e.Side == side).ToList();
            if (window.Kind != JoinWindowKind.Session)
            {
                foreach (var e in rows)
                {
                    var first = (long)Math.Floor((e.Ts - window.OffsetMs - window.SizeMs + 1) / (double)window.SlideMs);
                    var last = (long)Math.Floor((e.Ts - window.OffsetMs) / (double)window.SlideMs);
                    for (var w = first; w <= last; w++)
                    {
                        var s = (w * window.SlideMs) + window.OffsetMs;
                        if (s <= e.Ts && e.Ts < s + window.SizeMs)
                        {
                            yield return (s, s + window.SizeMs, e);
                        }
                    }
                }

                yield break;
            }

            foreach (var group in rows.GroupBy(e => e.Key))
            {
                var sorted = group.OrderBy(e => e.Ts).ToList();
                var i = 0;
                while (i < sorted.Count)
                {
                    var s = sorted[i].Ts;
                    var end = s + window.GapMs;
                    var j = i + 1;
                    while (j < sorted.Count && sorted[j].Ts <= end)
                    {
                        end = Math.Max(end, sorted[j].Ts + window.GapMs);
                        j++;
                    }

                    for (var x = i; x < j; x++)
                    {
                        yield return (s, end, sorted[x]);
                    }

                    i = j;
                }
            }
        }

        var lefts = Assign(JoinSide.Left).ToList();
        var rights = Assign(JoinSide.Right).ToList();
        var result = new List<string>();
        foreach (var l in lefts)
        {
            var matched = false;
            foreach (var r in rights)
            {
                if (l.E.Key is not null && l.E.Key == r.E.Key && l.Start == r.Start && l.End == r.End)
                {
                    result.Add(Batches.Text(l.E.Ts, l.E.Key, (long)l.E.Id, r.E.Key, "r" + r.E.Id, r.E.Ts, l.Start, l.End, l.End - 1));
                    matched = true;
                }
            }

            if (!matched && type == JoinType.Left)
            {
                result.Add(Batches.Text(l.E.Ts, l.E.Key, (long)l.E.Id, null, null, null, l.Start, l.End, l.End - 1));
            }
        }

        return CollectingOutput.Sorted(result);
    }

    [Fact]
    public void Tumbling_window_fires_when_the_watermark_reaches_its_last_millisecond_and_late_rows_are_reported()
    {
        var pool = new BatchPool();
        var op = new WindowJoinOperator(LeftSchema, RightSchema, [1], [0], JoinWindow.Tumble(1000), JoinType.Left);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[100L, 1, 1L], [900L, 2, 2L], [1000L, 1, 3L]]), output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, [[1, "a", 999L], [1, "b", 1500L]]), output);
        op.OnWatermark(998, output);
        Assert.Empty(output.Rows);
        op.OnWatermark(999, output);
        Assert.Equal(
            CollectingOutput.Sorted([Batches.Text(100L, 1, 1L, 1, "a", 999L, 0L, 1000L, 999L), Batches.Text(900L, 2, 2L, null, null, null, 0L, 1000L, 999L)]),
            CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));
        Assert.Equal(2, op.StateRowCount);

        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, [[1, "late", 500L]]), output);
        Assert.Equal(1, op.LateRows);
        Assert.Equal([Batches.Text(1, "late", 500L)], output.Side["late-right"].Select(r => r.Text));
        Assert.True(op.LateRight.CountsAsLate);
        Assert.Empty(output.Errors);

        op.OnWatermark(long.MaxValue, output);
        Assert.Equal(Batches.Text(1000L, 1, 3L, 1, "b", 1500L, 1000L, 2000L, 1999L), output.Rows[^1].Text);
        Assert.Equal(9, output.LastSchema!.Count);
        Assert.Equal("window_start", output.LastSchema[6].Name);
        Assert.Equal(8, output.LastSchema.EventTimeIndex);
        Assert.Equal(0, op.StateRowCount);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Sessions_that_touch_merge_and_only_identical_sessions_join()
    {
        var pool = new BatchPool();
        var op = new WindowJoinOperator(LeftSchema, RightSchema, [1], [0], JoinWindow.Session(100));
        var output = new CollectingOutput();
        // Key 1: left [0,100) and [100,200) touch -> [0,200); right 0 and 100 -> [0,200) too: they join.
        // Left 1000 -> [1000,1100) and right 1050 -> [1050,1150) overlap in time but are different windows: no join.
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[0L, 1, 1L], [100L, 1, 2L], [1000L, 1, 3L]]), output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, [[1, "a", 0L], [1, "b", 100L], [1, "c", 1050L]]), output);
        op.OnWatermark(199, output);
        Assert.Empty(output.Rows);   // a row at 200 would still touch the session
        op.OnWatermark(200, output);
        Assert.Equal(
            CollectingOutput.Sorted([
                Batches.Text(0L, 1, 1L, 1, "a", 0L, 0L, 200L, 199L), Batches.Text(0L, 1, 1L, 1, "b", 100L, 0L, 200L, 199L),
                Batches.Text(100L, 1, 2L, 1, "a", 0L, 0L, 200L, 199L), Batches.Text(100L, 1, 2L, 1, "b", 100L, 0L, 200L, 199L)]),
            CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));
        Assert.Equal(2, op.StateRowCount);
        op.OnWatermark(long.MaxValue, output);
        Assert.Equal(4, output.Rows.Count);
        Assert.Equal(0, op.StateRowCount);
        Assert.Equal(0, pool.Outstanding);
    }
}
