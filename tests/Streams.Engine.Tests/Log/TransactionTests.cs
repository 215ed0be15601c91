using System.Text;
using Streams.Engine.Log;
using Streams.Engine.Tests.Checkpoints;

namespace Streams.Engine.Tests.Log;

/// <summary>
/// Transactions in the log: begin/prepare/commit/abort control batches, the last stable offset, read-committed and
/// read-uncommitted fetches, epoch fencing, the transaction state rebuilt when a partition reopens, and transaction
/// timeouts measured on a manual clock.
/// </summary>
public sealed class TransactionTests : IDisposable
{
    private static readonly TopicConfig Quick = new() { Fsync = FsyncMode.Never, RetentionCheckMs = 0 };
    private readonly LogTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string SegmentPath => Path.Combine(_dir.Path, "topics", "t", "0", LogSegment.FileName(0));

    private static RecordBatchBuilder Batch(params string[] values)
    {
        var b = new RecordBatchBuilder();
        foreach (var v in values)
        {
            Assert.True(b.TryAdd(Encoding.UTF8.GetBytes("k-" + v), Encoding.UTF8.GetBytes(v), 1));
        }

        return b;
    }

    private static void Send(TransactionalProducer producer, PartitionLog log, params string[] values)
    {
        using var b = Batch(values);
        producer.Send(log, b);
    }

    private static void Plain(PartitionLog log, params string[] values)
    {
        using var b = Batch(values);
        log.Append(b);
    }

    /// <summary>Every value readable from the start with <paramref name="isolation"/>, fetching in small steps so batch cuts are exercised.</summary>
    private static List<string> ReadAll(PartitionLog log, IsolationLevel isolation)
    {
        var values = new List<string>();
        var offset = log.StartOffset;
        while (true)
        {
            using var f = log.Fetch(offset, 64, isolation);
            if (f.IsEmpty)
            {
                return values;
            }

            foreach (var r in f)
            {
                values.Add(Encoding.UTF8.GetString(r.Value));
            }

            offset = f.NextOffset;
        }
    }

    [Fact]
    public void Committed_data_becomes_visible_to_read_committed_only_at_the_commit_marker()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", Quick).Partitions[0];
        var producer = new TransactionalProducer(TransactionalProducer.IdFor("sink#0"), 0);
        Send(producer, log, "a", "b");
        Send(producer, log, "c");

        Assert.Empty(ReadAll(log, IsolationLevel.ReadCommitted));
        Assert.Equal(["a", "b", "c"], ReadAll(log, IsolationLevel.ReadUncommitted));
        Assert.Equal(0, log.LastStableOffset); // the begin marker's offset
        Assert.Equal(4, log.EndOffset); // begin + 3 records

        producer.Prepare(log, 7);
        Assert.Empty(ReadAll(log, IsolationLevel.ReadCommitted));
        Assert.Equal(7, Assert.Single(log.OpenTransactions).PreparedTag);

