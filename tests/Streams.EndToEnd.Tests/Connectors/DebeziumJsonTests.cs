using System.Globalization;
using System.Text;
using Streams.Connectors.Files;
using Streams.Connectors.Formats;
using Streams.EndToEnd.Tests.Sql;
using Streams.Engine.Data;

namespace Streams.EndToEnd.Tests.Connectors;

/// <summary>
/// The <c>debezium-json</c> format: change events decode into changelog rows (c/r → +I, u → -U +U, d → -D), poison
/// events go to the dead-letter output with <c>file:line</c> and the reason, SQL over such a table sees the final state
/// of the captured table, windows over it are refused with a position, and a debezium-json sink round-trips.
/// </summary>
public sealed class DebeziumJsonTests : IDisposable
{
    private static readonly Schema Customers = new([new Field("id", DataType.Int64), new Field("city", DataType.String), new Field("balance", DataType.Int64)]);
    private readonly BatchPool _pool = new();
    private readonly SqlRunner _sql = new();

    public void Dispose() => _sql.Dispose();

    [Fact]
    public void Each_op_becomes_its_changelog_rows_and_a_tombstone_none()
    {
        var decoder = new DebeziumJsonDecoder(Customers);
        using var batch = _pool.Rent(Customers);
        string?[] lines =
        [
            """{"before":null,"after":{"id":1,"city":"Berlin","balance":10},"op":"r"}""",
            """{"before":null,"after":{"id":2,"city":"Paris","balance":20},"op":"c","ts_ms":5}""",
            """{"schema":{"type":"struct","fields":[]},"payload":{"op":"u","before":{"id":2,"city":"Paris","balance":20},"after":{"id":2,"city":"Rome","balance":25}}}""",
            "null",
            """{"schema":{"type":"struct"},"payload":null}""",
            """{"op":"d","before":{"id":1,"city":"Berlin","balance":10},"after":null}""",
        ];
        foreach (var line in lines)
        {
            Assert.True(decoder.TryDecode(Encoding.UTF8.GetBytes(line!), batch, out var error), error);
        }

        var rows = Enumerable.Range(0, batch.Count).Select(r => $"{batch.KindOf(r)} {batch.ColumnAt<long>(0).Values[r]} {batch.ColumnAt<string?>(1).Values[r]} {batch.ColumnAt<long>(2).Values[r]}");
        Assert.Equal(["Insert 1 Berlin 10", "Insert 2 Paris 20", "UpdateBefore 2 Paris 20", "UpdateAfter 2 Rome 25", "Delete 1 Berlin 10"], rows);
    }

    [Theory]
    [InlineData("""{"before":null,"after":{"id":1},"op":"x"}""", "unknown \"op\"")]
    [InlineData("""{"before":null,"after":{"id":1}}""", "no \"op\" field")]
    [InlineData("""{"before":null,"after":{"id":1,"city":"A","balance":1},"op":"u"}""", "REPLICA IDENTITY FULL")]
    [InlineData("""{"before":null,"after":null,"op":"d"}""", "needs a \"before\" object")]
    [InlineData("""{"before":{"id":1},"after":{"id":"one"},"op":"u"}""", "\"after\":")]
    [InlineData("""{"op":"c","after":{"id":1}""", "malformed JSON")]
    [InlineData("[1,2]", "not a JSON object")]
    public void A_bad_event_is_rejected_with_its_reason_and_leaves_the_batch_as_it_was(string line, string reason)
    {
        var decoder = new DebeziumJsonDecoder(Customers);
        using var batch = _pool.Rent(Customers);
        Assert.True(decoder.TryDecode("""{"op":"c","after":{"id":9,"city":"Oslo","balance":1}}"""u8, batch, out _));

        Assert.False(decoder.TryDecode(Encoding.UTF8.GetBytes(line), batch, out var error));

        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Equal(1, batch.Count);
    }

