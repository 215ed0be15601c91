using System.Text;
using Streams.Engine.Log;

namespace Streams.Engine.Tests.Log;

public sealed class PartitionLogTests : IDisposable
{
    private readonly LogTestDirectory _dir = new();
    private readonly List<string> _reports = [];

    public void Dispose() => _dir.Dispose();

    private LogStore Open() => LogStore.Open(_dir.Path, report: _reports.Add);

    private static void Fill(RecordBatchBuilder b, int from, int count, long ts = 1000)
    {
        for (var i = from; i < from + count; i++)
        {
            Assert.True(b.TryAdd(Encoding.UTF8.GetBytes("k" + (i % 7)), Encoding.UTF8.GetBytes("value-" + i), ts + i));
        }
    }

    private static List<(long Offset, string Key, string Value, long Ts)> ReadAll(PartitionLog log, long from = 0)
    {
        var result = new List<(long, string, string, long)>();
        var offset = from;
        while (true)
        {
            using var f = log.Fetch(offset, 4096);
            if (f.IsEmpty)
            {
                return result;
            }

            foreach (var r in f)
            {
                result.Add((r.Offset, Encoding.UTF8.GetString(r.Key), Encoding.UTF8.GetString(r.Value), r.Timestamp));
            }

            offset = f.NextOffset;
        }
    }

    [Fact]
    public void AppendedRecordsReadBackWithOffsetsKeysValuesAndTimestamps()
    {
        using var store = Open();
        var topic = store.CreateTopic("orders", new TopicConfig { Partitions = 2, Fsync = FsyncMode.Never });
        using var b = new RecordBatchBuilder();
        Fill(b, 0, 100);
        var first = topic.Partitions[1].Append(b);
        b.Clear();
        Fill(b, 100, 50);
        var second = topic.Partitions[1].Append(b);
        Assert.Equal(new AppendResult(0, 100, false), first);
        Assert.Equal(new AppendResult(100, 50, false), second);
        Assert.Equal(150, topic.Partitions[1].EndOffset);
        Assert.Equal(0, topic.Partitions[0].EndOffset);

        var all = ReadAll(topic.Partitions[1]);
        Assert.Equal(150, all.Count);
        for (var i = 0; i < 150; i++)
        {
            Assert.Equal((i, "k" + (i % 7), "value-" + i, 1000L + i), all[i]);
        }

        // A fetch from the middle of a batch starts exactly at the asked offset.
        Assert.Equal(Enumerable.Range(120, 30).Select(i => (long)i), ReadAll(topic.Partitions[1], 120).Select(r => r.Offset));
    }

    [Fact]
    public void RecordsSurviveReopenAndSegmentsRollWithIndexFiles()
    {
        using (var store = Open())
        {
            var topic = store.CreateTopic("t", new TopicConfig { Partitions = 1, Fsync = FsyncMode.Never, SegmentBytes = 8192 });
            using var b = new RecordBatchBuilder();
            for (var i = 0; i < 40; i++)
            {
                b.Clear();
                Fill(b, i * 20, 20);
                topic.Partitions[0].Append(b);
            }

            Assert.True(topic.Partitions[0].SegmentCount > 3);
        }

        var partitionDir = Path.Combine(_dir.Path, "topics", "t", "0");
        Assert.NotEmpty(Directory.GetFiles(partitionDir, "*.index"));
        Assert.NotEmpty(Directory.GetFiles(partitionDir, "*.timeindex"));
        using (var store = Open())
        {
            var log = store.OpenTopic("t").Partitions[0];
            Assert.Equal(800, log.EndOffset);
            var all = ReadAll(log);
            Assert.Equal(Enumerable.Range(0, 800).Select(i => "value-" + i), all.Select(r => r.Value));
            Assert.Equal(Enumerable.Range(555, 245).Select(i => (long)i), ReadAll(log, 555).Select(r => r.Offset));
            Assert.Empty(_reports);
        }
    }

