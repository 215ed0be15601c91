using System.Globalization;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>
/// Two SESSION window aggregates joined on their key and both window bounds run as a window join that frees each
/// session when the watermark reaches its end; its rows must be exactly those of one aggregate computing both values.
/// </summary>
public sealed class SessionWindowJoinTests
{
    private const string Ddl = """
        CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
          WITH (connector = 'file', path = 'bids.ndjson', format = 'json');

        """;

    private static string Sessions(string aggregate) => $"""
        SELECT bidder, window_start, window_end, {aggregate}
        FROM TABLE(SESSION(TABLE bids PARTITION BY bidder, DESCRIPTOR(ts), INTERVAL '3' SECOND))
        GROUP BY bidder, window_start, window_end
        """;

    [Fact]
    public void Joining_two_session_aggregates_on_key_and_bounds_gives_the_rows_of_one_aggregate()
    {
        using var run = new SqlRunner();
        run.WriteLines("bids.ndjson", Bids(4000));
        var joined = run.Run(Ddl + $"""
            SELECT C.bidder, C.window_start, C.window_end, C.n, S.total
            FROM ({Sessions("COUNT(*) AS n")}) C
            JOIN ({Sessions("SUM(price) AS total")}) S
            ON C.bidder = S.bidder AND C.window_start = S.window_start AND C.window_end = S.window_end;
            """);
        var single = run.Run(Ddl + Sessions("COUNT(*) AS n, SUM(price) AS total") + ";");

        Assert.True(joined.ExitCode == 0, joined.Stderr);
        Assert.True(single.Lines.Length > 50, $"only {single.Lines.Length} sessions: {single.Stderr}");
        Assert.Equal(single.Lines.Order(StringComparer.Ordinal), joined.Lines.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("late", joined.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Bids of 17 bidders, 10-2,000 ms apart per bidder (sessions of 3 s gap open and close), slightly out of order.</summary>
    private static IEnumerable<string> Bids(int count)
    {
        const long Start = 1_704_067_200_000;
        var ts = Start;
        for (var i = 0; i < count; i++)
        {
            ts += i % 97 == 0 ? 4_000 : (i * 13 % 50) * 10;
            var price = ((i * 31 % 997) / 10.0).ToString("R", CultureInfo.InvariantCulture);
            yield return $$"""{"auction": {{i % 11}}, "bidder": {{i * 7 % 17}}, "price": {{price}}, "ts": {{ts - (i % 3 * 200)}}}""";
        }
    }
}
