using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sinks;
using Streams.Engine.Runtime.Sources;
using Streams.Engine.Tests.Operators;

namespace Streams.Engine.Tests.Runtime;

public class WatermarkTests : PooledBatchTest
{
    private static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return condition();
    }

    private async Task<(Task Run, CollectingSink Sink, Job Job)> StartAsync(TimeSpan? idleTimeout, TaskCompletionSource release)
    {
        var active = Enumerable.Range(0, 50).Select(i => new object?[] { 1L, 1L, i * 100L }).ToList();
        var graph = new JobGraph(new JobOptions { Parallelism = 2, Pool = Pool });
        var source = new InMemorySource(WindowTestKit.Events, [active, []], 16, Pool, holdOpenUntil: release.Task);
        var sink = new CollectingSink();
        graph.Source("events", source, WindowTestKit.Events, new WatermarkStrategy(2, 0, idleTimeout))
            .KeyBy(0)
            .WindowAggregate(new WindowAggregateSpec(2, WindowSpec.Tumble(1000), [0], [AggregateSpec.CountStar("n")]))
            .To(sink);
        var job = graph.Build();
        await Task.Yield();
        return (job.RunAsync(), sink, job);
    }

    [Fact]
    public async Task An_idle_partition_stops_holding_back_the_watermark()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (run, sink, job) = await StartAsync(TimeSpan.FromMilliseconds(100), release);

        // Partition 1 never sends a row; with idleness, partition 0's watermark (4899) fires windows up to [3000,4000).
        var fired = await EventuallyAsync(() => sink.Rows.Count >= 4, TimeSpan.FromSeconds(10));
        var whileRunning = sink.Rows.Select(r => (long)r[1]!).Order().ToList();
        release.SetResult();
        await run;

        Assert.True(fired, "windows did not fire while a partition was idle");
        Assert.Equal([0L, 1000L, 2000L, 3000L], whileRunning);
        Assert.Equal(5, sink.Rows.Count);
        Assert.Equal(long.MaxValue, job.Metrics["window"].Watermark);
    }

    [Fact]
    public async Task Without_idleness_a_silent_partition_holds_the_watermark_until_it_ends()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (run, sink, job) = await StartAsync(null, release);
        await EventuallyAsync(() => job.Metrics["events"].RecordsOut == 50, TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        var whileRunning = sink.Rows.Count;
        release.SetResult();
        await run;

        Assert.Equal(0, whileRunning);
        Assert.Equal(5, sink.Rows.Count);
    }

    [Fact]
    public async Task Rows_with_null_or_out_of_range_event_time_go_to_dead_letters_with_their_offset()
    {
        var rows = new List<object?[]> { new object?[] { 1L, 1L, 10L }, new object?[] { 1L, 2L, null }, new object?[] { 1L, 3L, long.MaxValue - 5 }, new object?[] { 1L, 4L, 20L } };
        var graph = new JobGraph(new JobOptions { Parallelism = 1, Pool = Pool });
        var sink = new CollectingSink();
        graph.Source("events", new InMemorySource(WindowTestKit.Events, [rows], 8, Pool), WindowTestKit.Events, new WatermarkStrategy(2, 0))
            .WindowAggregate(new WindowAggregateSpec(2, WindowSpec.Tumble(1000), [0], [AggregateSpec.Sum(1, "s")]))
            .To(sink);
        var job = graph.Build();
        await job.RunAsync();

        Assert.Equal(["+I[1, 0, 1000, 5]"], sink.Rows.Select(r => r.ToString()));
        Assert.Equal(2, job.Metrics.Errors);
        Assert.Collection(job.DeadLetters.OrderBy(d => d.Location, StringComparer.Ordinal),
            d => { Assert.Equal("events partition 0 @ offset 1", d.Location); Assert.Contains("NULL", d.Reason, StringComparison.Ordinal); },
            d => { Assert.Equal("events partition 0 @ offset 2", d.Location); Assert.Contains("outside", d.Reason, StringComparison.Ordinal); Assert.Contains("value=3", d.Raw, StringComparison.Ordinal); });
    }
}