    [Fact]
    public void OffsetForTimestampFindsTheFirstRecordAtOrAfterIt()
    {
        using var store = Open();
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 4096 }).Partitions[0];
        using var b = new RecordBatchBuilder();
        for (var i = 0; i < 30; i++)
        {
            b.Clear();
            Fill(b, i * 10, 10, ts: 10_000);
            log.Append(b);
        }

        Assert.Equal(0, log.OffsetForTimestamp(0));
        Assert.Equal(137, log.OffsetForTimestamp(10_137));
        Assert.Equal(299, log.OffsetForTimestamp(10_299));
        Assert.Equal(300, log.OffsetForTimestamp(20_000));
    }

    [Fact]
    public async Task FollowerWakesWhenDataArrivesWithoutPolling()
    {
        using var store = Open();
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never }).Partitions[0];
        var waiting = log.WaitForDataAsync(0, CancellationToken.None);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        using var b = new RecordBatchBuilder();
        Fill(b, 0, 1);
        log.Append(b);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(waiting.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task GroupCommitSyncsFewerTimesThanItAppendsAndLosesNothing()
    {
        using var store = Open();
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Always }).Partitions[0];
        var producers = Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            using var b = new RecordBatchBuilder();
            var offsets = new List<long>();
            for (var i = 0; i < 50; i++)
            {
                b.Clear();
                Assert.True(b.TryAdd(Encoding.UTF8.GetBytes("p" + p), Encoding.UTF8.GetBytes($"{p}:{i}"), i));
                offsets.Add((await log.AppendAsync(b)).BaseOffset);
            }

            return offsets;
        })).ToArray();
        var all = (await Task.WhenAll(producers)).SelectMany(o => o).ToList();
        Assert.Equal(400, all.Distinct().Count());
        Assert.Equal(400, log.EndOffset);
        Assert.InRange(log.SyncCount, 1, 399);
        // Each producer's records are in its own order.
        var read = ReadAll(log);
        foreach (var g in read.GroupBy(r => r.Key))
        {
            Assert.Equal(g.Select(r => int.Parse(r.Value.Split(':')[1])).Order(), g.Select(r => int.Parse(r.Value.Split(':')[1])));
        }
    }

    [Fact]
    public void OversizedBatchIsRejectedWithItsSizeAndNothingIsWritten()
    {
        using var store = Open();
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never, MaxBatchBytes = 2048 }).Partitions[0];
        using var b = new RecordBatchBuilder();
        Assert.True(b.TryAdd("k"u8, new byte[4000], 1));
        var e = Assert.Throws<RecordTooLargeException>(() => log.Append(b));
        Assert.Contains("4", e.Message);
        Assert.Contains("max-batch-bytes 2048", e.Message);
        Assert.Equal(0, log.EndOffset);
    }

    [Fact]
    public void BuilderRefusesRecordsPastItsCap()
    {
        using var b = new RecordBatchBuilder(1024, maxBytes: 1024);
        Assert.False(b.TryAdd("k"u8, new byte[2000], 1));
        Assert.Equal(0, b.Count);
        Assert.True(b.TryAdd("k"u8, new byte[100], 1));
        Assert.Equal(1, b.Count);
    }

    [Fact]
    public void HeadersAndNullKeysRoundTrip()
    {
        using var store = Open();
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never }).Partitions[0];
        using var b = new RecordBatchBuilder();
        Assert.True(b.TryAddUnkeyed("v1"u8, 5, [new LogHeader("trace", [1, 2, 3]), new LogHeader("é", [])]));
        Assert.True(b.TryAdd(""u8, "v2"u8, 6));
        log.Append(b);
        using var f = log.Fetch(0);
        var e = f.GetEnumerator();
        Assert.True(e.MoveNext());
        Assert.False(e.Current.HasKey);
        var headers = e.Current.DecodeHeaders();
        Assert.Equal("trace", headers[0].Name);
        Assert.Equal([1, 2, 3], headers[0].Value);
        Assert.Equal("é", headers[1].Name);
        Assert.True(e.MoveNext());
        Assert.True(e.Current.HasKey);
        Assert.Equal(0, e.Current.Key.Length);
        Assert.Equal(0, e.Current.HeaderCount);
        Assert.False(e.MoveNext());
    }

    [Fact]
    public void KeysHashLikeKafkaAndStayOnOnePartition()
    {
        // Kafka's Utils.murmur2("21") = -973932308 (from Kafka's own UtilsTest).
        Assert.Equal(unchecked((uint)-973932308), KeyPartitioner.Murmur2("21"u8));
        Assert.Equal(KeyPartitioner.PartitionFor("order-17"u8, 12), KeyPartitioner.PartitionFor("order-17"u8, 12));
        var spread = Enumerable.Range(0, 1000).Select(i => KeyPartitioner.PartitionFor(Encoding.UTF8.GetBytes("key" + i), 8)).Distinct().Count();
        Assert.Equal(8, spread);
    }
}

public sealed class FsyncIntervalTests : IDisposable
{
    private readonly LogTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task IntervalModeSyncsInTheBackgroundWithoutBlockingAppends()
    {
        using var store = LogStore.Open(_dir.Path);
        var log = store.CreateTopic("t", new TopicConfig().WithFsync("interval:20")).Partitions[0];
        using var b = new RecordBatchBuilder();
        Assert.True(b.TryAdd("k"u8, "v"u8, 1));
        var before = log.SyncCount;
        log.Append(b);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (log.SyncCount <= before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(log.SyncCount > before);
        Assert.Contains("interval:<milliseconds>", Assert.Throws<LogException>(() => new TopicConfig().WithFsync("sometimes")).Message);
    }
}
