using System.Text;
using Streams.Engine.Log;

namespace Streams.Engine.Tests.Log;

public sealed class RetentionTests : IDisposable
{
    private readonly LogTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void Write(PartitionLog log, int batches, long ts)
    {
        using var b = new RecordBatchBuilder();
        for (var i = 0; i < batches; i++)
        {
            b.Clear();
            for (var j = 0; j < 20; j++)
            {
                Assert.True(b.TryAdd("k"u8, Encoding.UTF8.GetBytes(new string('x', 80)), ts));
            }

            log.Append(b);
        }
    }

    [Fact]
    public void LiveGroupBehindTheBoundaryKeepsItsSegmentsUntilItCommitsPastThem()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var topic = store.CreateTopic("orders", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 8192, RetentionMs = 24 * 3600 * 1000 });
        var log = topic.Partitions[0];
        Write(log, 30, ts: now - 48L * 3600 * 1000);
        var segments = log.SegmentCount;
        Assert.True(segments >= 4);
        store.Groups.Commit("couriers", "orders", new Dictionary<int, long> { [0] = 0 }, _ => log.EndOffset, now);

        var held = topic.ApplyRetention(store.Groups, now)[0];
        Assert.Equal(0, held.DeletedSegments);
        Assert.Equal(segments - 1, held.HeldSegments);
        Assert.Equal(new GroupOffset("couriers", 0), Assert.Single(held.HeldBy));
        Assert.Equal(segments, log.SegmentCount);
        Assert.Equal(0, log.StartOffset);
        // The outcome is recorded for operators (topic describe shows it).
        Assert.Equal(segments - 1, topic.LastRetention()[0].HeldSegments);

        // The group reads part of the way: only the segments it has finished go.
        var secondSegmentStart = Directory.GetFiles(Path.Combine(topic.Directory, "0"), "*.log").Order().Skip(2).Select(f => long.Parse(Path.GetFileNameWithoutExtension(f))).First();
        store.Groups.Commit("couriers", "orders", new Dictionary<int, long> { [0] = secondSegmentStart }, _ => log.EndOffset, now);
        var partial = topic.ApplyRetention(store.Groups, now)[0];
        Assert.Equal(2, partial.DeletedSegments);
        Assert.Equal(segments - 3, partial.HeldSegments);
        Assert.Equal(secondSegmentStart, log.StartOffset);

        store.Groups.Commit("couriers", "orders", new Dictionary<int, long> { [0] = log.EndOffset }, _ => log.EndOffset, now);
        var done = topic.ApplyRetention(store.Groups, now)[0];
        Assert.Equal(segments - 3, done.DeletedSegments);
        Assert.Equal(0, done.HeldSegments);
        Assert.Equal(1, log.SegmentCount);
        Assert.Single(Directory.GetFiles(Path.Combine(topic.Directory, "0"), "*.log"));
        // Reads still work from the new start.
        using var f = log.Fetch(0);
        Assert.True(f.IsEmpty || f.FromOffset >= log.StartOffset);
    }

    [Fact]
    public void ForceAndIdleGroupsDoNotHoldRetentionBack()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var forced = store.CreateTopic("forced", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 8192, RetentionMs = 1000, RetentionForce = true });
        var idle = store.CreateTopic("idle", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 8192, RetentionMs = 1000, GroupLiveMs = 60_000 });
        Write(forced.Partitions[0], 20, now - 10_000);
        Write(idle.Partitions[0], 20, now - 10_000);
        store.Groups.Commit("g", "forced", new Dictionary<int, long> { [0] = 0 }, _ => 0, now);
        store.Groups.Commit("old", "idle", new Dictionary<int, long> { [0] = 0 }, _ => 0, now - 120_000);

        Assert.Equal(0, forced.ApplyRetention(store.Groups, now)[0].HeldSegments);
        Assert.Equal(1, forced.Partitions[0].SegmentCount);
        Assert.Equal(0, idle.ApplyRetention(store.Groups, now)[0].HeldSegments);
        Assert.Equal(1, idle.Partitions[0].SegmentCount);
    }

    [Fact]
    public void SizeRetentionDeletesOldestSealedSegmentsOnly()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var topic = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 8192, RetentionMs = -1, RetentionBytes = 20_000 });
        var log = topic.Partitions[0];
        Write(log, 40, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var before = log.SizeBytes;
        var result = topic.ApplyRetention(store.Groups)[0];
        Assert.True(result.DeletedSegments > 0);
        Assert.True(log.SizeBytes <= 20_000 + 8192);
        Assert.Equal(before - result.DeletedBytes, log.SizeBytes);
        Assert.Equal(log.EndOffset - log.StartOffset, CountRecords(log));
    }

    private static long CountRecords(PartitionLog log)
    {
        long n = 0;
        var offset = log.StartOffset;
        while (true)
        {
            using var f = log.Fetch(offset);
            if (f.IsEmpty)
            {
                return n;
            }

            foreach (var _ in f)
            {
                n++;
            }

            offset = f.NextOffset;
        }
    }
}
