using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Log;
using Streams.Connectors.Log;

namespace Streams.EndToEnd.Tests.Log;

public sealed class LogConnectorTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<DeadLetter> _dead = [];
    private readonly BatchPool _pool = new();

    public void Dispose() => _dir.Dispose();

    private sealed class Letters(List<DeadLetter> list) : IDeadLetterSink
    {
        public void Report(DeadLetter letter) => list.Add(letter);
    }

    private static readonly Schema Orders = new([
        new Field("id", DataType.Int64), new Field("user", DataType.String), new Field("amount", DataType.Double),
        new Field("ts", DataType.Timestamp), new Field("_offset", DataType.Int64), new Field("_partition", DataType.Int32),
    ], eventTimeIndex: 3);

    /// <summary>The "n" field of every record of <paramref name="topic"/> visible at <paramref name="isolation"/>, sorted.</summary>
    private static List<int> SortedValuesOfN(LogTopic topic, IsolationLevel isolation)
    {
        var values = new List<int>();
        foreach (var log in topic.Partitions)
        {
            using var f = log.Fetch(0, 1 << 20, isolation);
            foreach (var r in f)
            {
                values.Add(System.Text.Json.JsonDocument.Parse(r.Value.ToArray()).RootElement.GetProperty("n").GetInt32());
            }
        }

        values.Sort();
        return values;
    }

    /// <summary>Writes rows (user "u0".."u4", n = <paramref name="from"/> + i) through <paramref name="writer"/>.</summary>
    private void WriteUserRows(ISinkWriter writer, Schema schema, int from, int count)
    {
        using var rows = _pool.Rent(schema, count);
        for (var i = 0; i < count; i++)
        {
            rows.ColumnAt<string>(0).Values[i] = "u" + (i % 5);
            rows.ColumnAt<int>(1).Values[i] = from + i;
        }

        rows.Count = count;
        writer.Write(rows);
    }

    private ConnectorContext Context(Dictionary<string, string> options, Schema? schema = null) =>
        new("orders", schema ?? Orders, options, _dir.Path, null, new Letters(_dead), _pool);

    [Fact]
    public async Task SourceDecodesJsonIntoColumnsSendsPoisonToDeadLettersAndResumesAtOffset()
    {
        using (var store = LogStore.Open(Path.Combine(_dir.Path, "data")))
        {
            var log = store.CreateTopic("orders", new TopicConfig { Fsync = FsyncMode.Never }).Partitions[0];
            using var b = new RecordBatchBuilder();
            b.TryAdd("ann"u8, """{"id":1,"user":"ann","amount":9.5,"ts":"2024-01-01T00:00:00Z"}"""u8, 5);
            b.TryAdd("bob"u8, """{"id":"two","user":"bob"}"""u8, 6);
            b.TryAdd("cy"u8, """{"ID":3,"User":"cy","amount":null,"ts":1700000000000,"extra":{"x":[1]}}"""u8, 7);
            log.Append(b);
        }

        using var factory = new LogConnectorFactory();
        var options = new Dictionary<string, string> { ["topic"] = "orders", ["data-dir"] = "data", ["scan.bounded.mode"] = "latest-offset" };
        var source = factory.CreateSource(Context(options));
        Assert.True(source.IsBounded);
        Assert.Equal(1, source.PartitionCount);
        using (var reader = source.OpenPartition(0, 0))
        {
            using var batch = (await reader.ReadAsync(CancellationToken.None))!;
            Assert.Equal(2, batch.Count);
            Assert.Equal([1L, 3L], batch.ColumnAt<long>(0).Values[..2]);
            Assert.Equal(["ann", "cy"], batch.ColumnAt<string>(1).Values[..2]);
            Assert.Equal(9.5, batch.ColumnAt<double>(2).Values[0]);
            Assert.True(batch.Columns[2].IsNull(1));
            Assert.Equal(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), batch.ColumnAt<long>(3).Values[0]);
            Assert.Equal([0L, 2L], batch.ColumnAt<long>(4).Values[..2]);
            Assert.Equal(0, batch.ColumnAt<int>(5).Values[1]);
            Assert.Equal(3, reader.Offset);
            Assert.Null(await reader.ReadAsync(CancellationToken.None));
        }

        var letter = Assert.Single(_dead);
        Assert.Equal("orders/0@1", letter.Location);
        Assert.Contains("BIGINT", letter.Reason);
        Assert.Contains("\"two\"", letter.Raw);

        using (var resumed = source.OpenPartition(0, 2))
        {
            using var batch = (await resumed.ReadAsync(CancellationToken.None))!;
            Assert.Equal(1, batch.Count);
            Assert.Equal(3L, batch.ColumnAt<long>(0).Values[0]);
        }

        Assert.Equal(0, _pool.Outstanding);
    }

    [Fact]
    public async Task SinkWritesRowsThatTheSourceReadsBackAndAFollowerWakesForThem()
    {
        using var store = LogStore.Open(Path.Combine(_dir.Path, "data"));
        using var factory = new LogConnectorFactory(store);
        var schema = new Schema([new Field("user", DataType.String), new Field("n", DataType.Int32), new Field("_key", DataType.String)]);
        var sinkOptions = new Dictionary<string, string> { ["topic"] = "out", ["partitions"] = "2", ["key.field"] = "user", ["fsync"] = "never" };
        var sink = factory.CreateSink(Context(sinkOptions, schema));
        var source = factory.CreateSource(Context(new Dictionary<string, string> { ["topic"] = "out", ["scan.idle-ms"] = "50" }, schema));
        Assert.False(source.IsBounded);
        var readers = Enumerable.Range(0, source.PartitionCount).Select(p => source.OpenPartition(p, 0)).ToList();

        // Idle follower: an empty batch after scan.idle-ms.
        using (var idle = (await readers[0].ReadAsync(CancellationToken.None))!)
        {
            Assert.Equal(0, idle.Count);
        }

        using (var writer = sink.OpenWriter(0))
        {
            using var rows = _pool.Rent(schema, 16);
            for (var i = 0; i < 10; i++)
            {
                rows.ColumnAt<string>(0).Values[i] = "u" + (i % 3);
                rows.ColumnAt<int>(1).Values[i] = i;
                rows.Columns[2].SetNull(i);
            }

            rows.Count = 10;
            rows.FilterOut(4);
            writer.Write(rows);
            writer.Flush();
        }

        var seen = new List<(string User, int N, string Key)>();
        foreach (var reader in readers)
        {
            while (true)
            {
                using var batch = (await reader.ReadAsync(CancellationToken.None))!;
                if (batch.Count == 0)
                {
                    break;
                }

                for (var r = 0; r < batch.Count; r++)
                {
                    seen.Add((batch.ColumnAt<string>(0).Values[r], batch.ColumnAt<int>(1).Values[r], batch.ColumnAt<string>(2).Values[r]));
                }
            }

            reader.Dispose();
        }

        Assert.Equal(9, seen.Count);
        Assert.DoesNotContain(seen, s => s.N == 4);
        Assert.All(seen, s => Assert.Equal(s.User, s.Key));
        foreach (var g in seen.GroupBy(s => s.User))
        {
            Assert.Equal(g.Select(s => s.N).Order(), g.Select(s => s.N));
        }

        Assert.Equal(0, _pool.Outstanding);
    }

    [Fact]
    public void TransactionalSinkPublishesAnEpochOnlyAtCommitAndRecoveryCommitsWhatTheManifestCoversAndAbortsTheRest()
    {
        using var store = LogStore.Open(Path.Combine(_dir.Path, "data"), report: _ => { });
        using var factory = new LogConnectorFactory(store);
        var schema = new Schema([new Field("user", DataType.String), new Field("n", DataType.Int32)]);
        var sink = factory.CreateSink(Context(new() { ["topic"] = "out", ["partitions"] = "2", ["key.field"] = "user", ["fsync"] = "never" }, schema));
        var topic = store.OpenTopic("out");

        List<int> Read(IsolationLevel isolation) => SortedValuesOfN(topic, isolation);

        void WriteRows(ISinkWriter writer, int from, int count) => WriteUserRows(writer, schema, from, count);

        var first = (Streams.Engine.Checkpoints.ITransactionalSinkWriter)sink.OpenWriter(0);
        first.RecoverTransactions(0);
        WriteRows(first, 0, 10);
        first.PreCommit(1);
        Assert.Empty(Read(IsolationLevel.ReadCommitted));
        Assert.Equal(Enumerable.Range(0, 10), Read(IsolationLevel.ReadUncommitted));
        first.Commit(1);
        Assert.Equal(Enumerable.Range(0, 10), Read(IsolationLevel.ReadCommitted));

        // Epoch 2 is prepared (its manifest became durable but the commit was cut off), epoch 3 is half written: a crash.
        WriteRows(first, 10, 10);
        first.PreCommit(2);
        WriteRows(first, 20, 10);
        first.Flush();
        Assert.Equal(Enumerable.Range(0, 10), Read(IsolationLevel.ReadCommitted));

        var restarted = (Streams.Engine.Checkpoints.ITransactionalSinkWriter)sink.OpenWriter(0);
        restarted.RecoverTransactions(2);
        Assert.Equal(Enumerable.Range(0, 20), Read(IsolationLevel.ReadCommitted));
        Assert.All(topic.Partitions, p => Assert.Equal(p.EndOffset, p.LastStableOffset));

        // The old instance is fenced: its next append fails instead of landing in the topic.
        Assert.Throws<ProducerFencedException>(() =>
        {
            WriteRows(first, 30, 5);
            first.PreCommit(3);
        });

        WriteRows(restarted, 20, 10);
        restarted.PreCommit(3);
        restarted.Commit(3);
        restarted.Dispose();
        Assert.Equal(Enumerable.Range(0, 30), Read(IsolationLevel.ReadCommitted));
        Assert.Equal(0, _pool.Outstanding);
    }

    /// <summary>A clock the test moves by hand (the log measures transaction timeouts in it).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    [Fact]
    public void RecoveryFailsLoudlyWhenTheLogAbortedOnTimeoutTheOutputOfTheCheckpointItResumesFromUnlessTheLossIsAccepted()
    {
        var clock = new ManualClock();
        var reports = new List<string>();
        using var store = LogStore.Open(Path.Combine(_dir.Path, "data"), report: reports.Add, clock: clock);
        using var factory = new LogConnectorFactory(store);
        var schema = new Schema([new Field("user", DataType.String), new Field("n", DataType.Int32)]);
        ISinkConnector Sink(string onRecovery) => factory.CreateSink(Context(new()
        {
            ["topic"] = "out", ["partitions"] = "2", ["key.field"] = "user", ["fsync"] = "never",
            ["transaction.timeout.ms"] = "10000", ["transaction.timeout.on-recovery"] = onRecovery,
        }, schema));
        var firstSink = Sink("fail");
        var topic = store.OpenTopic("out");

        List<int> Committed() => SortedValuesOfN(topic, IsolationLevel.ReadCommitted);

        void WriteRows(ISinkWriter writer, int from, int count) => WriteUserRows(writer, schema, from, count);

        var first = (Streams.Engine.Checkpoints.ITransactionalSinkWriter)firstSink.OpenWriter(0);
        first.RecoverTransactions(0);
        WriteRows(first, 0, 10);
        first.PreCommit(1);
        first.Commit(1);
        // Checkpoint 2's manifest became durable but the job died before its commit, then stayed down past the timeout.
        WriteRows(first, 10, 10);
        first.PreCommit(2);
        WriteRows(first, 20, 10);
        first.Flush();
        clock.Advance(TimeSpan.FromSeconds(10));

        for (var attempt = 0; attempt < 2; attempt++)
        {
            // Every restart fails the same way: the failed recovery writes nothing that would hide the loss next time.
            var restarted = (Streams.Engine.Checkpoints.ITransactionalSinkWriter)Sink("fail").OpenWriter(0);
            var e = Assert.Throws<ConnectorException>(() => restarted.RecoverTransactions(2));
            Assert.Contains("cannot resume from checkpoint 2: the output of checkpoint 2 on topic 'out' partition", e.Message);
            Assert.Contains("outlived its timeout of 10000 ms", e.Message);
            Assert.Contains("'transaction.timeout.on-recovery' = 'accept-loss'", e.Message);
        }

        Assert.Equal(Enumerable.Range(0, 10), Committed());
        // The old instance's late commit is fenced with the reason, and publishes nothing.
        var late = Assert.Throws<ConnectorException>(() => first.Commit(2));
        Assert.IsType<TransactionTimedOutException>(late.InnerException);
        Assert.Contains("raise 'transaction.timeout.ms' (now 10000 ms)", late.Message);
        Assert.Equal(Enumerable.Range(0, 10), Committed());

        var accepting = (Streams.Engine.Checkpoints.ITransactionalSinkWriter)Sink("accept-loss").OpenWriter(0);
        accepting.RecoverTransactions(2);
        Assert.Contains(reports, r => r.Contains("accepting a loss", StringComparison.Ordinal) && r.Contains("output of checkpoint 2", StringComparison.Ordinal));
        WriteRows(accepting, 30, 10);
        accepting.PreCommit(3);
        accepting.Commit(3);
        accepting.Dispose();
        Assert.Equal(Enumerable.Range(0, 10).Concat(Enumerable.Range(30, 10)), Committed());

        // Once a recovery went past it, the loss no longer stops later restarts.
        var later = (Streams.Engine.Checkpoints.ITransactionalSinkWriter)Sink("fail").OpenWriter(0);
        later.RecoverTransactions(3);
        later.Dispose();
        first.Dispose();
        Assert.Equal(0, _pool.Outstanding);
    }

    [Fact]
    public void BadOptionsAreConnectorErrors()
    {
        using var factory = new LogConnectorFactory();
        Assert.Contains("needs a 'topic'", Assert.Throws<ConnectorException>(() => factory.CreateSource(Context([]))).Message);
        Assert.Contains("unknown topic 'nope'", Assert.Throws<ConnectorException>(() => factory.CreateSource(Context(new() { ["topic"] = "nope", ["data-dir"] = "d" }))).Message);
        Assert.Contains("key.field 'missing'", Assert.Throws<ConnectorException>(() => factory.CreateSink(Context(new() { ["topic"] = "t", ["data-dir"] = "d", ["key.field"] = "missing" }))).Message);
        Assert.Contains("'transaction.timeout.ms' must be a positive number of milliseconds, not '0'", Assert.Throws<ConnectorException>(() => factory.CreateSink(Context(new() { ["topic"] = "t", ["data-dir"] = "d", ["transaction.timeout.ms"] = "0" }))).Message);
        Assert.Contains("must be 'fail' or 'accept-loss', not 'ignore'", Assert.Throws<ConnectorException>(() => factory.CreateSink(Context(new() { ["topic"] = "t", ["data-dir"] = "d", ["transaction.timeout.on-recovery"] = "ignore" }))).Message);

        // A topic the sink creates allows the timeout it asks for; an existing topic's maximum is not raised behind its back.
        factory.CreateSink(Context(new() { ["topic"] = "long", ["data-dir"] = "d", ["transaction.timeout.ms"] = "3600000" }));
        Assert.Contains("transaction.timeout.ms 3600000 exceeds topic 't2' transaction-max-timeout-ms 900000", Assert.Throws<ConnectorException>(() =>
        {
            factory.CreateSink(Context(new() { ["topic"] = "t2", ["data-dir"] = "d" }));
            factory.CreateSink(Context(new() { ["topic"] = "t2", ["data-dir"] = "d", ["transaction.timeout.ms"] = "3600000" }));
        }).Message);
        Assert.Equal("log", factory.Name);
    }
}

/// <summary>A temp directory removed at the end of a test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "streams-logconn-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
