using Streams.Engine.Data;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sinks;
using Streams.Engine.Runtime.Sources;

namespace Streams.Engine.Tests.Runtime;

public class JobGraphTests : PooledBatchTest
{
    private static readonly Schema Events = new([new Field("key", DataType.Int64), new Field("value", DataType.Int64), new Field("ts", DataType.Timestamp)], 2);

    private static List<object?[]> Rows(int from, int count) =>
        Enumerable.Range(from, count).Select(i => new object?[] { (long)(i % 7), (long)i, (long)i * 10 }).ToList();

    [Fact]
    public async Task Rows_flow_from_partitions_through_a_key_exchange_to_the_sink_with_every_key_in_one_task()
    {
        var graph = new JobGraph(new JobOptions { Parallelism = 3, Pool = Pool });
        var source = new InMemorySource(Events, [Rows(0, 500), Rows(500, 700)], batchSize: 64, pool: Pool);
        var tasksPerKey = new Dictionary<long, HashSet<int>>();
        var sink = new CollectingSink();
        graph.Source("events", source, Events)
            .KeyBy(0)
            .Apply("tag", Events, task => new TaskTagOperator(task, tasksPerKey))
            .To(sink);

        var job = graph.Build();
        await job.RunAsync();

        Assert.Equal(1200, sink.Rows.Count);
        Assert.Equal(Enumerable.Range(0, 1200).Select(i => (long)i), sink.Rows.Select(r => (long)r[1]!).Order());
        Assert.All(tasksPerKey.Values, tasks => Assert.Single(tasks));
        Assert.Equal(1200, job.Metrics["events"].RecordsOut);
        Assert.Equal(1200, job.Metrics["tag"].RecordsIn);
        Assert.Equal(long.MaxValue, job.Metrics["tag"].Watermark);
    }

    [Fact]
    public async Task A_stream_branched_to_three_consumers_gives_each_of_them_every_row_once()
    {
        var graph = new JobGraph(new JobOptions { Parallelism = 3, Pool = Pool });
        var shared = graph.Source("events", new InMemorySource(Events, [Rows(0, 500), Rows(500, 700)], batchSize: 64, pool: Pool), Events);
        var (chained, keyed, rebalanced) = (new CollectingSink(), new CollectingSink(), new CollectingSink());
        var tasksPerKey = new Dictionary<long, HashSet<int>>();
        // One consumer that would otherwise chain into the source's tasks, one behind a key exchange, one round-robin.
        shared.Branch().Apply("same-tasks", Events, task => new TaskTagOperator(task, [])).To(chained);
        shared.Branch().KeyBy(0).Apply("by-key", Events, task => new TaskTagOperator(task, tasksPerKey)).To(keyed);
        shared.Branch().Rebalance().Apply("spread", Events, task => new TaskTagOperator(task, [])).To(rebalanced);

        var job = graph.Build();
        await job.RunAsync();

        var all = Enumerable.Range(0, 1200).Select(i => (long)i).ToList();
        Assert.Equal(all, chained.Rows.Select(r => (long)r[1]!).Order());
        Assert.Equal(all, keyed.Rows.Select(r => (long)r[1]!).Order());
        Assert.Equal(all, rebalanced.Rows.Select(r => (long)r[1]!).Order());
        Assert.All(tasksPerKey.Values, tasks => Assert.Single(tasks));
        Assert.Equal(long.MaxValue, job.Metrics["same-tasks"].Watermark);
    }

    [Fact]
    public async Task A_failing_operator_fails_the_job_with_its_name_and_returns_every_batch()
    {
        var graph = new JobGraph(new JobOptions { Parallelism = 2, Pool = Pool });
        graph.Source("events", new InMemorySource(Events, [Rows(0, 5000)], batchSize: 64, pool: Pool), Events)
            .KeyBy(0)
            .Apply("explode", Events, _ => new ThrowingOperator())
            .To(new CollectingSink());

        var error = await Assert.ThrowsAsync<JobExecutionException>(() => graph.Build().RunAsync());
        Assert.Contains("'explode'", error.Message, StringComparison.Ordinal);
    }

    private sealed class TaskTagOperator(int task, Dictionary<long, HashSet<int>> seen) : global::Streams.Engine.Operators.IOperator
    {
        public void OnBatch(ColumnBatch batch, global::Streams.Engine.Operators.IOperatorOutput output)
        {
            lock (seen)
            {
                var keys = batch.ColumnAt<long>(0).Values;
                for (var i = 0; i < batch.Count; i++)
                {
                    if (!seen.TryGetValue(keys[i], out var set))
                    {
                        seen[keys[i]] = set = [];
                    }

                    set.Add(task);
                }
            }

            output.Emit(batch);
        }
    }

    private sealed class ThrowingOperator : global::Streams.Engine.Operators.IOperator
    {
        public void OnBatch(ColumnBatch batch, global::Streams.Engine.Operators.IOperatorOutput output)
        {
            batch.Dispose();
            throw new InvalidOperationException("boom");
        }
    }
}
