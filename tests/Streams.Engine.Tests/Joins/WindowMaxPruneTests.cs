using Streams.Engine.Data;
using Streams.Engine.Operators.WindowMaxPrune;

namespace Streams.Engine.Tests.Joins;

/// <summary>
/// The rows at their tumbling window's maximum (Nexmark q7) must be exactly what joining the stream to its per-window
/// MAX on value and <c>time BETWEEN window_end - size AND window_end</c> returns, while keeping only a few rows per window.
/// </summary>
public class WindowMaxPruneTests : PooledBatchTest
{
    private static readonly Schema Bids = new([new Field("auction", DataType.Int64), new Field("price", DataType.Int64), new Field("ts", DataType.Timestamp)], 2);

    private sealed record Bid(long Auction, long? Price, long Ts);

    [Theory]
    [InlineData(1, 1000L, false)]
    [InlineData(2, 1000L, true)]
    [InlineData(3, 250L, true)]
    public void Random_bids_give_the_join_result_with_few_rows_held(int seed, long size, bool restoreMidway)
    {
        var rng = new Random(seed);
        var bids = new List<Bid>();
        for (var i = 0; i < 20_000; i++)
        {
            // Times on a 50 ms grid (many rows exactly on window bounds), prices with many ties, some NULL, disorder 300 ms.
            var ts = Math.Max(0, (i / 4 * 50L) - (rng.Next(7) * 50L));
            bids.Add(new Bid(i, rng.Next(30) == 0 ? null : rng.Next(60), ts));
        }

        var op = new WindowMaxPruneOperator(Bids, 2, 1, size, Pool, batchSize: 100);
        var output = new CollectingOutput();
        var maxState = 0;
        for (var at = 0; at < bids.Count;)
        {
            var chunk = bids.Skip(at).Take(1 + rng.Next(300)).ToList();
            at += chunk.Count;
            op.OnBatch(Batches.Of(Pool, Bids, chunk.Select(b => new object?[] { b.Auction, b.Price, b.Ts }).ToList()), output);
            maxState = Math.Max(maxState, op.StateRowCount);
            if (restoreMidway && at >= bids.Count / 2 && at - chunk.Count < bids.Count / 2)
            {
                var held = op.StateRowCount;
                op = Checkpointing.RoundTrip(op, () => new WindowMaxPruneOperator(Bids, 2, 1, size, Pool, batchSize: 100));
                Assert.Equal(held, op.StateRowCount);
            }

            // Watermark 400 ms behind the newest row: above the disorder, so no row is late.
            op.OnWatermark((chunk[^1].Ts / 4) * 4 - 400, output);
        }

        op.OnWatermark(long.MaxValue, output);
        op.OnEndOfInput(output);

        var maxima = bids.Where(b => b.Price is not null).GroupBy(b => b.Ts - (b.Ts % size)).ToDictionary(g => g.Key + size, g => g.Max(b => b.Price!.Value));
        var expected = (
            from w in maxima
            from b in bids
            where b.Price == w.Value && b.Ts >= w.Key - size && b.Ts <= w.Key
            select Batches.Text(b.Auction, b.Price, b.Ts, w.Value, w.Key)).ToList();
        Assert.Equal(CollectingOutput.Sorted(expected), CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));
        Assert.Contains(output.Rows, r => (long)r.Values[2]! == (long)r.Values[4]!);
        Assert.Empty(output.Errors);
        for (var i = 0; i < output.Rows.Count; i++)
        {
            Assert.True((long)output.Rows[i].Values[2]! > output.WatermarkBeforeRow[i], $"row {output.Rows[i].Text} emitted after watermark {output.WatermarkBeforeRow[i]}");
        }

        Assert.Equal(0, op.StateRowCount);
        Assert.InRange(maxState, 1, 400);
    }

    [Fact]
    public void A_row_at_a_window_end_counts_for_both_windows_and_late_null_and_retracted_rows_are_handled()
    {
        var op = new WindowMaxPruneOperator(Bids, 2, 1, 1000, Pool);
        var output = new CollectingOutput();
        op.OnBatch(Batches.Of(Pool, Bids, [[1L, 5L, 100L], [2L, 9L, 200L], [3L, 9L, 999L], [4L, 9L, 1000L], [5L, 3L, 1500L], [6L, null, 1700L]]), output);
        op.OnWatermark(999, output);
        Assert.Empty(output.Rows);

        // At 1,000 every row of [0, 1000) and at 1,000 itself is in: the window fires, with the row at its end.
        op.OnWatermark(1000, output);
        Assert.Equal(
            CollectingOutput.Sorted([Batches.Text(2L, 9L, 200L, 9L, 1000L), Batches.Text(3L, 9L, 999L, 9L, 1000L), Batches.Text(4L, 9L, 1000L, 9L, 1000L)]),
            CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));

        // A row for the fired window is late; a retraction is refused; the row at 1,000 is also its own window's maximum.
        output.Rows.Clear();
        op.OnBatch(Batches.Of(Pool, Bids, [[7L, 50L, 500L], [8L, 1L, 1200L]], [RowKind.Insert, RowKind.Delete]), output);
        Assert.Equal(2, output.Errors.Count);
        Assert.Contains("late", output.Errors[0], StringComparison.Ordinal);
        Assert.Contains("append-only", output.Errors[1], StringComparison.Ordinal);
        op.OnWatermark(long.MaxValue, output);
        Assert.Equal([Batches.Text(4L, 9L, 1000L, 9L, 2000L)], output.Rows.Select(r => r.Text));
        Assert.Equal(0, op.StateRowCount);
    }

    [Fact]
    public void Only_integer_values_and_a_timestamp_time_column_are_accepted()
    {
        Assert.Contains("TIMESTAMP", Assert.Throws<ArgumentException>(() => new WindowMaxPruneOperator(Bids, 1, 1, 1000, Pool)).Message, StringComparison.Ordinal);
        var strings = new Schema([new Field("v", DataType.String), new Field("ts", DataType.Timestamp)], 1);
        Assert.Contains("BIGINT", Assert.Throws<ArgumentException>(() => new WindowMaxPruneOperator(strings, 1, 0, 1000, Pool)).Message, StringComparison.Ordinal);
    }
}
