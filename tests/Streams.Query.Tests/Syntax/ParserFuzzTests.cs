using System.Diagnostics;
using System.Text;
using Streams.Engine.Connectors;

namespace Streams.Query.Tests.Syntax;

/// <summary>
/// Robustness: 100,000 random and mutated scripts must each either plan or fail with a positioned
/// <see cref="SqlException"/> — never another exception and never a hang (each input is timed).
/// </summary>
public class ParserFuzzTests
{
    private const string Ddl = """
        CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'fake');
        CREATE TABLE people (id BIGINT, name VARCHAR, PRIMARY KEY (id) NOT ENFORCED) WITH (connector = 'fake');
        """;

    private static readonly string[] Seeds =
    [
        "SELECT auction, price * 2 AS p FROM bids WHERE price > 10 AND channel LIKE 'w%';",
        "SELECT auction, window_start, window_end, COUNT(*) AS n, SUM(price) FILTER (WHERE bidder > 3) FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end HAVING COUNT(*) > 1;",
        "SELECT b.auction, p.name FROM bids b LEFT JOIN people p ON b.bidder = p.id;",
        "SELECT a.auction FROM bids a JOIN bids b ON a.auction = b.auction AND b.ts BETWEEN a.ts - INTERVAL '5' SECOND AND a.ts;",
        "SELECT * FROM (SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bids) WHERE rn <= 3;",
        "SELECT CASE WHEN price > 10 THEN 'hi' ELSE 'lo' END, COALESCE(channel, 'x'), CAST(price AS INT), SUBSTRING(channel FROM 1 FOR 2), EXTRACT(HOUR FROM ts) FROM bids;",
        "SELECT auction, TUMBLE_START(ts, INTERVAL '1' MINUTE), COUNT(DISTINCT bidder) FROM bids GROUP BY auction, TUMBLE(ts, INTERVAL '1' MINUTE);",
        "SELECT auction FROM bids UNION ALL SELECT id FROM people;",
        "EXPLAIN SELECT x.auction, COUNT(*) FROM bids x, bids y WHERE x.auction = y.auction GROUP BY x.auction;",
        "SELECT `auction`, AVG(price) AS `avg` FROM bids GROUP BY `auction` ORDER BY 2 DESC LIMIT 5;",
        "SELECT auction, price - AVG(price) OVER w, COUNT(*) OVER w FROM bids WINDOW w AS (PARTITION BY auction ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW);",
        "SELECT bidder, SUM(price) OVER (PARTITION BY bidder ORDER BY ts RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW) FROM bids;",
    ];

    private static readonly string[] Vocabulary =
    [
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "JOIN", "LEFT", "ON", "AND", "OR", "NOT", "AS", "IN", "IS", "NULL",
        "BETWEEN", "LIKE", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "INTERVAL", "'5'", "SECOND", "TABLE", "TUMBLE", "HOP", "SESSION",
        "DESCRIPTOR", "(", ")", ",", ".", ";", "*", "+", "-", "/", "%", "=", "<>", "<", ">=", "||", "bids", "people", "auction", "price", "ts",
        "channel", "COUNT", "SUM", "OVER", "PARTITION", "ROW_NUMBER", "1", "2.5", "'x'", "`q`", "\"d\"", "--c\n", "/*", "*/", "CREATE", "STREAM",
        "WITH", "UNION", "ALL", "DISTINCT", "EXPLAIN", "INSERT", "INTO", "TRUE", "FALSE", "EXTRACT", "SUBSTRING", "FOR", "FILTER", "WATERMARK",
        "ROWS", "RANGE", "PRECEDING", "FOLLOWING", "CURRENT", "ROW", "UNBOUNDED", "WINDOW", "w",
    ];

    [Fact]
    public void Random_and_mutated_inputs_plan_or_fail_with_a_position()
    {
        var rng = new Random(20261123);
        var registry = new ConnectorRegistry().Register(new FakeConnector());
        var session = new SqlSession(registry, Path.GetTempPath());
        session.Prepare(Ddl);
        var longest = TimeSpan.Zero;
        var failures = new List<string>();
        var positioned = 0;
        var planned = 0;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < 100_000; i++)
        {
            var sql = (i % 3) switch
            {
                0 => Mutate(Seeds[rng.Next(Seeds.Length)], rng),
                1 => Tokens(rng),
                _ => RandomChars(rng),
            };
            var watch = Stopwatch.StartNew();
            try
            {
                session.Prepare(sql);
                planned++;
            }
            catch (SqlException ex)
            {
                var lines = sql.Split('\n').Length;
                if (ex.Position.Line < 1 || ex.Position.Line > lines + 1 || ex.Position.Column < 1)
                {
                    failures.Add($"bad position {ex.Position} for: {sql}");
                }

                positioned++;
            }
#pragma warning disable CA1031 // Any other exception is exactly what this test hunts for.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures.Add($"{ex.GetType().Name}: {ex.Message} for: {sql}\n{ex.StackTrace}");
            }

            if (watch.Elapsed > longest)
            {
                longest = watch.Elapsed;
            }

            if (failures.Count >= 5)
            {
                break;
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
        Assert.True(longest < TimeSpan.FromSeconds(2), $"slowest input took {longest}");
        Assert.True(planned > 1000, $"only {planned} inputs planned: the mutations are too destructive to test the planner");
        Assert.True(positioned > 1000, $"only {positioned} inputs were rejected");
    }

    private static string Mutate(string seed, Random rng)
    {
        var sb = new StringBuilder(seed);
        var edits = rng.Next(0, 4);
        for (var e = 0; e < edits && sb.Length > 0; e++)
        {
            var pos = rng.Next(sb.Length);
            switch (rng.Next(4))
            {
                case 0:
                    sb.Remove(pos, Math.Min(sb.Length - pos, rng.Next(1, 6)));
                    break;
                case 1:
                    sb.Insert(pos, " " + Vocabulary[rng.Next(Vocabulary.Length)] + " ");
                    break;
                case 2:
                    sb[pos] = (char)rng.Next(32, 127);
                    break;
                default:
                    var from = rng.Next(sb.Length);
                    var len = Math.Min(sb.Length - from, rng.Next(1, 20));
                    sb.Insert(pos, sb.ToString(from, len));
                    break;
            }
        }

        return sb.ToString();
    }

    private static string Tokens(Random rng)
    {
        var n = rng.Next(1, 25);
        var parts = new string[n];
        for (var i = 0; i < n; i++)
        {
            parts[i] = Vocabulary[rng.Next(Vocabulary.Length)];
        }

        return string.Join(' ', parts);
    }

    private static string RandomChars(Random rng)
    {
        var n = rng.Next(0, 40);
        var chars = new char[n];
        for (var i = 0; i < n; i++)
        {
            chars[i] = rng.Next(10) == 0 ? (char)rng.Next(0, 0x3000) : " ()',.;*=<>-|`\"abSELCTFROMWHE0129\n"[rng.Next(34)];
        }

        return new string(chars);
    }

    private sealed class FakeConnector : IConnectorFactory
    {
        public string Name => "fake";

        public ISourceConnector CreateSource(ConnectorContext context) => throw new NotSupportedException();

        public ISinkConnector CreateSink(ConnectorContext context) => throw new NotSupportedException();
    }
}
