using Streams.Engine.Data;
using Streams.Engine.Operators.EquiJoin;
using Streams.Engine.Operators.IntervalJoin;
using Streams.Engine.Operators.Joins;
using Streams.Engine.Operators.Union;
using Streams.Engine.Operators.WindowJoin;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sinks;
using Streams.Engine.Runtime.Sources;

namespace Streams.Engine.Tests.Joins;

/// <summary>The join operators inside real jobs: sources with per-partition watermarks, key exchanges, parallel tasks.</summary>
public class JoinPipelineTests : PooledBatchTest
{
    private static readonly Schema Bids = new([new Field("auction", DataType.Int64), new Field("price", DataType.Int64), new Field("ts", DataType.Timestamp)], 2);
    private static readonly Schema Auctions = new([new Field("id", DataType.Int64), new Field("seller", DataType.String), new Field("ts", DataType.Timestamp)], 2);
    private const long Delay = 400;

    private static List<List<object?[]>> Partitions(int seed, int partitions, int rows, Func<Random, int, object?[]> make)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, partitions).Select(p => Enumerable.Range(0, rows).Select(i => make(rng, i)).ToList()).ToList();
    }

    // Event time i * 5 ms plus disorder below the watermark delay, so no row is late.
    private static List<List<object?[]>> BidRows() =>
        Partitions(1, 2, 1500, (rng, i) => [rng.Next(10) == 0 ? null : (long)rng.Next(50), (long)rng.Next(1000), (i * 5L) + rng.Next((int)Delay)]);

    private static List<List<object?[]>> AuctionRows() =>
        Partitions(2, 2, 800, (rng, i) => [(long)rng.Next(50), "s" + rng.Next(9), (i * 9L) + rng.Next((int)Delay)]);

    private static string Text(IEnumerable<object?> values) => Batches.Text(values.ToArray());

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Interval_left_join_in_a_parallel_job_equals_the_nested_loop(int parallelism)
    {
        var bids = BidRows();
        var auctions = AuctionRows();
        var graph = new JobGraph(new JobOptions { Parallelism = parallelism, Pool = Pool, BatchSize = 256 });
        var b = graph.Source("bids", new InMemorySource(Bids, bids, batchSize: 100, pool: Pool), Bids, new WatermarkStrategy(2, Delay));
        var a = graph.Source("auctions", new InMemorySource(Auctions, auctions, batchSize: 70, pool: Pool), Auctions, new WatermarkStrategy(2, Delay));
        // bids b LEFT JOIN auctions a ON b.auction = a.id AND a.ts BETWEEN b.ts - INTERVAL '1' SECOND AND b.ts
        var schema = new IntervalJoinOperator(Bids, Auctions, [0], [0], -1000, 0, JoinType.Left).OutputSchema;
        var sink = new CollectingSink();
        graph.Connect("join", b, a, schema, _ => new IntervalJoinOperator(Bids, Auctions, [0], [0], -1000, 0, JoinType.Left), [0], [0]).To(sink);
        var job = graph.Build();
        await job.RunAsync();

        var expected = new List<string>();
        foreach (var l in bids.SelectMany(p => p))
        {
            var matched = false;
            foreach (var r in auctions.SelectMany(p => p))
            {
                if (l[0] is long k && (long)r[0]! == k && (long)r[2]! >= (long)l[2]! - 1000 && (long)r[2]! <= (long)l[2]!)
                {
                    expected.Add(Text(l.Concat(r)));
                    matched = true;
                }
            }

            if (!matched)
            {
                expected.Add(Text(l.Concat([null, null, null])));
            }
        }

        Assert.Equal(CollectingOutput.Sorted(expected), CollectingOutput.Sorted(sink.Rows.Select(r => Text(r.Values))));
        Assert.True(expected.Count(e => !e.EndsWith("NULL|NULL|NULL", StringComparison.Ordinal)) > 500);
        Assert.Equal(0, job.Metrics["join"].Errors);
    }

    [Fact]
    public async Task Window_join_and_regular_left_join_in_a_job_equal_their_references()
    {
        var bids = BidRows();
        var auctions = AuctionRows();
        var graph = new JobGraph(new JobOptions { Parallelism = 2, Pool = Pool, BatchSize = 256 });
        var b = graph.Source("bids", new InMemorySource(Bids, bids, batchSize: 100, pool: Pool), Bids, new WatermarkStrategy(2, Delay));
        var a = graph.Source("auctions", new InMemorySource(Auctions, auctions, batchSize: 70, pool: Pool), Auctions, new WatermarkStrategy(2, Delay));
        var window = JoinWindow.Tumble(2000);
        var windowSink = new CollectingSink();
        graph.Connect("window-join", b, a, new WindowJoinOperator(Bids, Auctions, [0], [0], window).OutputSchema,
            _ => new WindowJoinOperator(Bids, Auctions, [0], [0], window), [0], [0]).To(windowSink);
        var job = graph.Build();
        await job.RunAsync();

        var expected = new List<string>();
        foreach (var l in bids.SelectMany(p => p))
        {
            foreach (var r in auctions.SelectMany(p => p))
            {
                var start = Math.Floor((long)l[2]! / 2000.0) * 2000;
                if (l[0] is long k && (long)r[0]! == k && Math.Floor((long)r[2]! / 2000.0) * 2000 == start)
                {
                    expected.Add(Text(l.Concat(r).Concat([(long)start, (long)start + 2000, (long)start + 1999])));
                }
            }
        }

        Assert.Equal(CollectingOutput.Sorted(expected), CollectingOutput.Sorted(windowSink.Rows.Select(r => Text(r.Values))));
        Assert.Equal(0, job.Metrics["window-join"].LateRecords);

        // Regular LEFT join: the changelog, applied, is the SQL result over all input.
        var graph2 = new JobGraph(new JobOptions { Parallelism = 2, Pool = Pool, BatchSize = 256 });
        var b2 = graph2.Source("bids", new InMemorySource(Bids, bids, batchSize: 100, pool: Pool), Bids);
        var a2 = graph2.Source("auctions", new InMemorySource(Auctions, [auctions[0].Take(60).ToList()], batchSize: 7, pool: Pool), Auctions);
        var joinSink = new CollectingSink();
        graph2.Connect("join", b2, a2, new EquiJoinOperator(Bids, Auctions, [0], [0], JoinType.Left).OutputSchema,
            _ => new EquiJoinOperator(Bids, Auctions, [0], [0], JoinType.Left), [0], [0]).To(joinSink);
        await graph2.Build().RunAsync();
        var applied = new CollectingOutput();
        foreach (var row in joinSink.Rows)
        {
            applied.Rows.Add(new TestRow(row.Kind, row.Values));
        }

        var reference = new List<string>();
        foreach (var l in bids.SelectMany(p => p))
        {
            var partners = auctions[0].Take(60).Where(r => l[0] is long k && (long)r[0]! == k).ToList();
            reference.AddRange(partners.Count == 0 ? [Text(l.Concat([null, null, null]))] : partners.Select(r => Text(l.Concat(r))));
        }

        Assert.Equal(CollectingOutput.Sorted(reference), applied.Materialize());
    }

    [Fact]
    public async Task Union_in_a_job_keeps_every_row_of_both_inputs()
    {
        var left = Partitions(3, 2, 700, (rng, i) => [(long)i, (long)rng.Next(100), i * 3L]);
        var right = Partitions(4, 3, 400, (rng, i) => [(long)-i, (long)rng.Next(100), i * 7L]);
        var graph = new JobGraph(new JobOptions { Parallelism = 2, Pool = Pool, BatchSize = 128 });
        var l = graph.Source("left", new InMemorySource(Bids, left, batchSize: 50, pool: Pool), Bids, new WatermarkStrategy(2, 10));
        var r = graph.Source("right", new InMemorySource(Bids, right, batchSize: 50, pool: Pool), Bids, new WatermarkStrategy(2, 10));
        var sink = new CollectingSink();
        graph.Connect("union", l, r, Bids, _ => new UnionOperator(Bids, Bids)).To(sink);
        var job = graph.Build();
        await job.RunAsync();
        Assert.Equal(
            CollectingOutput.Sorted(left.Concat(right).SelectMany(p => p).Select(Text)),
            CollectingOutput.Sorted(sink.Rows.Select(x => Text(x.Values))));
        Assert.Equal(long.MaxValue, job.Metrics["union"].Watermark);
    }
}
