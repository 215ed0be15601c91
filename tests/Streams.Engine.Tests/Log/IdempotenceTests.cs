using System.Text;
using Streams.Engine.Log;

namespace Streams.Engine.Tests.Log;

public sealed class IdempotenceTests : IDisposable
{
    private readonly LogTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RecordBatchBuilder Batch(int from, int count)
    {
        var b = new RecordBatchBuilder();
        for (var i = from; i < from + count; i++)
        {
            Assert.True(b.TryAdd("k"u8, Encoding.UTF8.GetBytes("v" + i), i));
        }

        return b;
    }

    [Fact]
    public void ResendingABatchAfterALostAckWritesNothingNewAndReturnsTheOriginalOffsets()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Always }).Partitions[0];
        using var other = Batch(100, 2);
        log.Append(other);
        var producer = new IdempotentProducer(producerId: 8);
        using var first = Batch(0, 5);
        using var second = Batch(5, 3);

        // The first send lands, but (we pretend) the ack is lost: the producer re-sends the identical batch.
        var sent = log.Append(Stamp(first, 7, 0));
        var end = log.EndOffset;
        var size = log.SizeBytes;
        var retried = log.Append(Stamp(first, 7, 0));
        Assert.Equal(new AppendResult(2, 5, false), sent);
        Assert.Equal(new AppendResult(2, 5, true), retried);
        Assert.Equal(end, log.EndOffset);
        Assert.Equal(size, log.SizeBytes);

        // The producer API numbers batches itself; the same builder sent twice is a retry.
        var p1 = producer.Send(log, second);
        Assert.Equal(new AppendResult(7, 3, false), p1);
        Assert.Equal(10, log.EndOffset);
    }

    private static RecordBatchBuilder Stamp(RecordBatchBuilder b, long pid, int seq)
    {
        b.SetProducer(pid, 0, seq);
        return b;
    }

    [Fact]
    public void DuplicatesAreRecognisedAfterReopenAndAcrossSegmentRolls()
    {
        using var keep = Batch(0, 10);
        AppendResult original;
        using (var store = LogStore.Open(_dir.Path, report: _ => { }))
        {
            var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 4096 }).Partitions[0];
            original = log.Append(Stamp(keep, 42, 0));
            // Roll a few segments with other producers' data so the snapshot path is exercised.
            for (var i = 0; i < 60; i++)
            {
                using var filler = Batch(1000 + i * 10, 10);
                log.Append(Stamp(filler, 43, i * 10));
            }

            Assert.True(log.SegmentCount > 2);
        }

        using (var store = LogStore.Open(_dir.Path, report: _ => { }))
        {
            var log = store.OpenTopic("t").Partitions[0];
            var end = log.EndOffset;
            var again = log.Append(Stamp(keep, 42, 0));
            Assert.True(again.Duplicate);
            Assert.Equal(original.BaseOffset, again.BaseOffset);
            Assert.Equal(end, log.EndOffset);
            using var next = Batch(10, 1);
            Assert.False(log.Append(Stamp(next, 43, 600)).Duplicate);
        }
    }

    [Fact]
    public void SequenceGapIsAClearErrorAndOldEpochIsFenced()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never }).Partitions[0];
        using var a = Batch(0, 3);
        log.Append(Stamp(a, 9, 0));
        using var gap = Batch(3, 2);
        var e = Assert.Throws<OutOfOrderSequenceException>(() => log.Append(Stamp(gap, 9, 5)));
        Assert.Contains("sent sequence 5 but 3 was expected: 2 records are missing", e.Message);
        Assert.Contains("topic 't' partition 0", e.Message);
        Assert.Equal(3, log.EndOffset);

        using var newEpoch = Batch(3, 1);
        newEpoch.SetProducer(9, 1, 0);
        log.Append(newEpoch);
        using var zombie = Batch(4, 1);
        zombie.SetProducer(9, 0, 3);
        Assert.Throws<ProducerFencedException>(() => log.Append(zombie));
        Assert.Equal(4, log.EndOffset);
    }

    [Fact]
    public void ProducerRetryWithTheSameBuilderReusesItsSequence()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never }).Partitions[0];
        var producer = new IdempotentProducer();
        using var b1 = Batch(0, 4);
        using var b2 = Batch(4, 4);
        Assert.Equal(0, producer.Send(log, b1).BaseOffset);
        Assert.Equal(4, producer.Send(log, b2).BaseOffset);
        Assert.Equal(4, b2.BaseSequence);
        Assert.Equal(producer.ProducerId, b2.ProducerId);
    }
}
