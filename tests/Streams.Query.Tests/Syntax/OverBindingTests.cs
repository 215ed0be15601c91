using Streams.Engine.Connectors;
using Streams.Query.Syntax;

namespace Streams.Query.Tests.Syntax;

/// <summary>OVER aggregates that break Flink's streaming rules are rejected at the offending spot, with the reason.</summary>
public class OverBindingTests
{
    private const string Ddl = """
        CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'fake');
        CREATE STREAM raw (k BIGINT, v BIGINT, t TIMESTAMP(3)) WITH (connector = 'fake');
        """;

    [Theory]
    [InlineData("SELECT SUM(price) OVER (PARTITION BY auction ORDER BY ts DESC) FROM bids", "not supported: OVER windows ordered descending", 55)]
    [InlineData("SELECT SUM(price) OVER (PARTITION BY auction) FROM bids", "OVER aggregates need ORDER BY", 19)]
    [InlineData("SELECT SUM(v) OVER (ORDER BY t) FROM raw", "OVER windows must be ordered by the time attribute (this input has none", 30)]
    [InlineData("SELECT SUM(price) OVER (ORDER BY ts ROWS BETWEEN INTERVAL '1' SECOND PRECEDING AND CURRENT ROW) FROM bids", "ROWS frames take a non-negative integer", 50)]
    [InlineData("SELECT SUM(price) OVER (ORDER BY ts RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) FROM bids", "RANGE frames over a time attribute take a non-negative INTERVAL", 51)]
    [InlineData("SELECT SUM(price) OVER (ORDER BY ts ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM bids", "not supported: OVER ROWS frames starting at FOLLOWING", 50)]
    [InlineData("SELECT auction, SUM(price) OVER (ORDER BY ts) FROM bids GROUP BY auction", "not supported: OVER aggregates together with GROUP BY", 17)]
    [InlineData("SELECT COUNT(DISTINCT bidder) OVER (ORDER BY ts) FROM bids", "not supported: COUNT(DISTINCT ...) OVER", 8)]
    [InlineData("SELECT MIN(channel) OVER (ORDER BY ts) FROM bids", "not supported: MIN OVER of VARCHAR", 12)]
    [InlineData("SELECT SUM(price) OVER (ORDER BY ts), ROW_NUMBER() OVER (ORDER BY ts) FROM bids", "not supported: ROW_NUMBER() OVER together with OVER aggregates", 39)]
    [InlineData("SELECT n FROM (SELECT auction, COUNT(*) AS n FROM bids GROUP BY auction) WHERE n > SUM(n) OVER (ORDER BY n)", "not supported: SUM() OVER here", 84)]
    [InlineData("SELECT SUM(x) OVER (ORDER BY ts) FROM (SELECT auction AS x, ts FROM bids GROUP BY auction, ts)", "not supported: OVER aggregates over an updating input", 8)]
    [InlineData("SELECT SUM(price) OVER w FROM bids WINDOW w AS (v PARTITION BY auction ORDER BY ts)", "not supported: a window that refines another named window", 49)]
    public void Rule_breaking_OVER_aggregates_are_rejected_at_their_position(string sql, string message, int column)
    {
        var session = new SqlSession(new ConnectorRegistry().Register(new FakeConnector()), Path.GetTempPath());
        session.Prepare(Ddl);
        var ex = Assert.Throws<SqlException>(() => session.Prepare(sql));
        Assert.StartsWith(message, ex.Message);
        Assert.Equal(new SourcePosition(1, column), ex.Position);
    }

    [Fact]
    public void Several_aggregates_over_one_named_window_share_one_operator()
    {
        var session = new SqlSession(new ConnectorRegistry().Register(new FakeConnector()), Path.GetTempPath());
        session.Prepare(Ddl);
        var plan = session.Prepare("EXPLAIN SELECT auction, AVG(price) OVER w, MAX(price) OVER w, price - MIN(price) OVER (PARTITION BY auction ORDER BY ts ROWS 2 PRECEDING) FROM bids WINDOW w AS (PARTITION BY auction ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)");
        var text = Assert.Single(plan).Text!;
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "OverAggregate \\["));
        Assert.Contains("aggs=AVG(price), MAX(price), MIN(price)", text);
    }

    private sealed class FakeConnector : IConnectorFactory
    {
        public string Name => "fake";

        public ISourceConnector CreateSource(ConnectorContext context) => throw new NotSupportedException();

        public ISinkConnector CreateSink(ConnectorContext context) => throw new NotSupportedException();
    }
}
