using Streams.Engine.Connectors;
using Streams.Query.Planning;

namespace Streams.Query.Tests.Planning;

/// <summary>
/// Window attributes (Flink's window properties): window_start/window_end of a window stay time attributes through
/// projections and renames, so grouping by them again is a window aggregate and joining on both is a window join.
/// </summary>
public class WindowPropertyTests
{
    private const string Ddl = """
        CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, dateTime TIMESTAMP(3),
            WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND) WITH ('connector' = 'planning-only');
        CREATE TABLE person (id BIGINT, name VARCHAR, dateTime TIMESTAMP(3),
            WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND) WITH ('connector' = 'planning-only');
        """;

    private const string HotItems = """
        SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
        FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
        GROUP BY auction, window_start, window_end
        """;

    [Fact]
    public void Grouping_a_windowed_result_by_its_renamed_window_bounds_is_a_window_aggregate_not_a_changelog()
    {
        var plan = Plan($"SELECT MAX(num) AS maxn, starttime, endtime FROM ({HotItems}) GROUP BY starttime, endtime");
        var aggregates = Nodes<AggregateNode>(plan);
        Assert.Equal(2, aggregates.Count);
        Assert.All(aggregates, a => Assert.NotNull(a.Window));
        Assert.Equal("HOP", aggregates[0].Window!.Regroups!.Kind);
        Assert.False(plan.IsUpdating);

        // The result still carries the HOP windows, at the renamed columns.
        Assert.Equal(new WindowAttributes(1, 2, aggregates[1].Window!), plan.WindowColumns);
    }

    [Fact]
    public void Grouping_by_only_one_window_bound_or_a_computed_one_stays_a_changelog_aggregate()
    {
        var plan = Plan($"SELECT MAX(num) AS maxn, starttime FROM ({HotItems}) GROUP BY starttime");
        Assert.Contains(Nodes<AggregateNode>(plan), a => a.Window is null);
        Assert.True(plan.IsUpdating);
    }

    [Fact]
    public void Joining_two_windowed_results_on_both_bounds_is_a_window_join_and_append_only()
    {
        // num * 2 >= maxn is not "at the maximum": it stays a join.
        var plan = Plan($"""
            SELECT A.auction, A.num FROM ({HotItems}) A
            JOIN (SELECT MAX(num) AS maxn, starttime, endtime FROM ({HotItems}) GROUP BY starttime, endtime) M
            ON A.starttime = M.starttime AND A.endtime = M.endtime AND A.num * 2 >= M.maxn
            """);
        var join = Assert.Single(Nodes<JoinNode>(plan));
        Assert.True(join.IsWindowJoin);
        Assert.False(plan.IsUpdating);
    }

    [Theory]
    [InlineData("A.num >= M.maxn")]
    [InlineData("M.maxn <= A.num")]
    [InlineData("A.num = M.maxn")]
    public void Joining_a_windowed_result_to_its_own_maximum_per_window_keeps_the_rows_at_the_maximum_without_a_join(string atMax)
    {
        // Nexmark q5: the rows at their window's maximum, computed over one window aggregate, partitioned by window.
        var plan = Plan($"""
            SELECT A.auction, A.num, M.maxn, M.endtime FROM ({HotItems}) A
            JOIN (SELECT MAX(num) AS maxn, starttime, endtime FROM ({HotItems}) GROUP BY starttime, endtime) M
            ON A.starttime = M.starttime AND A.endtime = M.endtime AND {atMax}
            """);
        Assert.Empty(Nodes<JoinNode>(plan));
        var prune = Assert.Single(Nodes<WindowMaxPruneNode>(plan));
        Assert.Equal((2000, 1), (prune.SizeMs, prune.OffsetMs));
        Assert.Equal("endtime", prune.Input.Schema[prune.TimeColumn].Name);
        Assert.Equal(prune.TimeColumn, prune.PartitionColumn);
        Assert.Equal("num", prune.Input.Schema[prune.ValueColumn].Name);
        Assert.Equal("HOP", Assert.Single(Nodes<AggregateNode>(plan)).Window!.Kind);
        Assert.False(plan.IsUpdating);
    }

