using Streams.Connectors.Nexmark;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using static Streams.EndToEnd.Tests.Connectors.ConnectorTestKit;

namespace Streams.EndToEnd.Tests.Connectors;

public sealed class NexmarkGeneratorTests
{
    private static List<object?[]> Generate(NexmarkGenerator generator, NexmarkTable table, Schema? schema = null, int partition = 0, int partitions = 1, long cursor = 0, int maxBatches = int.MaxValue)
    {
        var pool = new BatchPool();
        var rows = new List<object?[]>();
        for (var b = 0; b < maxBatches; b++)
        {
            using var batch = pool.Rent(schema ?? NexmarkSchemas.Of(table), 4096);
            if (generator.Fill(table, batch, ref cursor, partition, partitions) == 0)
            {
                break;
            }

            rows.AddRange(Rows(batch));
        }

        return rows;
    }

    [Fact]
    public void The_same_seed_gives_the_same_events_and_another_seed_other_events()
    {
        var options = new NexmarkOptions { Events = 20_000, Seed = 42 };
        foreach (var table in Enum.GetValues<NexmarkTable>())
        {
            var a = Generate(new NexmarkGenerator(options), table);
            var b = Generate(new NexmarkGenerator(options), table);
            var c = Generate(new NexmarkGenerator(options with { Seed = 43 }), table);
            Assert.Equal(a, b);
            Assert.Equal(a.Count, c.Count);
            Assert.NotEqual(a, c);
        }
    }

    [Fact]
    public void Proportions_ids_and_value_ranges_follow_the_reference_generator()
    {
        var generator = new NexmarkGenerator(new NexmarkOptions { Events = 250_000, Seed = 7, Rate = 1000 });
        var persons = Generate(generator, NexmarkTable.Person);
        var auctions = Generate(generator, NexmarkTable.Auction);
        var bids = Generate(generator, NexmarkTable.Bid);
        Assert.Equal(5_000, persons.Count);
        Assert.Equal(15_000, auctions.Count);
        Assert.Equal(230_000, bids.Count);

        // Ids are dense from 1000 in event order; event times advance by 1 ms per event at rate 1000.
        Assert.Equal(Enumerable.Range(1000, 5_000).Select(i => (long)i), persons.Select(p => (long)p[0]!));
        Assert.Equal(Enumerable.Range(1000, 15_000).Select(i => (long)i), auctions.Select(a => (long)a[0]!));
        Assert.Equal(1_704_067_200_000L, (long)persons[0][6]!);
        Assert.Equal(1_704_067_200_000L + 50, (long)persons[1][6]!);
        Assert.Equal(1_704_067_200_000L + 4, (long)bids[0][5]!);

        var hotAuction = bids.Count(b => ((long)b[0]! - 1000) % 100 == 0) / (double)bids.Count;
        Assert.InRange(hotAuction, 0.48, 0.56);
        var hotBidder = bids.Count(b => ((long)b[1]! - 1000) % 100 == 1) / (double)bids.Count;
        Assert.InRange(hotBidder, 0.74, 0.80);
        var hotChannel = bids.Count(b => b[3] is "Google" or "Facebook" or "Baidu" or "Apple") / (double)bids.Count;
        Assert.InRange(hotChannel, 0.48, 0.52);
        Assert.All(bids, b => Assert.InRange((long)b[2]!, 100L, 100_000_000L));
        Assert.All(bids, b => Assert.StartsWith("https://www.nexmark.com/", (string)b[4]!));
        Assert.InRange(bids.Average(b => 32 + ((string)b[6]!).Length), 90.0, 110.0);
        Assert.InRange(bids.Select(b => (string)b[3]!).Distinct().Count(), 4000, 10_004);

        // Bids refer to auctions and people that exist or are about to (reference: lead of 10).
        Assert.All(bids, b => Assert.InRange((long)b[0]!, 1000L, 1000L + 15_000 + 10));
        var hotSeller = auctions.Count(a => ((long)a[7]! - 1000) % 100 == 0) / (double)auctions.Count;
        Assert.InRange(hotSeller, 0.72, 0.80);
        Assert.All(auctions, a => Assert.InRange((long)a[8]!, 10L, 14L));
        Assert.All(auctions, a => Assert.True((long)a[4]! >= (long)a[3]!));
        Assert.All(auctions, a => Assert.True((long)a[6]! > (long)a[5]!));
        Assert.All(persons, p => Assert.Matches(@"^\d{4} \d{4} \d{4} \d{4}$", (string)p[3]!));
        Assert.All(persons, p => Assert.Contains((string)p[5]!, new[] { "AZ", "CA", "ID", "OR", "WA", "WY" }));
    }

