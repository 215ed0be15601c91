using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sinks;
using Streams.Engine.Runtime.Sources;

namespace Streams.Engine.Tests.Operators;

/// <summary>Runs window aggregates over in-memory events (key BIGINT, value BIGINT, ts TIMESTAMP) and returns sorted rows.</summary>
internal static class WindowTestKit
{
    public static readonly Schema Events = new([new Field("key", DataType.Int64), new Field("value", DataType.Int64), new Field("ts", DataType.Timestamp)], 2);

    /// <summary>With AVG the window runs in one phase after the exchange; without it, local pre-aggregation + global merge.</summary>
    public static readonly AggregateSpec[] Aggregates =
    [
        AggregateSpec.CountStar("n"), AggregateSpec.Sum(1, "total"), AggregateSpec.Min(1, "lo"), AggregateSpec.Max(1, "hi"), AggregateSpec.Avg(1, "mean"),
    ];

    public static readonly AggregateSpec[] MergeableAggregates = Aggregates[..4];

    public sealed record Result(List<string> Rows, List<string> Late, Job Job);

    public static async Task<Result> RunAsync(BatchPool pool, IReadOnlyList<IReadOnlyList<object?[]>> partitions, WindowSpec window, long delayMs, int parallelism, long allowedLateness = 0, int batchSize = 37, bool twoPhase = false)
    {
        var graph = new JobGraph(new JobOptions { Parallelism = parallelism, Pool = pool, BatchSize = 256 });
        var source = new InMemorySource(Events, partitions, batchSize, pool);
        var spec = new WindowAggregateSpec(2, window, [0], twoPhase ? MergeableAggregates : Aggregates, allowedLateness);
        var results = graph.Source("events", source, Events, new WatermarkStrategy(2, delayMs))
            .KeyBy(0)
            .WindowAggregate(spec, out var lateTag);
        var sink = new CollectingSink();
        var lateSink = new CollectingSink();
        results.To(sink);
        results.SideOutput(lateTag).To(lateSink);
        var job = graph.Build();
        await job.RunAsync();
        return new Result(
            sink.Rows.Select(r => r.ToString()).Order(StringComparer.Ordinal).ToList(),
            lateSink.Rows.Select(r => r.ToString()).Order(StringComparer.Ordinal).ToList(),
            job);
    }

    public static string Row(long key, long start, long end, IReadOnlyCollection<long> values, bool twoPhase = false) =>
        new CollectedRow(RowKind.Insert, twoPhase
            ? [key, start, end, (long)values.Count, values.Sum(), values.Min(), values.Max()]
            : [key, start, end, (long)values.Count, values.Sum(), values.Min(), values.Max(), values.Sum() / values.Count]).ToString();
}
