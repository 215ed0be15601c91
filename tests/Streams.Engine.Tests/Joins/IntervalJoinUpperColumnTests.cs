using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.IntervalJoin;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Tests.Joins;

/// <summary>
/// Interval joins whose upper bound is a column of the left row (Nexmark q4: <c>bid.ts BETWEEN auction.ts AND auction.expires</c>):
/// random streams against a nested loop, state freed at each left row's own upper bound, and no joined row late.
/// </summary>
public class IntervalJoinUpperColumnTests
{
    // Auction-like left rows: key, event time, expires; bid-like right rows: key, event time, price.
    private static readonly Schema LeftSchema = new([new Field("id", DataType.Int64), new Field("ts", DataType.Timestamp), new Field("expires", DataType.Timestamp)], 1);
    private static readonly Schema RightSchema = new([new Field("auction", DataType.Int64), new Field("ts", DataType.Timestamp), new Field("price", DataType.Int64)], 1);

    private sealed record Event(JoinSide Side, long Key, long Ts, long? Expires, long Base, int Id);

    [Theory]
    [InlineData(1, JoinType.Inner, 0L, 0L, false)]
    [InlineData(2, JoinType.Left, 0L, 0L, false)]
    [InlineData(3, JoinType.Inner, -200L, 300L, true)]
    [InlineData(4, JoinType.Left, 100L, -100L, true)]
    public void Random_streams_give_the_nested_loop_result_and_free_each_left_row_at_its_upper_bound(int seed, JoinType type, long lower, long upper, bool restoreMidway)
    {
        var rng = new Random(seed);
        var pool = new BatchPool();
        var events = new List<Event>();
        const int step = 5;
        const int disorder = 400;
        for (var i = 0; i < 4000; i++)
        {
            var b = (long)i * step;
            var ts = b + rng.Next(disorder);
            // Left rows live between 0 and 3 s (some with NULL expiry); right rows are ten times more frequent, like bids.
            var left = rng.Next(10) == 0;
            long? expires = !left ? null : rng.Next(25) == 0 ? null : ts + rng.Next(3000);
            events.Add(new Event(left ? JoinSide.Left : JoinSide.Right, rng.Next(30), ts, expires, b, i));
        }

        IntervalJoinOperator Create() => new(LeftSchema, RightSchema, [0], [0], lower, upper, type, outputBatchCapacity: 64, leftUpperTimeColumn: 2);
        var op = Create();
        var output = new CollectingOutput();
        var maxLeftState = 0;
        var at = 0;
        while (at < events.Count)
        {
            var chunk = events.Skip(at).Take(1 + rng.Next(50)).ToList();
            at += chunk.Count;
            foreach (var side in new[] { JoinSide.Left, JoinSide.Right })
            {
                var rows = chunk.Where(e => e.Side == side).Select(e => side == JoinSide.Left
                    ? new object?[] { e.Key, e.Ts, e.Expires }
                    : new object?[] { e.Key, e.Ts, (long)e.Id }).ToList();
                if (rows.Count > 0)
                {
                    op.OnBatch(side, Batches.Of(pool, side == JoinSide.Left ? LeftSchema : RightSchema, rows), output);
                }
            }

            op.OnWatermark(chunk[^1].Base, output);
            maxLeftState = Math.Max(maxLeftState, op.State.Left.Count);
            if (restoreMidway && at >= events.Count / 2 && at - chunk.Count < events.Count / 2)
            {
                var rows = op.StateRowCount;
                op = Checkpointing.RoundTrip(op, Create);
                Assert.Equal(rows, op.StateRowCount);
            }
        }

        op.OnWatermark(long.MaxValue, output);
        op.OnEndOfInput(output);

        var expected = new List<string>();
        var rights = events.Where(e => e.Side == JoinSide.Right).ToList();
        foreach (var l in events.Where(e => e.Side == JoinSide.Left))
        {
            var matches = rights.Where(r => r.Key == l.Key && l.Expires is not null && r.Ts >= l.Ts + lower && r.Ts <= l.Expires + upper).ToList();
            expected.AddRange(matches.Select(r => Batches.Text(l.Key, l.Ts, l.Expires, r.Key, r.Ts, (long)r.Id)));
            if (matches.Count == 0 && type == JoinType.Left)
            {
                expected.Add(Batches.Text(l.Key, l.Ts, l.Expires, null, null, null));
            }
        }

        Assert.Equal(CollectingOutput.Sorted(expected), CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));
        Assert.True(expected.Count > 500, "the data should produce a meaningful number of matches");
        for (var i = 0; i < output.Rows.Count; i++)
        {
            Assert.True((long)output.Rows[i].Values[1]! > output.WatermarkBeforeRow[i], $"row {output.Rows[i].Text} emitted after watermark {output.WatermarkBeforeRow[i]}");
        }

        Assert.True(output.Watermarks.SequenceEqual(output.Watermarks.Order()), "watermarks must not go back");
        Assert.Equal(0, op.StateRowCount);
        // 400 left rows over 20 s of event time, each kept at most ~3.4 s: far fewer than all of them at once.
        Assert.InRange(maxLeftState, 1, 150);
        Assert.Empty(output.Errors);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void A_left_row_waits_exactly_until_its_own_upper_bound_and_holds_the_output_watermark_back_by_its_span()
    {
        var pool = new BatchPool();
        var op = new IntervalJoinOperator(LeftSchema, RightSchema, [0], [0], 0, 0, JoinType.Left, leftUpperTimeColumn: 2);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[1L, 1000L, 6000L], [2L, 1000L, 1500L]]), output);
        op.OnWatermark(1499, output);
        Assert.Empty(output.Rows);
        op.OnWatermark(1500, output);
        Assert.Equal([Batches.Text(2L, 1000L, 1500L, null, null, null)], output.Rows.Select(r => r.Text));

        // At 5,999 the first auction still takes a bid at exactly its expiry, and one before its start is not a match.
        op.OnWatermark(5999, output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, [[1L, 6000L, 7L], [1L, 999L, 8L], [1L, 6001L, 9L]]), output);
        Assert.Equal(Batches.Text(1L, 1000L, 6000L, 1L, 6000L, 7L), output.Rows[^1].Text);
        Assert.Equal(2, output.Rows.Count);
        op.OnWatermark(6000, output);
        Assert.Equal(0, op.State.Left.Count);

        // The output watermark stays 5 s (the widest expires - ts) behind, so the 1,000 ms rows were not late.
        Assert.Equal([1499 - 5000, 1500 - 5000, 5999 - 5000, 6000 - 5000], output.Watermarks);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void The_upper_column_must_be_a_timestamp()
    {
        var ex = Assert.Throws<ArgumentException>(() => new IntervalJoinOperator(LeftSchema, RightSchema, [0], [0], 0, 0, leftUpperTimeColumn: 0));
        Assert.Contains("upper time column", ex.Message, StringComparison.Ordinal);
    }
}