    [Fact]
    public void Out_of_orderness_is_bounded()
    {
        var generator = new NexmarkGenerator(new NexmarkOptions { Events = 40_000, Rate = 1000, MaxOutOfOrderMillis = 200 });
        var bids = Generate(generator, NexmarkTable.Bid);
        var ordered = Generate(new NexmarkGenerator(new NexmarkOptions { Events = 40_000, Rate = 1000 }), NexmarkTable.Bid);
        var late = 0;
        var max = long.MinValue;
        for (var i = 0; i < bids.Count; i++)
        {
            var t = (long)bids[i][5]!;
            var exact = (long)ordered[i][5]!;
            Assert.InRange(exact - t, 0, 200);
            late += t < max ? 1 : 0;
            max = Math.Max(max, t);
            Assert.True(max - t <= 200);
        }

        Assert.True(late > bids.Count / 4);
    }

    [Fact]
    public async Task Partitions_split_the_events_and_readers_resume_at_their_offset()
    {
        var generator = new NexmarkGenerator(new NexmarkOptions { Events = 30_000, Seed = 3 });
        var all = Generate(generator, NexmarkTable.Bid);
        var parts = Enumerable.Range(0, 3).Select(p => Generate(generator, NexmarkTable.Bid, partition: p, partitions: 3)).ToList();
        Assert.All(parts, p => Assert.InRange(p.Count, 9_000, 9_500));
        Assert.Equal(Key(all), Key(parts.SelectMany(p => p)));

        var projected = new Schema([new Field("DATETIME", DataType.Timestamp), new Field("price", DataType.Int64)]);
        var source = new NexmarkConnectorFactory().CreateSource(Context(projected, ".", options: [("table", "bid"), ("events", "30000"), ("seed", "3"), ("partitions", "2")]));
        Assert.Equal(2, source.PartitionCount);
        Assert.True(source.IsBounded);
        var read = new List<object?[]>();
        for (var p = 0; p < 2; p++)
        {
            using var reader = source.OpenPartition(p, 0);
            read.AddRange(await ReadAll(reader, maxBatches: 1));
            using var resumed = source.OpenPartition(p, reader.Offset);
            read.AddRange(await ReadAll(resumed));
        }

        Assert.Equal(all.Select(b => $"{b[5]}|{b[2]}").Order(), read.Select(r => $"{r[0]}|{r[1]}").Order());

        static IEnumerable<string> Key(IEnumerable<object?[]> rows) => rows.Select(r => string.Join("|", r)).Order(StringComparer.Ordinal);
    }

    [Fact]
    public void Generating_allocates_nothing_per_event()
    {
        var generator = new NexmarkGenerator(new NexmarkOptions { Events = 0 });
        var pool = new BatchPool();
        long cursor = 0;
        // Warm up until the JIT has settled (tier-up compiles allocate on the calling thread).
        for (var i = 0; i < 60; i++)
        {
            foreach (var table in Enum.GetValues<NexmarkTable>())
            {
                using var warm = pool.Rent(NexmarkSchemas.Of(table));
                generator.Fill(table, warm, ref cursor);
            }
        }

        NexmarkTable[] tables = [NexmarkTable.Person, NexmarkTable.Auction, NexmarkTable.Bid];
        long rows = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            foreach (var table in tables)
            {
                var batch = pool.Rent(NexmarkSchemas.Of(table));
                rows += generator.Fill(table, batch, ref cursor);
                batch.Dispose();
            }
        }

        // 60 batches of 8192 events: a single allocation per event would be megabytes.
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(60L * BatchPool.DefaultCapacity, rows);
        Assert.InRange(allocated, 0, 1024);
    }

    [Fact]
    public async Task The_connector_rejects_unknown_tables_columns_and_bad_numbers()
    {
        var factory = new NexmarkConnectorFactory();
        var e1 = Assert.Throws<ConnectorException>(() => factory.CreateSource(Context(NexmarkSchemas.Bid, ".", options: [("table", "bids2")])));
        Assert.Contains("unknown table 'bids2'", e1.Message);
        var wrongColumn = new Schema([new Field("auction", DataType.Int64), new Field("colour", DataType.String)]);
        var e2 = Assert.Throws<ConnectorException>(() => factory.CreateSource(Context(wrongColumn, ".", options: [("table", "bid")])));
        Assert.Contains("has no column 'colour'", e2.Message);
        var wrongType = new Schema([new Field("price", DataType.Double)]);
        var e3 = Assert.Throws<ConnectorException>(() => factory.CreateSource(Context(wrongType, ".")));
        Assert.Contains("'price' is BIGINT, not DOUBLE", e3.Message);
        var e4 = Assert.Throws<ConnectorException>(() => factory.CreateSource(Context(NexmarkSchemas.Bid, ".", options: [("events", "lots")])));
        Assert.Contains("'events' must be an integer", e4.Message);
        var unbounded = factory.CreateSource(Context(NexmarkSchemas.Person, ".", options: [("table", "person"), ("events", "0"), ("base-time", "2030-01-01T00:00:00Z")]));
        Assert.False(unbounded.IsBounded);
        using var reader = unbounded.OpenPartition(0, 0);
        using var batch = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal(Millis("2030-01-01T00:00:00Z"), batch.ColumnAt<long>(6).Values[0]);
    }
}
