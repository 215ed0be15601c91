using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Tests.Joins;

namespace Streams.Engine.Tests.Operators;

/// <summary>
/// Keys that stop arriving (auction ids of closed auctions) must not pile up in a window aggregate's key table: once
/// their windows fired they are forgotten, while keys of open windows survive the renumbering with their partial results.
/// </summary>
public class WindowKeyForgettingTests : PooledBatchTest
{
    private static readonly Schema Bids = new([new Field("auction", DataType.Int64), new Field("price", DataType.Int64), new Field("ts", DataType.Timestamp)], 2);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ever_new_keys_keep_the_key_table_bounded_and_results_exact(bool hopping)
    {
        var window = hopping ? WindowSpec.Hop(500, 1000) : WindowSpec.Tumble(1000);
        var spec = new WindowAggregateSpec(2, window, [0], [AggregateSpec.CountStar("n"), AggregateSpec.Sum(1, "total")]);
        var op = new WindowAggregateOperator(Bids, spec, new OutputTag("late", Bids, CountsAsLate: true), Pool, 512);
        var output = new CollectingOutput();
        var rng = new Random(7);
        var events = new List<(long Auction, long Price, long Ts)>();
        var maxKeys = 0;
        for (var w = 0; w < 200; w++)
        {
            // 100 auctions live for one second each, plus auction -1 that bids in every second (it must survive each clean-up).
            var rows = Enumerable.Range(0, 300).Select(j => (Auction: j % 3 == 0 ? -1L : (w * 100L) + rng.Next(100), Price: (long)rng.Next(1000), Ts: (w * 1000L) + rng.Next(1000))).OrderBy(e => e.Ts).ToList();
            events.AddRange(rows);
            op.OnBatch(Batches.Of(Pool, Bids, rows.Select(e => new object?[] { e.Auction, e.Price, e.Ts }).ToList()), output);
            op.OnWatermark(rows[^1].Ts, output);
            maxKeys = Math.Max(maxKeys, op.KeyCount);
        }

        op.OnWatermark(long.MaxValue, output);
        op.OnEndOfInput(output);

        var expected = new List<string>();
        foreach (var g in events.SelectMany(e => Starts(e.Ts, window).Select(s => (e.Auction, Start: s, e.Price))).GroupBy(x => (x.Auction, x.Start)))
        {
            expected.Add(Batches.Text(g.Key.Auction, g.Key.Start, g.Key.Start + window.SizeMs, (long)g.Count(), g.Sum(x => x.Price)));
        }

        Assert.Equal(CollectingOutput.Sorted(expected), CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));
        // 20,001 distinct keys went through; the table stays at the clean-up threshold, not the history.
        Assert.InRange(maxKeys, 100, 8192 + 300);
        Assert.Empty(output.Errors);
    }

    private static IEnumerable<long> Starts(long ts, WindowSpec window)
    {
        for (var start = ts - (ts % window.SlideMs); start > ts - window.SizeMs; start -= window.SlideMs)
        {
            yield return start;
        }
    }
}