    [Fact]
    public async Task A_file_source_routes_poison_events_to_the_dead_letters_with_file_and_line_and_reads_the_rest()
    {
        using var folder = new TempFolder();
        folder.File("cdc.json", """
            {"op":"c","after":{"id":1,"city":"Berlin","balance":10}}
            {"op":"u","after":{"id":1,"city":"Rome","balance":11}}
            {"op":"u","before":{"id":1,"city":"Berlin","balance":10},"after":{"id":1,"city":"Rome","balance":11}}
            """);
        var letters = new DeadLetterList();
        var source = new FileSource(ConnectorTestKit.Context(Customers, folder.Path, letters, _pool, null, ("path", "cdc.json"), ("format", "debezium-json")));
        using var reader = source.OpenPartition(0, 0);

        var rows = await ConnectorTestKit.ReadAll(reader);

        Assert.Equal([1L, 1L, 1L], rows.Select(r => (long)r[0]!));
        var letter = Assert.Single(letters.Letters);
        Assert.Equal("cdc.json:2", letter.Location);
        Assert.Contains("REPLICA IDENTITY FULL", letter.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _pool.Outstanding);
    }

    [Fact]
    public void GROUP_BY_over_a_random_change_history_answers_the_final_state_of_the_captured_table()
    {
        // A random history of inserts, updates (which may move a row to another city) and deletes over 300 ids, some
        // wrapped in the converter's payload envelope, with tombstones and poison events in between; the reference is
        // the captured table's final state.
        var random = new Random(20261203);
        var table = new Dictionary<long, (string City, long Balance)>();
        var lines = new List<string>();
        var poison = 0;
        string Image(long id, (string City, long Balance) row) => string.Create(CultureInfo.InvariantCulture, $$"""{"id":{{id}},"city":"{{row.City}}","balance":{{row.Balance}}}""");
        for (var i = 0; i < 20_000; i++)
        {
            var id = random.Next(300);
            var next = ($"c{random.Next(12)}", (long)random.Next(-1_000, 1_000));
            string line;
            if (!table.TryGetValue(id, out var old))
            {
                line = $$"""{"before":null,"after":{{Image(id, next)}},"op":"{{(i < 300 ? "r" : "c")}}"}""";
                table[id] = next;
            }
            else if (random.Next(4) == 0)
            {
                line = $$"""{"before":{{Image(id, old)}},"after":null,"op":"d"}""";
                table.Remove(id);
                if (random.Next(2) == 0)
                {
                    lines.Add(line);
                    line = "null";
                }
            }
            else
            {
                line = $$"""{"before":{{Image(id, old)}},"after":{{Image(id, next)}},"op":"u"}""";
                table[id] = next;
            }

            lines.Add(random.Next(5) == 0 ? $$"""{"schema":{"type":"struct"},"payload":{{line}}}""" : line);
            if (random.Next(100) == 0)
            {
                lines.Add($$"""{"before":null,"after":{{Image(id, next)}},"op":"u"}""");
                poison++;
            }
        }

        _sql.WriteLines("cdc.json", lines);
        var result = _sql.Run("""
            CREATE TABLE customers (id BIGINT, city STRING, balance BIGINT, PRIMARY KEY (id) NOT ENFORCED) WITH (connector = 'file', path = 'cdc.json', format = 'debezium-json');
            SELECT city, COUNT(*) AS n, SUM(balance) AS total, MAX(balance) AS top FROM customers GROUP BY city;
            """);

        Assert.Equal(0, result.ExitCode);
        var expected = table.GroupBy(r => r.Value.City).Select(g => $"{g.Key} {g.Count()} {g.Sum(r => r.Value.Balance)} {g.Max(r => r.Value.Balance)}").Order(StringComparer.Ordinal);
        var actual = result.Rows.Select(r => $"{r.GetProperty("city").GetString()} {r.GetProperty("n").GetInt64()} {r.GetProperty("total").GetInt64()} {r.GetProperty("top").GetInt64()}").Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
        Assert.True(poison > 50, $"only {poison} poison events");
        // The first rejections are shown one by one, then counted: every poison event is accounted for, nothing else.
        Assert.True(result.Stderr.Contains($"warning: {poison} records rejected in total", StringComparison.Ordinal), result.Stderr[^Math.Min(400, result.Stderr.Length)..]);
        Assert.DoesNotContain(result.Stderr.Split('\n'), l => l.StartsWith("warning: cdc.json", StringComparison.Ordinal) && !l.Contains("REPLICA IDENTITY FULL", StringComparison.Ordinal));
    }

