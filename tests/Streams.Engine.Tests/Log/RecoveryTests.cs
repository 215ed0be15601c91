using System.Text;
using Streams.Engine.Log;

namespace Streams.Engine.Tests.Log;

/// <summary>Torn and corrupted tails recover to the last valid batch; corrupted sealed segments give a named error.</summary>
public sealed class RecoveryTests : IDisposable
{
    private readonly LogTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string PartitionDir => Path.Combine(_dir.Path, "topics", "t", "0");

    /// <summary>Writes three batches (3, 4 and 5 records) and returns the active segment's bytes and where the last batch starts.</summary>
    private (byte[] Original, int LastBatchStart) WriteThreeBatches()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        // fsync=never keeps the ~1,500 reopens of the bit-flip test quick; recovery itself always syncs what it cuts.
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never }).Partitions[0];
        using var b = new RecordBatchBuilder();
        var n = 0;
        long lastStart = 0;
        foreach (var size in new[] { 3, 4, 5 })
        {
            b.Clear();
            for (var i = 0; i < size; i++, n++)
            {
                Assert.True(b.TryAdd(Encoding.UTF8.GetBytes("k" + n), Encoding.UTF8.GetBytes("v" + n), n));
            }

            lastStart = log.SizeBytes;
            log.Append(b);
        }

        return (File.ReadAllBytes(Path.Combine(PartitionDir, LogSegment.FileName(0))), (int)lastStart);
    }

    private (long End, List<string> Values, List<string> Reports) Reopen(byte[] segmentBytes)
    {
        File.WriteAllBytes(Path.Combine(PartitionDir, LogSegment.FileName(0)), segmentBytes);
        var reports = new List<string>();
        using var store = LogStore.Open(_dir.Path, report: reports.Add);
        var log = store.OpenTopic("t").Partitions[0];
        var values = new List<string>();
        using (var f = log.Fetch(0))
        {
            foreach (var r in f)
            {
                values.Add(Encoding.UTF8.GetString(r.Value));
            }
        }

        // The recovered log takes new appends right after the last valid batch.
        using var b = new RecordBatchBuilder();
        Assert.True(b.TryAdd("k"u8, "after"u8, 99));
        var appended = log.Append(b);
        Assert.Equal(log.EndOffset - 1, appended.BaseOffset);
        return (appended.BaseOffset, values, reports);
    }

    [Fact]
    public void LastBatchCutAtEveryBytePositionRecoversToThePreviousBatch()
    {
        var (original, lastStart) = WriteThreeBatches();
        var expected = Enumerable.Range(0, 7).Select(i => "v" + i).ToList();
        for (var cut = lastStart; cut < original.Length; cut++)
        {
            var (end, values, reports) = Reopen(original[..cut]);
            Assert.Equal(7, end);
            Assert.Equal(expected, values);
            if (cut > lastStart)
            {
                var report = Assert.Single(reports);
                Assert.Contains(LogSegment.FileName(0), report);
                Assert.Contains($"at byte position {lastStart}", report);
                Assert.Contains($"cut {cut - lastStart} bytes", report);
            }
            else
            {
                Assert.Empty(reports);
            }
        }

        // And the untouched file keeps all twelve records.
        var (fullEnd, fullValues, fullReports) = Reopen(original);
        Assert.Equal(12, fullEnd);
        Assert.Equal(12, fullValues.Count);
        Assert.Empty(fullReports);
    }

    [Fact]
    public void SingleBitFlipsAtEveryPositionOfTheLastBatchRecoverToThePreviousBatch()
    {
        var (original, lastStart) = WriteThreeBatches();
        var expected = Enumerable.Range(0, 7).Select(i => "v" + i).ToList();
        for (var at = lastStart; at < original.Length; at++)
        {
            // Every bit of the header; one bit per byte (rotating) of the records, so every byte position is hit.
            var inHeader = at - lastStart < 56;
            for (var bit = inHeader ? 0 : at % 8; bit < (inHeader ? 8 : at % 8 + 1); bit++)
            {
                var damaged = (byte[])original.Clone();
                damaged[at] ^= (byte)(1 << bit);
                var (end, values, reports) = Reopen(damaged);
                Assert.Equal(7, end);
                Assert.Equal(expected, values);
                Assert.Contains($"at byte position {lastStart}", Assert.Single(reports));
            }
        }
    }

    [Fact]
    public void BitFlipInASealedSegmentGivesAnErrorNamingTopicPartitionFileAndPosition()
    {
        var batchStarts = new List<long>();
        using (var store = LogStore.Open(_dir.Path, report: _ => { }))
        {
            var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 4096 }).Partitions[0];
            using var b = new RecordBatchBuilder();
            for (var i = 0; i < 40; i++)
            {
                if (log.SegmentCount == 1)
                {
                    batchStarts.Add(log.SizeBytes);
                }

                b.Clear();
                for (var j = 0; j < 10; j++)
                {
                    Assert.True(b.TryAdd("key"u8, Encoding.UTF8.GetBytes($"value-{i}-{j}"), i));
                }

                log.Append(b);
            }

            Assert.True(log.SegmentCount >= 3);
        }

        var sealedPath = Path.Combine(PartitionDir, LogSegment.FileName(0));
        var original = File.ReadAllBytes(sealedPath);
        batchStarts.RemoveAll(s => s >= original.Length);
        var random = new Random(42);
        for (var round = 0; round < 40; round++)
        {
            var at = random.Next(original.Length);
            var damaged = (byte[])original.Clone();
            damaged[at] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(sealedPath, damaged);
            var e = Assert.Throws<LogCorruptionException>(() =>
            {
                using var store = LogStore.Open(_dir.Path, report: _ => { });
                var log = store.OpenTopic("t").Partitions[0];
                var offset = 0L;
                while (offset < log.EndOffset)
                {
                    using var f = log.Fetch(offset);
                    offset = f.NextOffset;
                }
            });
            var batchStart = batchStarts.Last(s => s <= at);
            Assert.Equal("t", e.Topic);
            Assert.Equal(0, e.Partition);
            Assert.Equal(sealedPath, e.File);
            Assert.Equal(batchStart, e.Position);
            Assert.Contains($"topic 't' partition 0, file {sealedPath} at byte position {batchStart}", e.Message);
            // The sealed segment is never truncated.
            Assert.Equal(original.Length, new FileInfo(sealedPath).Length);
        }
    }
}
