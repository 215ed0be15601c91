using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sinks;
using Streams.Engine.Runtime.Sources;

namespace Streams.Engine.Tests.Operators;

public class BadInputTests : PooledBatchTest
{
    private static readonly Schema Readings = new([new Field("sensor", DataType.String), new Field("big", DataType.Int64), new Field("ratio", DataType.Double), new Field("ts", DataType.Timestamp)], 3);

    private async Task<(List<string> Rows, Job Job)> RunAsync(List<object?[]> rows, Func<DataStream, DataStream> pipeline)
    {
        var graph = new JobGraph(new JobOptions { Parallelism = 2, Pool = Pool });
        var sink = new CollectingSink();
        pipeline(graph.Source("readings", new InMemorySource(Readings, [rows], 4, Pool), Readings, new WatermarkStrategy(3, 0))).To(sink);
        var job = graph.Build();
        await job.RunAsync();
        return (sink.Rows.Select(r => r.ToString()).Order(StringComparer.Ordinal).ToList(), job);
    }

    [Fact]
    public async Task Null_keys_form_their_own_group_and_sum_overflow_and_nan_rows_are_dead_lettered()
    {
        var rows = new List<object?[]>
        {
            new object?[] { "a", long.MaxValue - 1, 1.5, 10L },
            new object?[] { "a", 5L, double.NaN, 20L },
            new object?[] { null, 1L, 2.0, 30L },
            new object?[] { null, 2L, 0.5, 40L },
            new object?[] { "b", null, null, 50L },
        };
        var spec = new WindowAggregateSpec(3, WindowSpec.Tumble(1000), [0], [AggregateSpec.CountStar("n"), AggregateSpec.Sum(1, "s"), AggregateSpec.Sum(2, "r")]);
        var (result, job) = await RunAsync(rows, s => s.KeyBy(0).WindowAggregate(spec));

        Assert.Equal(
            new[] { "+I[a, 0, 1000, 2, 9223372036854775806, 1.5]", "+I[b, 0, 1000, 1, NULL, NULL]", "+I[NULL, 0, 1000, 2, 3, 2.5]" }.Order(StringComparer.Ordinal),
            result);
        Assert.Equal(2, job.Metrics.Errors);
        Assert.Contains(job.DeadLetters, d => d.Reason.Contains("SUM(big) overflows BIGINT", StringComparison.Ordinal) && d.Raw.Contains("big=5", StringComparison.Ordinal));
        Assert.Contains(job.DeadLetters, d => d.Reason.Contains("SUM(ratio) got NaN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sum_overflow_on_the_fused_bigint_key_path_dead_letters_the_row_and_count_still_takes_it()
    {
        // One BIGINT key with COUNT(*) + SUM(BIGINT) and no NULLs runs the fused single-pass loop.
        var schema = new Schema([new Field("id", DataType.Int64), new Field("big", DataType.Int64), new Field("ts", DataType.Timestamp)], 2);
        var rows = new List<object?[]>
        {
            new object?[] { 7L, long.MaxValue - 1, 10L },
            new object?[] { 7L, 5L, 20L },
            new object?[] { 8L, 3L, 30L },
            new object?[] { 7L, -4L, 1500L },
        };
        var graph = new JobGraph(new JobOptions { Parallelism = 2, Pool = Pool });
        var sink = new CollectingSink();
        var spec = new WindowAggregateSpec(2, WindowSpec.Tumble(1000), [0], [AggregateSpec.CountStar("n"), AggregateSpec.Sum(1, "s")]);
        graph.Source("ids", new InMemorySource(schema, [rows], 4, Pool), schema, new WatermarkStrategy(2, 0)).KeyBy(0).WindowAggregate(spec).To(sink);
        var job = graph.Build();
        await job.RunAsync();

        Assert.Equal(
            new[] { "+I[7, 0, 1000, 2, 9223372036854775806]", "+I[8, 0, 1000, 1, 3]", "+I[7, 1000, 2000, 1, -4]" }.Order(StringComparer.Ordinal),
            sink.Rows.Select(r => r.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(1, job.Metrics.Errors);
        Assert.Contains(job.DeadLetters, d => d.Reason.Contains("SUM(big) overflows BIGINT", StringComparison.Ordinal) && d.Raw.Contains("big=5", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_projection_that_throws_on_one_row_dead_letters_that_row_and_keeps_the_rest()
    {
        var rows = Enumerable.Range(0, 10).Select(i => new object?[] { "s" + i, (long)i, 1.0, (long)i }).ToList();
        var output = new Schema([new Field("inverse", DataType.Int64)]);
        var (result, job) = await RunAsync(rows, s => s.Project(output, (input, target) =>
        {
            var values = input.ColumnAt<long>(1).Values;
            var inverse = target.ColumnAt<long>(0).Values;
            for (var i = 0; i < input.Count; i++)
            {
                inverse[i] = 100 / values[i];
            }
        }));

        Assert.Equal(new[] { 100L, 50, 33, 25, 20, 16, 14, 12, 11 }.Select(v => $"+I[{v}]").Order(StringComparer.Ordinal), result);
        var letter = Assert.Single(job.DeadLetters);
        Assert.Contains("projection failed", letter.Reason, StringComparison.Ordinal);
        Assert.Contains("sensor=s0", letter.Raw, StringComparison.Ordinal);
        Assert.Equal(1, job.Metrics["project"].Errors);
    }

    [Fact]
    public async Task A_filter_that_throws_on_one_row_dead_letters_that_row_and_keeps_the_rest()
    {
        var rows = Enumerable.Range(0, 6).Select(i => new object?[] { i == 3 ? null : "s" + i, (long)i, 1.0, (long)i }).ToList();
        var (result, job) = await RunAsync(rows, s => s.Filter(batch =>
        {
            var names = batch.ColumnAt<string?>(0).Values;
            for (var i = 0; i < batch.Count; i++)
            {
                if (names[i]!.EndsWith('1'))
                {
                    batch.FilterOut(i);
                }
            }
        }));

        Assert.Equal(4, result.Count);
        Assert.DoesNotContain(result, r => r.StartsWith("+I[s1,", StringComparison.Ordinal));
        Assert.Equal(1, job.Metrics.Errors);
        Assert.Contains("big=3", Assert.Single(job.DeadLetters).Raw, StringComparison.Ordinal);
    }
}