    [Theory]
    [InlineData("A.num <= M.maxn", "MAX(num)", "")]
    [InlineData("A.num >= M.maxn", "MIN(num)", "")]
    [InlineData("A.num >= M.maxn", "MAX(num)", "WHERE num > 1")]
    public void The_maximum_of_other_rows_or_another_comparison_stays_a_window_join(string condition, string aggregate, string where)
    {
        var plan = Plan($"""
            SELECT A.auction, A.num FROM ({HotItems}) A
            JOIN (SELECT {aggregate} AS maxn, starttime, endtime FROM ({HotItems}) {where} GROUP BY starttime, endtime) M
            ON A.starttime = M.starttime AND A.endtime = M.endtime AND {condition}
            """);
        Assert.True(Assert.Single(Nodes<JoinNode>(plan)).IsWindowJoin);
        Assert.Empty(Nodes<WindowMaxPruneNode>(plan));
    }

    [Fact]
    public void Tumbling_window_aggregates_joined_on_key_and_window_are_a_window_join()
    {
        var plan = Plan("""
            SELECT P.id FROM
              (SELECT id, window_start AS s, window_end AS e FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY id, window_start, window_end) P
            JOIN
              (SELECT bidder, window_start AS s, window_end AS e FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY bidder, window_start, window_end) B
            ON P.id = B.bidder AND P.s = B.s AND P.e = B.e
            """);
        Assert.True(Assert.Single(Nodes<JoinNode>(plan)).IsWindowJoin);
    }

    [Fact]
    public void Windows_of_different_sizes_or_only_one_bound_equated_give_a_regular_join()
    {
        const string Tumble10 = "SELECT id, window_start AS s, window_end AS e FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY id, window_start, window_end";
        const string Tumble5 = "SELECT bidder, window_start AS s, window_end AS e FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '5' SECOND)) GROUP BY bidder, window_start, window_end";
        const string Tumble10Bids = "SELECT bidder, window_start AS s, window_end AS e FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY bidder, window_start, window_end";
        Assert.False(Assert.Single(Nodes<JoinNode>(Plan($"SELECT P.id FROM ({Tumble10}) P JOIN ({Tumble5}) B ON P.id = B.bidder AND P.s = B.s AND P.e = B.e"))).IsWindowJoin);
        Assert.False(Assert.Single(Nodes<JoinNode>(Plan($"SELECT P.id FROM ({Tumble10}) P JOIN ({Tumble10Bids}) B ON P.id = B.bidder AND P.s = B.s"))).IsWindowJoin);
    }

    [Fact]
    public void The_highest_bid_per_window_joined_back_to_the_bids_becomes_a_window_max_prune()
    {
        var plan = Plan("""
            SELECT B.auction, B.price, B.dateTime FROM bid B
            JOIN (SELECT MAX(price) AS maxprice, window_end AS dateTime
                  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY window_start, window_end) B1
            ON B.price = B1.maxprice
            WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime
            """);
        var prune = Assert.Single(Nodes<WindowMaxPruneNode>(plan));
        Assert.Equal(10_000, prune.SizeMs);
        Assert.Empty(Nodes<JoinNode>(plan));

        // Another range than the window (or MAX of another column) is not the same question: it stays a join.
        var other = Plan("""
            SELECT B.auction FROM bid B
            JOIN (SELECT MAX(price) AS maxprice, window_end AS dateTime
                  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY window_start, window_end) B1
            ON B.price = B1.maxprice
            WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '5' SECOND AND B1.dateTime
            """);
        Assert.Empty(Nodes<WindowMaxPruneNode>(other));
        Assert.Single(Nodes<JoinNode>(other));
    }

    private static LogicalNode Plan(string query)
    {
        var session = new SqlSession(new ConnectorRegistry().Register(new PlanningOnly()), Directory.GetCurrentDirectory());
        session.Prepare(Ddl);
        return session.Prepare(query).Single().Plan!;
    }

    private static List<T> Nodes<T>(LogicalNode node)
        where T : LogicalNode
    {
        var found = new List<T>();
        Visit(node);
        return found;

        void Visit(LogicalNode n)
        {
            if (n is T t)
            {
                found.Add(t);
            }

            foreach (var input in n.Inputs)
            {
                Visit(input);
            }
        }
    }

    /// <summary>Lets the DDL declare tables; these tests only plan, never run.</summary>
    private sealed class PlanningOnly : IConnectorFactory
    {
        public string Name => "planning-only";

        public ISourceConnector CreateSource(ConnectorContext context) => throw new NotSupportedException();

        public ISinkConnector CreateSink(ConnectorContext context) => throw new NotSupportedException();
    }
}
