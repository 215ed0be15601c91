using System.Diagnostics;
using System.Text.Json;
using Streams.Engine.Log;

namespace Streams.EndToEnd.Tests.Log;

/// <summary>The log's CLI contract, run as real processes.</summary>
public sealed class LogCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "streams-cli-" + Guid.NewGuid().ToString("N"));

    private string DataDir => Path.Combine(_root, "data");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private Task<(int Exit, string Out, string Err)> Streams(string? stdin, params string[] args) =>
        StreamsCli.RunAsync(stdin, [.. args, "--data-dir", DataDir]);

    [Fact]
    public async Task ConsumeIsolationReadCommittedHidesOpenAndAbortedTransactionsAndLagCountsToTheStableOffset()
    {
        using (var store = LogStore.Open(DataDir, report: _ => { }))
        {
            var log = store.CreateTopic("tx", new TopicConfig()).Partitions[0];
            var producer = new TransactionalProducer(42, 0);
            void Send(string value)
            {
                using var b = new RecordBatchBuilder();
                b.TryAddUnkeyed(System.Text.Encoding.UTF8.GetBytes($"{{\"v\":\"{value}\"}}"), 1);
                producer.Send(log, b);
            }

            Send("aborted");
            producer.Abort(log);
            Send("committed");
            producer.Commit(log);
            Send("open");
            log.Flush();
        }

        static List<string> Values(string output) =>
            [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("value").GetProperty("v").GetString()!)];

        var committed = await Streams(null, "consume", "tx", "--group", "c", "--from-beginning");
        Assert.Equal(0, committed.Exit);
        Assert.Equal(["committed"], Values(committed.Out));
        var uncommitted = await Streams(null, "consume", "tx", "--group", "u", "--from-beginning", "--isolation", "read_uncommitted");
        Assert.Equal(["aborted", "committed", "open"], Values(uncommitted.Out));

        // Group c stands at the last stable offset (the open transaction's begin marker): no lag it could read.
        var groups = await Streams(null, "groups");
        var row = groups.Out.Split('\n').Single(l => l.StartsWith("c\ttx\t0\t", StringComparison.Ordinal)).Split('\t');
        Assert.Equal(row[3], row[4]);
        Assert.Equal("0", row[5]);

        // describe shows what holds readers back, and until when.
        var described = await Streams(null, "topic", "describe", "tx");
        Assert.Contains("transaction-max-timeout-ms=900000", described.Out);
        Assert.Matches(@"partition 0: transaction of producer 42 epoch 0 from offset \d+, open, times out at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in \d+ s\)", described.Out);
        Assert.Equal(0, (await Streams(null, "topic", "create", "short", "--transaction-max-timeout-ms", "60000")).Exit);
        Assert.Contains("transaction-max-timeout-ms=60000", (await Streams(null, "topic", "describe", "short")).Out);
    }

    [Fact]
    public async Task ProduceConsumeAndGroupsFollowTheContract()
    {
        var created = await Streams(null, "topic", "create", "orders", "--partitions", "3");
        Assert.Equal(0, created.Exit);

        var input = "{\"id\":1,\"user\":\"ann\"}\n{\"id\":2,\"user\":\"bob\"}\nnot json\n{\"id\":3,\"user\":\"ann\"}\n\n{\"id\":4,\"user\":\"ann\"}\n";
        var produced = await Streams(input, "produce", "orders", "--key-field", "user");
        Assert.Equal("acked 4", produced.Out.TrimEnd().Split('\n')[^1]);
        Assert.Contains("line 3: not a JSON object", produced.Err);
        Assert.Equal(1, produced.Exit);

        var list = await Streams(null, "topic", "list");
        Assert.StartsWith("orders\tpartitions=3\trecords=4", list.Out);
        var describe = await Streams(null, "topic", "describe", "orders");
        Assert.Contains("partitions=3 fsync=always", describe.Out);
        Assert.Equal(3, describe.Out.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^  \d\t")));

        var consumed = await Streams(null, "consume", "orders", "--group", "g", "--from-beginning");
        Assert.Equal(0, consumed.Exit);
        var records = consumed.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(4, records.Count);
        var ann = records.Where(r => r.GetProperty("key").GetString() == "ann").ToList();
        Assert.Equal([1, 3, 4], ann.Select(r => r.GetProperty("value").GetProperty("id").GetInt32()));
        Assert.Single(ann.Select(r => r.GetProperty("partition").GetInt32()).Distinct());
        Assert.Equal([0L, 1, 2], ann.Select(r => r.GetProperty("offset").GetInt64()));
        Assert.All(records, r => Assert.True(r.GetProperty("ts").GetInt64() > 1_600_000_000_000));

        // The group committed: a second run prints nothing new, and groups shows zero lag.
        Assert.Equal("", (await Streams(null, "consume", "orders", "--group", "g", "--from-beginning")).Out);
        await Streams("{\"id\":5,\"user\":\"ann\"}\n{\"id\":6,\"user\":\"cy\"}\n", "produce", "orders", "--key-field", "user", "--fsync", "never");
        var one = await Streams(null, "consume", "orders", "--group", "g", "--max", "1");
        Assert.Single(one.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var groups = await Streams(null, "groups");
        var rows = groups.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('\t')).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal("g", r[0]));
        Assert.Equal(1, rows.Sum(r => long.Parse(r[5])));
        Assert.All(rows, r => Assert.Equal(long.Parse(r[4]) - long.Parse(r[3]), long.Parse(r[5])));
    }

    [Fact]
    public async Task BadRequestsGetClearErrorsAndLoseNothing()
    {
        Assert.Contains("invalid topic name 'no/slash'", (await Streams(null, "topic", "create", "no/slash")).Err);
        Assert.Contains("at least 1 partition", (await Streams(null, "topic", "create", "t", "--partitions", "0")).Err);
        var unknown = await Streams("{}\n", "produce", "missing");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("unknown topic 'missing'", unknown.Err);

        await Streams(null, "topic", "create", "small", "--max-batch-bytes", "1024");
        var big = "{\"pad\":\"" + new string('x', 2000) + "\"}";
        var produced = await Streams($"{{\"a\":1}}\n{big}\n{{\"a\":2}}\n", "produce", "small");
        Assert.Contains("line 2: record of", produced.Err);
        Assert.Contains("exceeds the topic's max-batch-bytes 1024", produced.Err);
        Assert.Equal("acked 2", produced.Out.Trim());

        var foreign = Path.Combine(_root, "foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        var refused = await StreamsCli.RunAsync(null, "topic", "create", "t", "--data-dir", foreign);
        Assert.Equal(1, refused.Exit);
        Assert.Contains("is not a Streams data directory", refused.Err);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(foreign).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_bad_isolation_level_is_a_usage_error_naming_the_allowed_values_and_commits_nothing()
    {
        Assert.Equal(0, (await Streams(null, "topic", "create", "t")).Exit);
        Assert.Equal(0, (await Streams("{\"a\":1}\n", "produce", "t")).Exit);
        var bad = await Streams(null, "consume", "t", "--group", "g", "--from-beginning", "--isolation", "serializable");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("--isolation 'serializable' is not an isolation level: use read_committed or read_uncommitted", bad.Err);
        Assert.DoesNotContain("\"offset\"", bad.Out);

        // Other usage errors exit 2 as well; a run that fails (unknown topic) stays 1.
        Assert.Equal(2, (await Streams(null, "consume", "t")).Exit);
        Assert.Equal(1, (await Streams(null, "consume", "missing", "--group", "g")).Exit);

        // Nothing was consumed, so nothing was committed: the group still reads the record from the beginning.
        var good = await Streams(null, "consume", "t", "--group", "g", "--from-beginning", "--isolation", "read_committed");
        Assert.Equal(0, good.Exit);
        Assert.Single(good.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task FollowingConsumerInAnotherProcessSeesNewRecords()
    {
        await Streams(null, "topic", "create", "live", "--partitions", "2");
        using var consumer = Process.Start(StreamsCli.StartInfo("consume", "live", "--group", "watch", "--from-beginning", "--follow", "--max", "3", "--data-dir", DataDir))!;
        var output = consumer.StandardOutput.ReadToEndAsync();
        await Task.Delay(1500);
        await Streams("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n", "produce", "live");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await consumer.WaitForExitAsync(timeout.Token);
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal([1, 2, 3], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("value").GetProperty("n").GetInt32()).Order());
    }
}