    [Fact]
    public void An_updating_query_written_to_a_debezium_json_table_reads_back_as_the_same_result()
    {
        _sql.WriteLines("cdc.json",
        [
            """{"op":"c","after":{"id":1,"city":"Berlin","balance":10}}""",
            """{"op":"c","after":{"id":2,"city":"Paris","balance":20}}""",
            """{"op":"c","after":{"id":3,"city":"Berlin","balance":30}}""",
            """{"op":"u","before":{"id":2,"city":"Paris","balance":20},"after":{"id":2,"city":"Berlin","balance":21}}""",
            """{"op":"d","before":{"id":1,"city":"Berlin","balance":10}}""",
        ]);
        const string Source = "CREATE TABLE customers (id BIGINT, city STRING, balance BIGINT) WITH (connector = 'file', path = 'cdc.json', format = 'debezium-json');";
        const string Query = "SELECT city, COUNT(*) AS n, SUM(balance) AS total FROM customers GROUP BY city";
        const string PerCity = "CREATE TABLE per_city (city STRING, n BIGINT, total BIGINT) WITH (connector = 'file', path = 'out', format = 'debezium-json');";

        var direct = _sql.Run($"{Source}\n{Query};");
        var write = _sql.Run($"{Source}\n{PerCity}\nINSERT INTO per_city {Query};");
        var readBack = _sql.Run($"{PerCity}\nSELECT city, n, total FROM per_city;");

        Assert.Equal(0, write.ExitCode);
        Assert.Equal(["""{"city":"Berlin","n":2,"total":51}"""], direct.Lines);
        Assert.Equal(direct.Lines, readBack.Lines);
        Assert.All(File.ReadLines(Directory.EnumerateFiles(Path.Combine(_sql.Folder, "out")).Single()), l => Assert.Matches("\"op\":\"[cd]\"", l));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_time_bounded_join_with_a_changelog_runs_as_a_regular_join_that_takes_its_deletes(bool changelog)
    {
        // With an insert-only customers table the time bounds make this an interval join; with a changelog the interval
        // join would keep customer 1 after its delete, so the plan must fall back to a regular join.
        _sql.WriteLines("customers.json",
        [
            """{"op":"c","after":{"id":1,"city":"Berlin","ts":0}}""",
            """{"op":"c","after":{"id":2,"city":"Paris","ts":0}}""",
            .. changelog ? new[] { """{"op":"d","before":{"id":1,"city":"Berlin","ts":0}}""" } : [],
        ]);
        _sql.WriteLines("customers.ndjson", ["""{"id":1,"city":"Berlin","ts":0}""", """{"id":2,"city":"Paris","ts":0}"""]);
        _sql.WriteLines("orders.ndjson", ["""{"oid":10,"cust":1,"ts":1000}""", """{"oid":11,"cust":2,"ts":2000}"""]);
        var customers = changelog ? "path = 'customers.json', format = 'debezium-json'" : "path = 'customers.ndjson', format = 'json'";
        var sql = $"""
            CREATE TABLE customers (id BIGINT, city STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH (connector = 'file', {customers});
            CREATE STREAM orders (oid BIGINT, cust BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH (connector = 'file', path = 'orders.ndjson', format = 'json');
            SELECT o.oid, c.city FROM orders o JOIN customers c ON o.cust = c.id AND o.ts BETWEEN c.ts AND c.ts + INTERVAL '1' HOUR;
            """;

        var result = _sql.Run(sql);
        var plan = _sql.Run(sql.Replace("SELECT o.oid", "EXPLAIN SELECT o.oid", StringComparison.Ordinal));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(changelog ? ["""{"oid":11,"city":"Paris"}"""] : ["""{"oid":10,"city":"Berlin"}""", """{"oid":11,"city":"Paris"}"""], result.Lines.Order(StringComparer.Ordinal));
        Assert.Equal(!changelog, plan.Stdout.Contains("IntervalJoin", StringComparison.Ordinal));
    }

    [Fact]
    public void A_window_over_a_changelog_is_refused_at_its_position()
    {
        _sql.WriteLines("cdc.json", ["""{"op":"c","after":{"id":1,"city":"Berlin","balance":10,"ts":1000}}"""]);

        var result = _sql.Run("""
            CREATE TABLE customers (id BIGINT, city STRING, balance BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH (connector = 'file', path = 'cdc.json', format = 'debezium-json');
            SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE customers, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;
            """);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("line 2, column 47: not supported: TUMBLE over a changelog", result.Stderr, StringComparison.Ordinal);
    }
}
