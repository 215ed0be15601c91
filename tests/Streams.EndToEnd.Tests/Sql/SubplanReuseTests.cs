using System.Globalization;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>
/// Sub-plan reuse: a subtree the plan uses twice runs once and fans its rows out to both consumers. Every query here
/// must print the same rows with reuse as with <c>SET 'table.optimizer.reuse-sub-plan-enabled' = 'false'</c>, and its
/// EXPLAIN must show the reuse only when it is on.
/// </summary>
public sealed class SubplanReuseTests
{
    private const string Off = "SET 'table.optimizer.reuse-sub-plan-enabled' = 'false';\n";

    private const string Ddl = """
        CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
          WITH (connector = 'file', path = 'bids.ndjson', format = 'json');

        """;

    private const string Counts = """
        SELECT auction, window_start, window_end, COUNT(*) AS n
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        GROUP BY auction, window_start, window_end
        """;

    private const string HotCounts = """
        SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
        FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
        GROUP BY auction, window_start, window_end
        """;

    public static TheoryData<string, string> Queries => new()
    {
        {
            "window aggregate joined with its own per-window total",
            $"""
            SELECT A.auction, A.window_start, A.n, T.total FROM ({Counts}) A
            JOIN (SELECT window_start, window_end, SUM(n) AS total FROM ({Counts}) GROUP BY window_start, window_end) T
            ON A.window_start = T.window_start AND A.window_end = T.window_end
            """
        },
        {
            "hopping counts joined with half their per-window maximum",
            $"""
            SELECT A.auction, A.num, A.endtime FROM ({HotCounts}) A
            JOIN (SELECT MAX(num) AS maxn, starttime, endtime FROM ({HotCounts}) GROUP BY starttime, endtime) M
            ON A.starttime = M.starttime AND A.endtime = M.endtime AND A.num * 2 >= M.maxn
            """
        },
        {
            "one window aggregate twice in a union",
            $"SELECT auction, n FROM ({Counts}) WHERE n > 3 UNION ALL SELECT auction, n FROM ({Counts}) WHERE n <= 3"
        },
        {
            "one scan on both sides of a window self-join over TUMBLE",
            """
            SELECT a.auction, a.bidder, b.bidder AS other, a.window_start
            FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) a
            JOIN TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) b
            ON a.auction = b.auction AND a.window_start = b.window_start AND a.window_end = b.window_end
            """
        },
        {
            "one scan on both sides of an interval self-join",
            """
            SELECT a.auction, a.bidder, b.bidder AS next_bidder FROM bids a JOIN bids b
            ON a.auction = b.auction AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '1' SECOND
            """
        },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void A_reused_subplan_gives_the_rows_of_the_plan_that_computes_it_twice(string what, string query)
    {
        using var run = new SqlRunner();
        run.WriteLines("bids.ndjson", Bids(3000));

        var shared = run.Run(Ddl + query + ";");
        var separate = run.Run(Off + Ddl + query + ";");

        Assert.True(shared.ExitCode == 0, $"{what}: {shared.Stderr}");
        Assert.True(separate.ExitCode == 0, $"{what}: {separate.Stderr}");
        Assert.True(separate.Lines.Length > 10, $"{what}: only {separate.Lines.Length} rows");
        Assert.Equal(separate.Lines.Order(StringComparer.Ordinal), shared.Lines.Order(StringComparer.Ordinal));

        var explain = run.Run(Ddl + "EXPLAIN " + query + ";").Stdout;
        Assert.Contains("Reused [reference_id=1]", explain, StringComparison.Ordinal);
        Assert.Contains("reuse_id=1", explain, StringComparison.Ordinal);
        Assert.DoesNotContain("reuse", run.Run(Off + Ddl + "EXPLAIN " + query + ";").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_at_their_windows_maximum_found_without_a_join_are_the_rows_the_join_finds()
    {
        // "num >= maxn" becomes a WindowMaxPrune; "num * 2 >= maxn * 2" asks the same but stays a window join.
        using var run = new SqlRunner();
        run.WriteLines("bids.ndjson", Bids(3000));
        string Query(string condition, string explain = "") => Ddl + explain + $"""
            SELECT A.auction, A.num, A.starttime, M.maxn FROM ({HotCounts}) A
            JOIN (SELECT MAX(num) AS maxn, starttime, endtime FROM ({HotCounts}) GROUP BY starttime, endtime) M
            ON A.starttime = M.starttime AND A.endtime = M.endtime AND {condition};
            """;

        Assert.Contains("WindowMaxPrune", run.Run(Query("A.num >= M.maxn", "EXPLAIN ")).Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("WindowMaxPrune", run.Run(Query("A.num * 2 >= M.maxn * 2", "EXPLAIN ")).Stdout, StringComparison.Ordinal);
        var pruned = run.Run(Query("A.num >= M.maxn"));
        var joined = run.Run(Query("A.num * 2 >= M.maxn * 2"));
        Assert.True(pruned.ExitCode == 0, pruned.Stderr);
        Assert.True(joined.Lines.Length > 10, $"only {joined.Lines.Length} rows: {joined.Stderr}");
        Assert.Equal(joined.Lines.Order(StringComparer.Ordinal), pruned.Lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Setting_reuse_to_something_other_than_true_or_false_is_an_error_at_the_set()
    {
        using var run = new SqlRunner();
        var result = run.Run(Ddl + "SET 'table.optimizer.reuse-sub-plan-enabled' = 'maybe';\nSELECT auction FROM bids;");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("'true' or 'false', not 'maybe'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("line 3, column 1", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Bids 37 ms apart (about 111 s of event time), slightly out of order, over 13 auctions.</summary>
    private static IEnumerable<string> Bids(int count)
    {
        const long Start = 1_704_067_200_000;
        for (var i = 0; i < count; i++)
        {
            var ts = Start + (i * 37L) - (i % 5 * 300);
            var auction = (i * 7 % 13) + (i % 4 == 0 ? 0 : 1);
            var price = ((i * 31 % 997) / 10.0).ToString("R", CultureInfo.InvariantCulture);
            yield return $$"""{"auction": {{auction}}, "bidder": {{i % 29}}, "price": {{price}}, "ts": {{ts}}}""";
        }
    }
}
