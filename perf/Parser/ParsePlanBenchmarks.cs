using BenchmarkDotNet.Attributes;
using Streams.Connectors;
using Streams.Engine.Connectors;
using Streams.Query;
using Streams.Query.Syntax;

namespace Streams.Perf.Parser;

/// <summary>
/// Parse, and parse + bind + optimise + plan, of Nexmark q5 (two hopping-window aggregates and a join): what a user
/// waits for between submitting a query and its first batch.
/// </summary>
[MemoryDiagnoser]
public class ParsePlanBenchmarks
{
    private const string Ddl = """
        CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, dateTime TIMESTAMP(3), extra VARCHAR,
            WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND) WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '1000');
        CREATE TABLE nexmark_q5 (auction BIGINT, num BIGINT) WITH ('connector' = 'blackhole');
        """;

    private const string Q5 = """
        INSERT INTO nexmark_q5
        SELECT AuctionBids.auction, AuctionBids.num
        FROM (
            SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
            FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
            GROUP BY auction, window_start, window_end
        ) AS AuctionBids
        JOIN (
            SELECT MAX(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
            FROM (
                SELECT COUNT(*) AS num, window_start AS starttime, window_end AS endtime
                FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
                GROUP BY auction, window_start, window_end
            ) AS CountBids
            GROUP BY CountBids.starttime, CountBids.endtime
        ) AS MaxBids
        ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime AND AuctionBids.num >= MaxBids.maxn;
        """;

    private readonly ConnectorRegistry _registry = ConnectorCatalog.RegisterAll(new ConnectorRegistry());

    [Benchmark]
    public int Parse() => SqlParser.ParseScript(Ddl + Q5).Count;

    [Benchmark]
    public int ParseBindPlan()
    {
        var session = new SqlSession(_registry, Path.GetTempPath(), new SqlSessionOptions { Parallelism = 2 });
        return session.Prepare(Ddl + Q5).Count;
    }
}
