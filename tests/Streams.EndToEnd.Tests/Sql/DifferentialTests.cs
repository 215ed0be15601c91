using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>
/// Differential tests: the same question asked of <c>streams run</c> and of a real PostgreSQL (STREAMS_TEST_PG, started by
/// ./test.sh) over the same generated data — bids/auctions/persons with skewed keys, NULLs and bounded disorder smaller
/// than the watermark delay. Results are compared as multisets: timestamps as epoch milliseconds, doubles with a 1e-9
/// relative tolerance.
/// </summary>
public sealed class DifferentialTests : IClassFixture<DifferentialTests.Data>
{
    private readonly Data _data;

    public DifferentialTests(Data data) => _data = data;

    /// <summary>Generates the data once, writes it as NDJSON and loads it into PostgreSQL.</summary>
    public sealed class Data : IDisposable
    {
        public Data()
        {
            Runner = new SqlRunner();
            var rng = new Random(12345);
            var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            var channels = new[] { "web", "app", "api", null };
            var bids = new StringBuilder();
            var bidRows = new List<object?[]>();
            for (var i = 0; i < 4000; i++)
            {
                // Skewed auctions (a few are hot), disorder up to 2 s against a watermark delay of 3 s.
                var auction = rng.NextDouble() < 0.5 ? rng.Next(1, 4) : rng.Next(1, 60);
                var bidder = rng.Next(1, 40);
                var price = Math.Round(rng.NextDouble() * 100, 2);
                var channel = channels[rng.Next(channels.Length)];
                var ts = start.AddMilliseconds((i * 250) - rng.Next(0, 2000));
                bidRows.Add([auction, bidder, price, channel, ts]);
                bids.Append(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["auction"] = auction, ["bidder"] = bidder, ["price"] = price, ["channel"] = channel, ["ts"] = ts.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                })).Append('\n');
            }