        producer.Commit(log);
        Assert.Equal(["a", "b", "c"], ReadAll(log, IsolationLevel.ReadCommitted));
        Assert.Equal(log.EndOffset, log.LastStableOffset);
        Assert.Empty(log.OpenTransactions);
    }

    [Fact]
    public void Aborted_data_is_skipped_by_read_committed_and_shown_by_read_uncommitted()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", Quick).Partitions[0];
        var producer = new TransactionalProducer(TransactionalProducer.IdFor("p"), 0);
        Send(producer, log, "aborted-1", "aborted-2");
        producer.Abort(log);
        Plain(log, "plain");
        Send(producer, log, "committed");
        producer.Commit(log);

        Assert.Equal(["plain", "committed"], ReadAll(log, IsolationLevel.ReadCommitted));
        Assert.Equal(["aborted-1", "aborted-2", "plain", "committed"], ReadAll(log, IsolationLevel.ReadUncommitted));
        var aborted = Assert.Single(log.AbortedTransactions);
        Assert.Equal((0L, 3L), (aborted.FirstOffset, aborted.LastOffset)); // begin at 0, two records, abort marker at 3
    }

    [Fact]
    public async Task An_open_transaction_holds_read_committed_readers_back_even_from_later_committed_data()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", Quick).Partitions[0];
        Plain(log, "before");
        var slow = new TransactionalProducer(TransactionalProducer.IdFor("slow"), 0);
        var fast = new TransactionalProducer(TransactionalProducer.IdFor("fast"), 0);
        Send(slow, log, "slow-1");
        Send(fast, log, "fast-1");
        fast.Commit(log);
        Plain(log, "after");

        // LSO stays at the slow transaction's begin marker: offset order is kept, nothing after it is readable yet.
        Assert.Equal(1, log.LastStableOffset);
        Assert.Equal(["before"], ReadAll(log, IsolationLevel.ReadCommitted));

        var waiter = log.WaitForDataAsync(1, CancellationToken.None, IsolationLevel.ReadCommitted);
        await Task.Delay(100);
        Assert.False(waiter.IsCompleted);
        slow.Commit(log);
        await waiter.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["before", "slow-1", "fast-1", "after"], ReadAll(log, IsolationLevel.ReadCommitted));
    }

    [Fact]
    public void A_newer_epoch_fences_the_old_producer_and_may_resolve_its_transaction()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", Quick).Partitions[0];
        var id = TransactionalProducer.IdFor("job-sink#0");
        var old = new TransactionalProducer(id, 0);
        Send(old, log, "x");
        old.Prepare(log, 3);
        Assert.Equal(1, TransactionalProducer.NextEpoch(id, [log]));

        var restarted = new TransactionalProducer(id, TransactionalProducer.NextEpoch(id, [log]));
        restarted.Commit(log); // the prepared transaction the old instance left
        Assert.Equal(["x"], ReadAll(log, IsolationLevel.ReadCommitted));

        Assert.Throws<ProducerFencedException>(() => Send(old, log, "zombie"));
        Assert.Throws<ProducerFencedException>(() => old.Abort(log));
        Assert.Equal(["x"], ReadAll(log, IsolationLevel.ReadUncommitted));
        Assert.Equal(2, TransactionalProducer.NextEpoch(id, [log]));
    }

    [Fact]
    public void Protocol_violations_are_refused_with_the_partition_named()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", Quick).Partitions[0];
        using var b = Batch("v");
        b.SetProducer(5, 0, 0);
        b.SetAttributes(BatchAttributes.Transactional);
        var e = Assert.Throws<InvalidTransactionStateException>(() => log.Append(b));
        Assert.Contains("topic 't' partition 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("without a begun transaction", e.Message, StringComparison.Ordinal);

        var p = new TransactionalProducer(6, 0);
        Assert.Throws<InvalidTransactionStateException>(() => p.Commit(log));
        Send(p, log, "a");
        p.Prepare(log, 1);
        Assert.Throws<InvalidTransactionStateException>(() => Send(new TransactionalProducer(6, 0), log, "late"));
        Assert.Equal(0, log.LastStableOffset);
    }

    [Theory]
    [InlineData(128L << 20)]
    [InlineData(4096L)]
    public void Reopening_rebuilds_the_stable_offset_and_the_aborted_list(long segmentBytes)
    {
        var config = Quick with { SegmentBytes = segmentBytes };
        List<string> committed, uncommitted;
        long stable, end;
        List<AbortedTransaction> aborted;
        List<OpenTransaction> open;
        using (var store = LogStore.Open(_dir.Path, report: _ => { }))
        {
            var log = store.CreateTopic("t", config).Partitions[0];
            var a = new TransactionalProducer(1, 0);
            var c = new TransactionalProducer(2, 0);
            for (var round = 0; round < 40; round++)
            {
                Send(a, log, $"a{round}", new string('x', 100));
                Send(c, log, $"c{round}");
                if (round % 3 == 0)
                {
                    a.Abort(log);
                }
                else
                {
                    a.Commit(log);
                }

                c.Commit(log);
                Plain(log, $"p{round}");
            }

            Send(a, log, "open");
            a.Prepare(log, 41);
            Plain(log, "held");
            committed = ReadAll(log, IsolationLevel.ReadCommitted);
            uncommitted = ReadAll(log, IsolationLevel.ReadUncommitted);
            (stable, end) = (log.LastStableOffset, log.EndOffset);
            aborted = [.. log.AbortedTransactions];
            open = [.. log.OpenTransactions];
            Assert.True(segmentBytes > 1 << 20 || log.SegmentCount > 3, "the small-segment case must roll segments");
        }

        Assert.Equal(14, aborted.Count);
        using (var store = LogStore.Open(_dir.Path, report: _ => { }))
        {
            var log = store.OpenTopic("t").Partitions[0];
            Assert.Equal((stable, end), (log.LastStableOffset, log.EndOffset));
            Assert.Equal(aborted, log.AbortedTransactions);
            Assert.Equal(open, log.OpenTransactions);
            Assert.Equal(committed, ReadAll(log, IsolationLevel.ReadCommitted));
            Assert.Equal(uncommitted, ReadAll(log, IsolationLevel.ReadUncommitted));
            Assert.DoesNotContain(committed, v => v == "open" || v == "held");
        }
    }

    [Fact]
    public void A_torn_or_flipped_commit_marker_is_cut_on_reopen_and_the_transaction_is_open_again()
    {
        using (var store = LogStore.Open(_dir.Path, report: _ => { }))
        {
            var log = store.CreateTopic("t", Quick).Partitions[0];
            var p = new TransactionalProducer(9, 0);
            Send(p, log, "a", "b");
            p.Prepare(log, 4);
            p.Commit(log);
            Assert.Equal(["a", "b"], ReadAll(log, IsolationLevel.ReadCommitted));
        }

        var original = File.ReadAllBytes(SegmentPath);
        var markerStart = original.Length - TransactionState.ControlBatchSize;
        var damaged = new List<byte[]>();
        for (var cut = markerStart; cut < original.Length; cut += 7)
        {
            damaged.Add(original[..cut]);
        }

        foreach (var at in new[] { markerStart + 16, markerStart + 18, markerStart + 40, original.Length - 5 })
        {
            var flipped = (byte[])original.Clone();
            flipped[at] ^= 0x10;
            damaged.Add(flipped);
        }

        foreach (var bytes in damaged)
        {
            File.WriteAllBytes(SegmentPath, bytes);
            var reports = new List<string>();
            using var store = LogStore.Open(_dir.Path, report: reports.Add);
            var log = store.OpenTopic("t").Partitions[0];
            if (bytes.Length > markerStart)
            {
                Assert.Contains(reports, r => r.Contains("cut", StringComparison.Ordinal));
            }

            Assert.Equal(0, log.LastStableOffset);
            Assert.Equal(4, Assert.Single(log.OpenTransactions).PreparedTag);
            Assert.Empty(ReadAll(log, IsolationLevel.ReadCommitted));
            Assert.Equal(["a", "b"], ReadAll(log, IsolationLevel.ReadUncommitted));
        }

        // The recovering writer (a newer epoch) commits again and the data is published once.
        using (var store = LogStore.Open(_dir.Path, report: _ => { }))
        {
            var log = store.OpenTopic("t").Partitions[0];
            new TransactionalProducer(9, TransactionalProducer.NextEpoch(9, [log])).Commit(log);
            Assert.Equal(["a", "b"], ReadAll(log, IsolationLevel.ReadCommitted));
        }
    }

    [Fact]
    public void A_reader_in_another_handle_follows_the_stable_offset_from_disk()
    {
        using var writerStore = LogStore.Open(_dir.Path, report: _ => { });
        var log = writerStore.CreateTopic("t", Quick).Partitions[0];
        using var readerStore = LogStore.Open(_dir.Path, report: _ => { });
        var reader = readerStore.OpenTopic("t", writable: false).Partitions[0];
        Assert.False(reader.IsWritable);

        var p = new TransactionalProducer(3, 0);
        Send(p, log, "a");
        log.Flush();
        reader.RefreshFromDisk();
        Assert.Equal(0, reader.LastStableOffset);
        Assert.Empty(ReadAll(reader, IsolationLevel.ReadCommitted));

        p.Commit(log);
        reader.RefreshFromDisk();
        Assert.Equal(reader.EndOffset, reader.LastStableOffset);
        Assert.Equal(["a"], ReadAll(reader, IsolationLevel.ReadCommitted));
    }

    [Fact]
    public void Retention_never_deletes_a_segment_past_the_stable_offset()
    {
        var reports = new List<string>();
        using var store = LogStore.Open(_dir.Path, report: reports.Add);
        var topic = store.CreateTopic("t", Quick with { SegmentBytes = 4096, RetentionMs = 0 });
        var log = topic.Partitions[0];
        var p = new TransactionalProducer(4, 0);
        Send(p, log, "open");
        for (var i = 0; i < 60; i++)
        {
            Plain(log, new string('v', 200));
        }

        Assert.True(log.SegmentCount > 2);
        var held = topic.ApplyRetention(store.Groups, nowMs: long.MaxValue / 2)[0];
        Assert.Equal(0, held.DeletedSegments);
        Assert.True(held.HeldSegments > 0);
        Assert.Contains(reports, r => r.Contains("open transaction", StringComparison.Ordinal));

        p.Commit(log);
        var freed = topic.ApplyRetention(store.Groups, nowMs: long.MaxValue / 2)[0];
        Assert.True(freed.DeletedSegments > 0);
        Assert.Equal(0, freed.HeldSegments);
    }

    /// <summary>Settings for the timeout tests: a 60 s cap and no background check, so only the test's calls abort.</summary>
    private static readonly TopicConfig Timed = Quick with { TransactionMaxTimeoutMs = 60_000, TransactionCheckMs = 0 };

    [Fact]
    public void A_transaction_past_its_timeout_stops_holding_readers_back_and_the_log_aborts_it()
    {
        var clock = new ManualClock();
        var reports = new List<string>();
        using (var store = LogStore.Open(_dir.Path, report: reports.Add, clock: clock))
        {
            var log = store.CreateTopic("t", Timed).Partitions[0];
            var producer = new TransactionalProducer(TransactionalProducer.IdFor("job#0/0"), 0, timeoutMs: 10_000);
            Send(producer, log, "a", "b");
            producer.Prepare(log, 5);
            Plain(log, "plain");
            var open = Assert.Single(log.OpenTransactions);
            Assert.Equal((clock.GetUtcNow().ToUnixTimeMilliseconds(), 10_000L), (open.StartedMs, open.TimeoutMs));

            clock.Advance(TimeSpan.FromMilliseconds(9_999));
            Assert.Equal(0, log.LastStableOffset);
            Assert.Empty(ReadAll(log, IsolationLevel.ReadCommitted));

            // Expired: it can never commit, so readers move past it before any marker is written.
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(log.EndOffset, log.LastStableOffset);
            Assert.Equal(["plain"], ReadAll(log, IsolationLevel.ReadCommitted));
            Assert.Single(log.OpenTransactions);

            Assert.Equal(1, log.AbortExpiredTransactions());
            Assert.Empty(log.OpenTransactions);
            var aborted = Assert.Single(log.AbortedTransactions);
            Assert.True(aborted.TimedOut);
            Assert.Equal((open.FirstOffset, 5L, 10_000L, (short)1), (aborted.FirstOffset, aborted.PreparedTag, aborted.TimeoutMs, aborted.Epoch));
            Assert.Contains(reports, r => r.Contains("stayed open longer than its timeout of 10000 ms", StringComparison.Ordinal));
            Assert.Equal(0, log.AbortExpiredTransactions());
            Assert.Equal(["plain"], ReadAll(log, IsolationLevel.ReadCommitted));
            Assert.Equal(["a", "b", "plain"], ReadAll(log, IsolationLevel.ReadUncommitted));

            // The producer that began it comes back to commit: fenced, with the reason.
            var late = Assert.Throws<TransactionTimedOutException>(() => producer.Commit(log));
            Assert.Contains("topic 't' partition 0", late.Message);
            Assert.Contains("transaction timeout of 10000 ms", late.Message);
            Assert.Contains($"aborted by the log at offset {aborted.LastOffset}", late.Message);
            Assert.Throws<TransactionTimedOutException>(() => Send(producer, log, "more"));
            Assert.Equal(["plain"], ReadAll(log, IsolationLevel.ReadCommitted));
        }

        // The timeout abort is part of the log: a reopened partition still hides the data.
        using (var store = LogStore.Open(_dir.Path, report: _ => { }, clock: clock))
        {
            var log = store.OpenTopic("t").Partitions[0];
            Assert.True(Assert.Single(log.AbortedTransactions).TimedOut);
            Assert.Equal(["plain"], ReadAll(log, IsolationLevel.ReadCommitted));
        }
    }

    [Fact]
    public void A_late_commit_is_refused_even_before_the_abort_marker_is_written_and_a_new_instance_carries_on()
    {
        var clock = new ManualClock();
        using var store = LogStore.Open(_dir.Path, report: _ => { }, clock: clock);
        var log = store.CreateTopic("t", Timed).Partitions[0];
        var id = TransactionalProducer.IdFor("job#0/0");
        var old = new TransactionalProducer(id, 0, timeoutMs: 5_000);
        Send(old, log, "late");
        old.Prepare(log, 1);
        clock.Advance(TimeSpan.FromSeconds(5));

        // The commit arrives after the deadline: the log aborts the transaction there and then and refuses.
        var refused = Assert.Throws<TransactionTimedOutException>(() => old.Commit(log));
        Assert.Contains("stayed open longer than its transaction timeout of 5000 ms", refused.Message);
        Assert.True(Assert.Single(log.AbortedTransactions).TimedOut);
        Assert.Empty(ReadAll(log, IsolationLevel.ReadCommitted));
        Assert.Equal(log.EndOffset, log.LastStableOffset);

        var next = new TransactionalProducer(id, TransactionalProducer.NextEpoch(id, [log]), timeoutMs: 5_000);
        Assert.Equal(2, next.Epoch);
        Send(next, log, "fresh");
        clock.Advance(TimeSpan.FromMilliseconds(4_999));
        next.Commit(log);
        Assert.Equal(["fresh"], ReadAll(log, IsolationLevel.ReadCommitted));
    }

    [Theory]
    [InlineData(128L << 20)]
    [InlineData(4096L)]
    public void A_transaction_that_expired_while_no_writer_ran_is_skipped_by_readers_and_aborted_when_a_writer_opens(long segmentBytes)
    {
        var clock = new ManualClock();
        using (var store = LogStore.Open(_dir.Path, report: _ => { }, clock: clock))
        {
            var log = store.CreateTopic("t", Timed with { SegmentBytes = segmentBytes }).Partitions[0];
            var crashed = new TransactionalProducer(7, 0, timeoutMs: 30_000);
            Send(crashed, log, "lost");
            crashed.Prepare(log, 3);
            for (var i = 0; i < 40; i++)
            {
                Plain(log, $"p{i}", new string('x', 150));
            }

            Assert.True(segmentBytes > 1 << 20 || log.SegmentCount > 2, "the small-segment case must seal the begin marker in an older segment");
        }

        // Closed for 29 s: reopening must keep counting from the begin marker, not from the reopen.
        clock.Advance(TimeSpan.FromSeconds(29));
        using (var store = LogStore.Open(_dir.Path, report: _ => { }, clock: clock))
        {
            var log = store.OpenTopic("t").Partitions[0];
            Assert.Equal(0, log.LastStableOffset);
            Assert.Single(log.OpenTransactions);
        }

        clock.Advance(TimeSpan.FromSeconds(1));
        using var readerStore = LogStore.Open(_dir.Path, report: _ => { }, clock: clock);
        var reader = readerStore.OpenTopic("t", writable: false).Partitions[0];
        Assert.False(reader.IsWritable);
        Assert.Equal(0, reader.AbortExpiredTransactions());
        Assert.Equal(reader.EndOffset, reader.LastStableOffset);
        var expected = Enumerable.Range(0, 40).SelectMany(i => new[] { $"p{i}", new string('x', 150) }).ToList();
        Assert.Equal(expected, ReadAll(reader, IsolationLevel.ReadCommitted));

        var reports = new List<string>();
        using var writerStore = LogStore.Open(_dir.Path, report: reports.Add, clock: clock);
        var writer = writerStore.OpenTopic("t").Partitions[0];
        Assert.True(writer.IsWritable);
        Assert.Empty(writer.OpenTransactions);
        Assert.Equal(3, Assert.Single(writer.AbortedTransactions).PreparedTag);
        Assert.Contains(reports, r => r.Contains("(prepared under tag 3)", StringComparison.Ordinal));
        reader.RefreshFromDisk();
        Assert.Empty(reader.OpenTransactions);
        Assert.Equal(expected, ReadAll(reader, IsolationLevel.ReadCommitted));
    }

    [Fact]
    public async Task An_expired_transaction_no_longer_holds_retention_and_a_waiting_reader_wakes()
    {
        var clock = new ManualClock();
        using var store = LogStore.Open(_dir.Path, report: _ => { }, clock: clock);
        var topic = store.CreateTopic("t", Timed with { SegmentBytes = 4096, RetentionMs = 0 });
        var log = topic.Partitions[0];
        var p = new TransactionalProducer(4, 0, timeoutMs: 1_000);
        Send(p, log, "open");
        for (var i = 0; i < 60; i++)
        {
            Plain(log, new string('v', 200));
        }

        var waiting = log.WaitForDataAsync(log.EndOffset - 1, CancellationToken.None, IsolationLevel.ReadCommitted);
        Assert.Equal(0, topic.ApplyRetention(store.Groups, nowMs: long.MaxValue / 2)[0].DeletedSegments);
        Assert.False(waiting.IsCompleted);

        clock.Advance(TimeSpan.FromSeconds(1));
        // Without an append to signal it, the waiter must notice the expiry by itself (it looks again at least every second).
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(topic.ApplyRetention(store.Groups, nowMs: long.MaxValue / 2)[0].DeletedSegments > 0);
    }

    [Fact]
    public void A_timeout_above_the_topic_maximum_is_refused_when_the_transaction_begins()
    {
        using var store = LogStore.Open(_dir.Path, report: _ => { });
        var log = store.CreateTopic("t", Timed).Partitions[0];
        var greedy = new TransactionalProducer(9, 0, timeoutMs: 60_001);
        var e = Assert.Throws<InvalidTransactionTimeoutException>(() => Send(greedy, log, "x"));
        Assert.Contains("transaction timeout of 60001 ms, more than the topic's transaction-max-timeout-ms 60000", e.Message);
        Assert.Equal(0, log.EndOffset);
    }
}