            var auctions = new StringBuilder();
            var auctionRows = new List<object?[]>();
            for (var id = 1; id < 60; id++)
            {
                var category = rng.Next(1, 6);
                var seller = rng.Next(1, 40);
                var reserve = rng.Next(0, 5) == 0 ? (double?)null : Math.Round(rng.NextDouble() * 50, 2);
                var ts = start.AddSeconds(id);
                auctionRows.Add([id, seller, category, reserve, ts]);
                auctions.Append(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["id"] = id, ["seller"] = seller, ["category"] = category, ["reserve"] = reserve, ["ts"] = ts.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                })).Append('\n');
            }

            var persons = new StringBuilder();
            var personRows = new List<object?[]>();
            var states = new[] { "OR", "WA", "CA", "ID" };
            for (var id = 1; id < 35; id++)
            {
                var name = "p" + id.ToString(CultureInfo.InvariantCulture);
                var state = states[rng.Next(states.Length)];
                int? age = rng.Next(0, 6) == 0 ? null : rng.Next(18, 80);
                personRows.Add([id, name, state, age]);
                persons.Append(JsonSerializer.Serialize(new Dictionary<string, object?> { ["id"] = id, ["name"] = name, ["state"] = state, ["age"] = age })).Append('\n');
            }

            Runner.WriteFile("bids.ndjson", bids.ToString());
            Runner.WriteFile("auctions.ndjson", auctions.ToString());
            Runner.WriteFile("persons.ndjson", persons.ToString());

            var cs = Environment.GetEnvironmentVariable("STREAMS_TEST_PG")
                ?? throw new InvalidOperationException("STREAMS_TEST_PG is not set: run the tests through ./test.sh, which starts PostgreSQL");
            Connection = new NpgsqlConnection(cs);
            Connection.Open();
            Schema = "diff_" + Guid.NewGuid().ToString("N")[..8];
            Exec($"CREATE SCHEMA {Schema}; SET search_path TO {Schema};");
            Exec("CREATE TABLE bids (auction BIGINT, bidder BIGINT, price DOUBLE PRECISION, channel VARCHAR, ts TIMESTAMP(3), ts_ms BIGINT)");
            Exec("CREATE TABLE auctions (id BIGINT, seller BIGINT, category INT, reserve DOUBLE PRECISION, ts TIMESTAMP(3))");
            Exec("CREATE TABLE persons (id BIGINT, name VARCHAR, state VARCHAR, age INT)");
            using (var w = Connection.BeginBinaryImport("COPY bids FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var r in bidRows)
                {
                    var ts = (DateTime)r[4]!;
                    w.WriteRow((long)(int)r[0]!, (long)(int)r[1]!, (double)r[2]!, r[3], DateTime.SpecifyKind(ts, DateTimeKind.Unspecified), new DateTimeOffset(ts).ToUnixTimeMilliseconds());
                }

                w.Complete();
            }

            using (var w = Connection.BeginBinaryImport("COPY auctions FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var r in auctionRows)
                {
                    w.StartRow();
                    w.Write((long)(int)r[0]!);
                    w.Write((long)(int)r[1]!);
                    w.Write((int)r[2]!);
                    if (r[3] is double d)
                    {
                        w.Write(d);
                    }
                    else
                    {
                        w.WriteNull();
                    }

                    w.Write(DateTime.SpecifyKind((DateTime)r[4]!, DateTimeKind.Unspecified));
                }

                w.Complete();
            }

            using (var w = Connection.BeginBinaryImport("COPY persons FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var r in personRows)
                {
                    w.StartRow();
                    w.Write((long)(int)r[0]!);
                    w.Write((string)r[1]!);
                    w.Write((string)r[2]!);
                    if (r[3] is int a)
                    {
                        w.Write(a);
                    }
                    else
                    {
                        w.WriteNull();
                    }
                }

                w.Complete();
            }
        }

        internal SqlRunner Runner { get; }

        public NpgsqlConnection Connection { get; }

        public string Schema { get; }

        public void Exec(string sql)
        {
            using var cmd = new NpgsqlCommand(sql, Connection);
            cmd.ExecuteNonQuery();
        }

        public void Dispose()
        {
            try
            {
                Exec($"DROP SCHEMA {Schema} CASCADE");
            }
            finally
            {
                Connection.Dispose();
                Runner.Dispose();
            }
        }
    }

    private const string Ddl = """
        CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '3' SECOND)
          WITH (connector = 'file', path = 'bids.ndjson', format = 'json');
        CREATE STREAM auctions (id BIGINT, seller BIGINT, category INT, reserve DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '3' SECOND)
          WITH (connector = 'file', path = 'auctions.ndjson', format = 'json');
        CREATE TABLE persons (id BIGINT, name VARCHAR, state VARCHAR, age INT, PRIMARY KEY (id) NOT ENFORCED)
          WITH (connector = 'file', path = 'persons.ndjson', format = 'json');

        """;

    public static TheoryData<string, string, string> Queries() => new()
    {
        { "filter_project", "SELECT auction, price * 2 AS p2, bidder + 1 AS b1 FROM bids WHERE price > 50", "SELECT auction, price * 2, bidder + 1 FROM bids WHERE price > 50" },
        { "strings", "SELECT UPPER(channel) AS u, LOWER(channel) AS l, CHAR_LENGTH(channel) AS n, SUBSTRING(channel FROM 2 FOR 2) AS s2, SUBSTRING(channel, 1, 1) AS s1, channel || '-' || CAST(bidder AS VARCHAR) AS c, TRIM(BOTH 'a' FROM channel) AS t FROM bids WHERE bidder < 10",
            "SELECT UPPER(channel), LOWER(channel), CHAR_LENGTH(channel), SUBSTRING(channel FROM 2 FOR 2), SUBSTRING(channel, 1, 1), channel || '-' || CAST(bidder AS VARCHAR), TRIM(BOTH 'a' FROM channel) FROM bids WHERE bidder < 10" },
        { "case_coalesce_in", "SELECT auction, CASE WHEN price > 80 THEN 'high' WHEN price > 20 THEN 'mid' ELSE 'low' END AS band, COALESCE(channel, 'none') AS ch FROM bids WHERE channel IS NULL OR bidder IN (1, 2, 3)",
            "SELECT auction, CASE WHEN price > 80 THEN 'high' WHEN price > 20 THEN 'mid' ELSE 'low' END, COALESCE(channel, 'none') FROM bids WHERE channel IS NULL OR bidder IN (1, 2, 3)" },
        { "between_like", "SELECT auction, price FROM bids WHERE price BETWEEN 10 AND 20 AND channel NOT LIKE 'a%'", "SELECT auction, price FROM bids WHERE price BETWEEN 10 AND 20 AND channel NOT LIKE 'a%'" },
        { "three_valued_not", "SELECT auction, bidder FROM bids WHERE NOT (channel = 'web') AND NOT (bidder <> 7 AND channel IS NULL)", "SELECT auction, bidder FROM bids WHERE NOT (channel = 'web') AND NOT (bidder <> 7 AND channel IS NULL)" },
        { "math", "SELECT ABS(bidder - 20) AS a, MOD(auction, 7) AS m, FLOOR(price) AS f, CEIL(price) AS c, price / 4 AS q, bidder / 3 AS idiv FROM bids WHERE auction < 5",
            "SELECT ABS(bidder - 20), MOD(auction, 7), FLOOR(price), CEIL(price), price / 4, bidder / 3 FROM bids WHERE auction < 5" },
        { "time_functions", "SELECT EXTRACT(MINUTE FROM ts) AS mi, HOUR(ts) AS h, ts + INTERVAL '1' HOUR AS later FROM bids WHERE ts >= TIMESTAMP '2024-01-01 00:10:00'",
            "SELECT EXTRACT(MINUTE FROM ts), EXTRACT(HOUR FROM ts), ts + INTERVAL '1' HOUR FROM bids WHERE ts >= TIMESTAMP '2024-01-01 00:10:00'" },
        { "casts_nullif", "SELECT CAST(bidder AS VARCHAR) AS s, CAST(auction AS DOUBLE) AS d, NULLIF(bidder, 5) AS n FROM bids WHERE auction = 2", "SELECT CAST(bidder AS VARCHAR), CAST(auction AS DOUBLE PRECISION), NULLIF(bidder, 5) FROM bids WHERE auction = 2" },
        { "group_aggregates", "SELECT auction, COUNT(*) AS n, SUM(price) AS s, MIN(price) AS lo, MAX(price) AS hi FROM bids GROUP BY auction", "SELECT auction, COUNT(*), SUM(price), MIN(price), MAX(price) FROM bids GROUP BY auction" },
        { "avg_of_int_is_int", "SELECT channel, AVG(bidder) AS a, AVG(CAST(bidder AS DOUBLE)) AS ad FROM bids GROUP BY channel", "SELECT channel, TRUNC(AVG(bidder))::BIGINT, AVG(CAST(bidder AS DOUBLE PRECISION)) FROM bids GROUP BY channel" },
        { "count_distinct", "SELECT auction, COUNT(DISTINCT bidder) AS bidders, COUNT(channel) AS with_channel FROM bids GROUP BY auction", "SELECT auction, COUNT(DISTINCT bidder), COUNT(channel) FROM bids GROUP BY auction" },
        { "aggregate_filter", "SELECT bidder, SUM(price) FILTER (WHERE channel = 'web') AS web, COUNT(*) FILTER (WHERE price > 50) AS big FROM bids GROUP BY bidder",
            "SELECT bidder, SUM(price) FILTER (WHERE channel = 'web'), COUNT(*) FILTER (WHERE price > 50) FROM bids GROUP BY bidder" },
        { "having", "SELECT auction, COUNT(*) AS n FROM bids GROUP BY auction HAVING COUNT(*) > 40 AND MAX(price) > 90", "SELECT auction, COUNT(*) FROM bids GROUP BY auction HAVING COUNT(*) > 40 AND MAX(price) > 90" },
        { "tumble_tvf", "SELECT auction, window_start, window_end, COUNT(*) AS n, SUM(price) AS s FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end",
            "SELECT auction, ts_ms - MOD(ts_ms, 10000), ts_ms - MOD(ts_ms, 10000) + 10000, COUNT(*), SUM(price) FROM bids GROUP BY auction, ts_ms - MOD(ts_ms, 10000)" },
        { "tumble_global_filtered", "SELECT window_start, COUNT(*) AS n, MAX(price) AS hi, MIN(channel) AS ch FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) WHERE bidder > 10 GROUP BY window_start, window_end",
            "SELECT ts_ms - MOD(ts_ms, 60000), COUNT(*), MAX(price), MIN(channel) FROM bids WHERE bidder > 10 GROUP BY ts_ms - MOD(ts_ms, 60000)" },
        { "hop_tvf", "SELECT window_start, window_end, COUNT(*) AS n FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)) GROUP BY window_start, window_end",
            "SELECT w, w + 15000, COUNT(*) FROM bids, LATERAL generate_series(ts_ms - MOD(ts_ms, 5000) - 10000, ts_ms - MOD(ts_ms, 5000), 5000) AS w GROUP BY w" },
        { "session_tvf", "SELECT bidder, window_start, window_end, COUNT(*) AS n FROM TABLE(SESSION(TABLE bids PARTITION BY bidder, DESCRIPTOR(ts), INTERVAL '8' SECOND)) GROUP BY bidder, window_start, window_end",
            "WITH o AS (SELECT bidder, ts_ms, CASE WHEN ts_ms - LAG(ts_ms) OVER (PARTITION BY bidder ORDER BY ts_ms) <= 8000 THEN 0 ELSE 1 END AS brk FROM bids), g AS (SELECT bidder, ts_ms, SUM(brk) OVER (PARTITION BY bidder ORDER BY ts_ms ROWS UNBOUNDED PRECEDING) AS sid FROM o) SELECT bidder, MIN(ts_ms), MAX(ts_ms) + 8000, COUNT(*) FROM g GROUP BY bidder, sid" },
        { "legacy_group_window", "SELECT auction, TUMBLE_START(ts, INTERVAL '30' SECOND) AS ws, TUMBLE_END(ts, INTERVAL '30' SECOND) AS we, COUNT(*) AS n FROM bids WHERE auction <= 3 GROUP BY auction, TUMBLE(ts, INTERVAL '30' SECOND)",
            "SELECT auction, ts_ms - MOD(ts_ms, 30000), ts_ms - MOD(ts_ms, 30000) + 30000, COUNT(*) FROM bids WHERE auction <= 3 GROUP BY auction, ts_ms - MOD(ts_ms, 30000)" },
        { "interval_join", "SELECT a.auction, a.price, b.price AS p2 FROM bids a JOIN bids b ON a.auction = b.auction AND b.ts BETWEEN a.ts - INTERVAL '1' SECOND AND a.ts WHERE a.auction > 10",
            "SELECT a.auction, a.price, b.price FROM bids a JOIN bids b ON a.auction = b.auction AND b.ts BETWEEN a.ts - INTERVAL '1' SECOND AND a.ts WHERE a.auction > 10" },
        { "regular_join", "SELECT b.auction, b.price, a.category FROM bids b JOIN auctions a ON b.auction = a.id WHERE a.category = 3", "SELECT b.auction, b.price, a.category FROM bids b JOIN auctions a ON b.auction = a.id WHERE a.category = 3" },
        { "left_join", "SELECT b.bidder, b.price, p.name, p.age FROM bids b LEFT JOIN persons p ON b.bidder = p.id WHERE b.auction = 1", "SELECT b.bidder, b.price, p.name, p.age FROM bids b LEFT JOIN persons p ON b.bidder = p.id WHERE b.auction = 1" },
        { "implicit_join", "SELECT p.state, COUNT(*) AS n, SUM(b.price) AS s FROM bids b, persons p WHERE b.bidder = p.id AND p.state <> 'CA' GROUP BY p.state",
            "SELECT p.state, COUNT(*), SUM(b.price) FROM bids b, persons p WHERE b.bidder = p.id AND p.state <> 'CA' GROUP BY p.state" },
        { "subquery_aggregate_of_aggregate", "SELECT SUM(n) AS total, COUNT(*) AS groups FROM (SELECT auction, COUNT(*) AS n FROM bids GROUP BY auction) t WHERE n > 10",
            "SELECT SUM(n), COUNT(*) FROM (SELECT auction, COUNT(*) AS n FROM bids GROUP BY auction) t WHERE n > 10" },
        { "top_n", "SELECT * FROM (SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bids) WHERE rn <= 3",
            "SELECT * FROM (SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bids) t WHERE rn <= 3" },
        { "dedup_first_per_key", "SELECT bidder, ts FROM (SELECT bidder, ts, ROW_NUMBER() OVER (PARTITION BY bidder ORDER BY ts ASC) AS rn FROM bids) WHERE rn = 1",
            "SELECT bidder, ts FROM (SELECT bidder, ts, ROW_NUMBER() OVER (PARTITION BY bidder ORDER BY ts ASC) AS rn FROM bids) t WHERE rn = 1" },
        { "union_all", "SELECT auction AS k FROM bids WHERE price > 95 UNION ALL SELECT id AS k FROM auctions WHERE category = 1", "SELECT auction FROM bids WHERE price > 95 UNION ALL SELECT id FROM auctions WHERE category = 1" },
        { "distinct", "SELECT DISTINCT channel, MOD(auction, 5) AS m FROM bids", "SELECT DISTINCT channel, MOD(auction, 5) FROM bids" },
        { "order_limit", "SELECT auction, price FROM bids ORDER BY price DESC, auction LIMIT 7", "SELECT auction, price FROM bids ORDER BY price DESC, auction LIMIT 7" },
        { "backticks_and_nulls", "SELECT `state`, SUM(age) AS s, COUNT(age) AS c, COUNT(*) AS n, MAX(age) AS mx FROM persons GROUP BY `state`", "SELECT \"state\", SUM(age), COUNT(age), COUNT(*), MAX(age) FROM persons GROUP BY \"state\"" },
        { "over_range_interval", "SELECT auction, ts, COUNT(*) OVER w AS n, SUM(price) OVER w AS s, MIN(price) OVER w AS lo, MAX(price) OVER w AS hi, COUNT(channel) OVER w AS c FROM bids WINDOW w AS (PARTITION BY auction ORDER BY ts RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW)",
            "SELECT auction, ts_ms, COUNT(*) OVER w, SUM(price) OVER w, MIN(price) OVER w, MAX(price) OVER w, COUNT(channel) OVER w FROM bids WINDOW w AS (PARTITION BY auction ORDER BY ts RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW)" },
        { "over_rows_bounded", "SELECT bidder, ts, AVG(price) OVER w AS a, MIN(price) OVER w AS lo, MAX(price) OVER w AS hi FROM bids WINDOW w AS (PARTITION BY bidder ORDER BY ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)",
            "SELECT bidder, ts_ms, AVG(price) OVER w, MIN(price) OVER w, MAX(price) OVER w FROM bids WINDOW w AS (PARTITION BY bidder ORDER BY ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)" },
        { "over_default_frame_with_peers", "SELECT auction, ts, COUNT(*) OVER (PARTITION BY auction ORDER BY ts) AS n, MAX(price) OVER (PARTITION BY auction ORDER BY ts) AS hi FROM bids WHERE bidder > 5",
            "SELECT auction, ts_ms, COUNT(*) OVER (PARTITION BY auction ORDER BY ts), MAX(price) OVER (PARTITION BY auction ORDER BY ts) FROM bids WHERE bidder > 5" },
        { "over_in_expressions_int_avg_filter", "SELECT bidder, price - AVG(price) OVER w AS diff, AVG(auction) OVER w AS ai, COUNT(*) FILTER (WHERE channel = 'web') OVER w AS web FROM bids WINDOW w AS (PARTITION BY bidder ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
            "SELECT bidder, price - AVG(price) OVER w, TRUNC(AVG(auction) OVER w)::BIGINT, COUNT(*) FILTER (WHERE channel = 'web') OVER w FROM bids WINDOW w AS (PARTITION BY bidder ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)" },
        { "over_global_partition_after_filter", "SELECT ts, SUM(price) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW) AS s FROM bids WHERE auction = 1",
            "SELECT ts_ms, SUM(price) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW) FROM bids WHERE auction = 1" },
        { "view", "CREATE VIEW hot AS SELECT auction, price FROM bids WHERE price > 75; SELECT auction, COUNT(*) AS n FROM hot GROUP BY auction", "SELECT auction, COUNT(*) FROM bids WHERE price > 75 GROUP BY auction" },

        // Subqueries as semi and anti joins (NULL keys never match; NOT IN is NULL-aware), CTEs, outer joins, set operations.
        { "in_subquery", "SELECT auction, bidder, price FROM bids WHERE bidder IN (SELECT id FROM persons WHERE state = 'OR') AND price > 60",
            "SELECT auction, bidder, price FROM bids WHERE bidder IN (SELECT id FROM persons WHERE state = 'OR') AND price > 60" },
        { "in_subquery_with_duplicates", "SELECT id, category FROM auctions WHERE id IN (SELECT auction FROM bids WHERE channel = 'api')",
            "SELECT id, category FROM auctions WHERE id IN (SELECT auction FROM bids WHERE channel = 'api')" },
        { "not_in_subquery", "SELECT id, name FROM persons WHERE id NOT IN (SELECT bidder FROM bids WHERE price > 97)",
            "SELECT id, name FROM persons WHERE id NOT IN (SELECT bidder FROM bids WHERE price > 97)" },
        { "not_in_null_operand", "SELECT id, age FROM persons WHERE age NOT IN (SELECT category * 10 FROM auctions)",
            "SELECT id, age FROM persons WHERE age NOT IN (SELECT category * 10 FROM auctions)" },
        { "not_in_subquery_yielding_null", "SELECT COUNT(*) AS n FROM auctions WHERE category NOT IN (SELECT age FROM persons)",
            "SELECT COUNT(*) FROM auctions WHERE category NOT IN (SELECT age FROM persons)" },
        { "not_in_empty_subquery", "SELECT COUNT(*) AS n, COUNT(age) AS c FROM persons WHERE age NOT IN (SELECT age FROM persons WHERE id < 0)",
            "SELECT COUNT(*), COUNT(age) FROM persons WHERE age NOT IN (SELECT age FROM persons WHERE id < 0)" },
        { "exists_correlated", "SELECT a.id, a.seller FROM auctions a WHERE EXISTS (SELECT 1 FROM bids b WHERE b.auction = a.id AND b.price > 95)",
            "SELECT a.id, a.seller FROM auctions a WHERE EXISTS (SELECT 1 FROM bids b WHERE b.auction = a.id AND b.price > 95)" },
        { "not_exists_correlated", "SELECT p.id, p.state FROM persons p WHERE NOT EXISTS (SELECT * FROM auctions a WHERE a.seller = p.id AND a.reserve IS NOT NULL)",
            "SELECT p.id, p.state FROM persons p WHERE NOT EXISTS (SELECT * FROM auctions a WHERE a.seller = p.id AND a.reserve IS NOT NULL)" },
        { "in_correlated", "SELECT a.id FROM auctions a WHERE a.seller IN (SELECT b.bidder FROM bids b WHERE b.auction = a.id)",
            "SELECT a.id FROM auctions a WHERE a.seller IN (SELECT b.bidder FROM bids b WHERE b.auction = a.id)" },
        // Correlated NOT IN, and IN / EXISTS anywhere in a condition or the select list, in three-valued logic.
        { "not_in_correlated", "SELECT a.id, a.seller FROM auctions a WHERE a.seller NOT IN (SELECT b.bidder FROM bids b WHERE b.auction = a.id AND b.price > 60)",
            "SELECT a.id, a.seller FROM auctions a WHERE a.seller NOT IN (SELECT b.bidder FROM bids b WHERE b.auction = a.id AND b.price > 60)" },
        { "not_in_correlated_with_nulls", "SELECT p.id, p.age FROM persons p WHERE CAST(p.age AS DOUBLE) NOT IN (SELECT a.reserve FROM auctions a WHERE a.seller = p.id)",
            "SELECT p.id, p.age FROM persons p WHERE CAST(p.age AS DOUBLE PRECISION) NOT IN (SELECT a.reserve FROM auctions a WHERE a.seller = p.id)" },
        { "in_under_or", "SELECT auction, bidder, price FROM bids WHERE price > 99 OR bidder IN (SELECT id FROM persons WHERE state = 'OR' AND age > 60)",
            "SELECT auction, bidder, price FROM bids WHERE price > 99 OR bidder IN (SELECT id FROM persons WHERE state = 'OR' AND age > 60)" },
        { "exists_correlated_under_or", "SELECT p.id, p.age FROM persons p WHERE p.age < 25 OR EXISTS (SELECT 1 FROM auctions a WHERE a.seller = p.id AND a.category = 1)",
            "SELECT p.id, p.age FROM persons p WHERE p.age < 25 OR EXISTS (SELECT 1 FROM auctions a WHERE a.seller = p.id AND a.category = 1)" },
        { "not_in_under_or_is_null_aware", "SELECT id, age, state FROM persons WHERE NOT (age IN (SELECT category * 10 FROM auctions)) OR state = 'WA'",
            "SELECT id, age, state FROM persons WHERE NOT (age IN (SELECT category * 10 FROM auctions)) OR state = 'WA'" },
        { "not_exists_or_not_in_correlated", "SELECT a.id FROM auctions a WHERE NOT EXISTS (SELECT 1 FROM bids b WHERE b.auction = a.id AND b.channel = 'api') OR a.seller NOT IN (SELECT b.bidder FROM bids b WHERE b.auction = a.id)",
            "SELECT a.id FROM auctions a WHERE NOT EXISTS (SELECT 1 FROM bids b WHERE b.auction = a.id AND b.channel = 'api') OR a.seller NOT IN (SELECT b.bidder FROM bids b WHERE b.auction = a.id)" },
        { "in_and_exists_in_select_list", "SELECT p.id, p.age IN (SELECT a.category * 10 FROM auctions a) AS in_cat, EXISTS (SELECT 1 FROM auctions a WHERE a.seller = p.id) AS sells, CASE WHEN p.id IN (SELECT seller FROM auctions WHERE category = 2) THEN 'seller' ELSE 'other' END AS kind FROM persons p",
            "SELECT p.id, p.age IN (SELECT a.category * 10 FROM auctions a), EXISTS (SELECT 1 FROM auctions a WHERE a.seller = p.id), CASE WHEN p.id IN (SELECT seller FROM auctions WHERE category = 2) THEN 'seller' ELSE 'other' END FROM persons p" },
        { "cte_chain", "WITH spend AS (SELECT bidder, SUM(price) AS total FROM bids GROUP BY bidder), big AS (SELECT bidder, total FROM spend WHERE total > 5000) SELECT p.state, COUNT(*) AS n, MAX(b.total) AS top FROM big b JOIN persons p ON b.bidder = p.id GROUP BY p.state",
            "WITH spend AS (SELECT bidder, SUM(price) AS total FROM bids GROUP BY bidder), big AS (SELECT bidder, total FROM spend WHERE total > 5000) SELECT p.state, COUNT(*), MAX(b.total) FROM big b JOIN persons p ON b.bidder = p.id GROUP BY p.state" },
        { "right_join", "SELECT a.id, a.category, p.name FROM persons p RIGHT JOIN auctions a ON p.id = a.seller WHERE a.category <= 2",
            "SELECT a.id, a.category, p.name FROM persons p RIGHT JOIN auctions a ON p.id = a.seller WHERE a.category <= 2" },
        { "full_join", "SELECT p.id AS pid, p.state, a.id AS aid FROM persons p FULL OUTER JOIN auctions a ON p.id = a.seller",
            "SELECT p.id, p.state, a.id FROM persons p FULL OUTER JOIN auctions a ON p.id = a.seller" },
        { "left_join_on_right_condition", "SELECT a.id, p.name FROM auctions a LEFT JOIN persons p ON a.seller = p.id AND p.state = 'WA'",
            "SELECT a.id, p.name FROM auctions a LEFT JOIN persons p ON a.seller = p.id AND p.state = 'WA'" },
        { "join_int_with_bigint_key", "SELECT a.id, p.name FROM auctions a JOIN persons p ON a.category = p.id",
            "SELECT a.id, p.name FROM auctions a JOIN persons p ON a.category = p.id" },
        { "union_distinct", "SELECT seller AS k FROM auctions UNION SELECT id FROM persons WHERE age > 50", "SELECT seller FROM auctions UNION SELECT id FROM persons WHERE age > 50" },
        { "intersect", "SELECT bidder FROM bids WHERE price > 90 INTERSECT SELECT seller FROM auctions", "SELECT bidder FROM bids WHERE price > 90 INTERSECT SELECT seller FROM auctions" },
        { "except", "SELECT id FROM persons EXCEPT SELECT bidder FROM bids WHERE price > 97", "SELECT id FROM persons EXCEPT SELECT bidder FROM bids WHERE price > 97" },
        { "intersect_all", "SELECT auction FROM bids WHERE price > 50 INTERSECT ALL SELECT auction FROM bids WHERE channel = 'web'",
            "SELECT auction FROM bids WHERE price > 50 INTERSECT ALL SELECT auction FROM bids WHERE channel = 'web'" },
        { "except_all_with_nulls", "SELECT auction, channel FROM bids WHERE price > 30 EXCEPT ALL SELECT auction, channel FROM bids WHERE price < 70",
            "SELECT auction, channel FROM bids WHERE price > 30 EXCEPT ALL SELECT auction, channel FROM bids WHERE price < 70" },
        { "except_all_of_updating_input", "SELECT seller FROM auctions EXCEPT ALL SELECT bidder FROM (SELECT bidder, COUNT(*) AS n FROM bids GROUP BY bidder) WHERE n > 100",
            "SELECT seller FROM auctions EXCEPT ALL SELECT bidder FROM (SELECT bidder, COUNT(*) AS n FROM bids GROUP BY bidder) t WHERE n > 100" },
        { "values_join", "SELECT b.auction, v.label, COUNT(*) AS n FROM bids b JOIN (VALUES (1, 'one'), (2, 'two'), (3, 'three')) AS v(id, label) ON b.auction = v.id GROUP BY b.auction, v.label",
            "SELECT b.auction, v.label, COUNT(*) FROM bids b JOIN (VALUES (1, 'one'), (2, 'two'), (3, 'three')) AS v(id, label) ON b.auction = v.id GROUP BY b.auction, v.label" },
        { "scalar_subquery", "SELECT auction, bidder, price FROM bids WHERE price > (SELECT AVG(price) * 1.95 FROM bids)",
            "SELECT auction, bidder, price FROM bids WHERE price > (SELECT AVG(price) * 1.95 FROM bids)" },
        { "scalar_subquery_in_select", "SELECT auction, bidder, (SELECT COUNT(*) FROM persons WHERE age > 40) AS older, price + (SELECT MAX(reserve) FROM auctions) AS p FROM bids WHERE auction = 5",
            "SELECT auction, bidder, (SELECT COUNT(*) FROM persons WHERE age > 40), price + (SELECT MAX(reserve) FROM auctions) FROM bids WHERE auction = 5" },
        { "correlated_scalar_subquery", "SELECT b.auction, b.bidder, b.price FROM bids b WHERE b.price = (SELECT MAX(b2.price) FROM bids b2 WHERE b2.auction = b.auction AND b2.channel IS NOT NULL)",
            "SELECT b.auction, b.bidder, b.price FROM bids b WHERE b.price = (SELECT MAX(b2.price) FROM bids b2 WHERE b2.auction = b.auction AND b2.channel IS NOT NULL)" },
        // A key with no rows in a correlated scalar subquery: COUNT gives 0 (and expressions over it their empty-group value).
        { "correlated_count_empty_group", "SELECT p.id, (SELECT COUNT(*) FROM auctions a WHERE a.seller = p.id) AS n, (SELECT COUNT(a.reserve) + 1 FROM auctions a WHERE a.seller = p.id) AS r1 FROM persons p",
            "SELECT p.id, (SELECT COUNT(*) FROM auctions a WHERE a.seller = p.id), (SELECT COUNT(a.reserve) + 1 FROM auctions a WHERE a.seller = p.id) FROM persons p" },
        { "correlated_count_null_outer_key", "SELECT p.id, (SELECT COUNT(*) FROM auctions a WHERE a.category * 10 = p.age) AS n, (SELECT SUM(a.reserve) FROM auctions a WHERE a.category * 10 = p.age) AS s FROM persons p",
            "SELECT p.id, (SELECT COUNT(*) FROM auctions a WHERE a.category * 10 = p.age), (SELECT SUM(a.reserve) FROM auctions a WHERE a.category * 10 = p.age) FROM persons p" },
        { "correlated_count_zero_in_where", "SELECT p.id, p.name FROM persons p WHERE (SELECT COUNT(*) FROM bids b WHERE b.bidder = p.id AND b.price > 98) = 0",
            "SELECT p.id, p.name FROM persons p WHERE (SELECT COUNT(*) FROM bids b WHERE b.bidder = p.id AND b.price > 98) = 0" },
        { "correlated_coalesce_sum_empty_group", "SELECT a.id, (SELECT COALESCE(SUM(b.price), -1.0) FROM bids b WHERE b.auction = a.id AND b.price > 98.5) AS s FROM auctions a",
            "SELECT a.id, (SELECT COALESCE(SUM(b.price), -1.0) FROM bids b WHERE b.auction = a.id AND b.price > 98.5) FROM auctions a" },
        // Subqueries over a GROUP BY's result: in its select list and HAVING, correlated through a group key.
        { "scalar_subquery_in_aggregate_select", "SELECT auction, CAST(COUNT(*) AS DOUBLE) / (SELECT COUNT(*) FROM bids) AS share FROM bids GROUP BY auction",
            "SELECT auction, CAST(COUNT(*) AS DOUBLE PRECISION) / (SELECT COUNT(*) FROM bids) FROM bids GROUP BY auction" },
        { "scalar_subquery_in_having", "SELECT bidder, SUM(price) AS s FROM bids GROUP BY bidder HAVING SUM(price) > (SELECT AVG(price) * 110 FROM bids)",
            "SELECT bidder, SUM(price) FROM bids GROUP BY bidder HAVING SUM(price) > (SELECT AVG(price) * 110 FROM bids)" },
        { "correlated_subqueries_on_group_key", "SELECT b.auction, COUNT(*) AS n, (SELECT COUNT(*) FROM auctions a WHERE a.seller = b.auction) AS sold, b.auction IN (SELECT id FROM persons WHERE state = 'CA') AS ca FROM bids b GROUP BY b.auction",
            "SELECT b.auction, COUNT(*), (SELECT COUNT(*) FROM auctions a WHERE a.seller = b.auction), b.auction IN (SELECT id FROM persons WHERE state = 'CA') FROM bids b GROUP BY b.auction" },
        { "correlated_exists_in_having", "SELECT bidder, COUNT(*) AS n FROM bids GROUP BY bidder HAVING COUNT(*) > 110 OR EXISTS (SELECT 1 FROM auctions a WHERE a.seller = bids.bidder AND a.category = 5)",
            "SELECT bidder, COUNT(*) FROM bids GROUP BY bidder HAVING COUNT(*) > 110 OR EXISTS (SELECT 1 FROM auctions a WHERE a.seller = bids.bidder AND a.category = 5)" },
        { "empty_global_aggregate", "SELECT COUNT(*) AS n, SUM(price) AS s, MIN(channel) AS c FROM bids WHERE price > 1000", "SELECT COUNT(*), SUM(price), MIN(channel) FROM bids WHERE price > 1000" },
        { "global_aggregate_whose_rows_are_all_retracted", "SELECT COUNT(*) AS n, SUM(c) AS s FROM (SELECT auction, COUNT(*) AS c FROM bids GROUP BY auction) WHERE c < 2",
            "SELECT COUNT(*), SUM(c) FROM (SELECT auction, COUNT(*) AS c FROM bids GROUP BY auction) t WHERE c < 2" },
        { "order_by_limit_top_n", "SELECT bidder, price FROM bids WHERE channel = 'web' ORDER BY price DESC, bidder LIMIT 5", "SELECT bidder, price FROM bids WHERE channel = 'web' ORDER BY price DESC, bidder LIMIT 5" },
        { "hop_tvf_rows", "SELECT bidder, price, window_start, window_end FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '30' SECOND)) WHERE auction = 7",
            "SELECT bidder, price, w, w + 30000 FROM bids, LATERAL generate_series(ts_ms - MOD(ts_ms, 10000) - 20000, ts_ms - MOD(ts_ms, 10000), 10000) AS w WHERE auction = 7" },
        { "cumulate_tvf", "SELECT window_start, window_end, COUNT(*) AS n, SUM(price) AS s FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(ts), INTERVAL '20' SECOND, INTERVAL '1' MINUTE)) GROUP BY window_start, window_end",
            "SELECT ts_ms - MOD(ts_ms, 60000), e, COUNT(*), SUM(price) FROM bids, LATERAL generate_series(ts_ms - MOD(ts_ms, 60000) + 20000, ts_ms - MOD(ts_ms, 60000) + 60000, 20000) AS e WHERE e > ts_ms GROUP BY ts_ms - MOD(ts_ms, 60000), e" },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Streams_agrees_with_postgres(string name, string streamsSql, string postgresSql)
    {
        var result = _data.Runner.Run(Ddl + streamsSql + ";", parallelism: 2, name: name + ".sql");
        Assert.True(result.ExitCode == 0, $"streams failed ({result.ExitCode}): {result.Stderr}");
        var actual = result.Rows.Select(r => r.EnumerateObject().Select(p => FromJson(p.Value)).ToArray()).ToList();

        var expected = new List<object?[]>();
        using (var cmd = new NpgsqlCommand(postgresSql, _data.Connection))
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : FromPg(reader.GetValue(i));
                }

                expected.Add(row);
            }
        }

        Assert.True(expected.Count > 0, $"{name}: the reference query returned no rows, so it checks nothing");
        CompareMultisets(name, expected, actual);
    }

    private static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String when DateTimeOffset.TryParseExact(e.GetString(), ["yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.fffZ"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            => (double)t.ToUnixTimeMilliseconds(),
        _ => e.GetString(),
    };

    private static object? FromPg(object v) => v switch
    {
        DateTime dt => (double)new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)).ToUnixTimeMilliseconds(),
        string s => s,
        bool b => b,
        _ => Convert.ToDouble(v, CultureInfo.InvariantCulture),
    };

    private static string SortKey(object?[] row) =>
        string.Join("|", row.Select(v => v switch
        {
            null => "\u0000null",
            double d when d == Math.Floor(d) && Math.Abs(d) < 1e15 => d.ToString("R", CultureInfo.InvariantCulture),
            double d => d.ToString("G10", CultureInfo.InvariantCulture),
            _ => Convert.ToString(v, CultureInfo.InvariantCulture),
        }));

    private static void CompareMultisets(string name, List<object?[]> expected, List<object?[]> actual)
    {
        Assert.True(expected.Count == actual.Count, $"{name}: PostgreSQL returned {expected.Count} rows, streams {actual.Count}\nfirst streams rows: {string.Join("; ", actual.Take(5).Select(SortKey))}\nfirst postgres rows: {string.Join("; ", expected.Take(5).Select(SortKey))}");
        var e = expected.OrderBy(SortKey, StringComparer.Ordinal).ToArray();
        var a = actual.OrderBy(SortKey, StringComparer.Ordinal).ToArray();
        for (var i = 0; i < e.Length; i++)
        {
            Assert.True(e[i].Length == a[i].Length, $"{name}: column counts differ ({e[i].Length} vs {a[i].Length})");
            for (var c = 0; c < e[i].Length; c++)
            {
                var ok = (e[i][c], a[i][c]) switch
                {
                    (null, null) => true,
                    (double x, double y) => Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y))),
                    (var x, var y) => Equals(x, y),
                };
                Assert.True(ok, $"{name}: row {i} column {c}: postgres {SortKey(e[i])} vs streams {SortKey(a[i])}");
            }
        }
    }
}
