using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.OverAggregate;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sinks;
using Streams.Engine.Runtime.Sources;
using Streams.Engine.State;

namespace Streams.Engine.Tests.Operators;

public class OverAggregateTests : PooledBatchTest
{
    private static readonly Schema Events = new([new Field("key", DataType.Int64), new Field("value", DataType.Int64), new Field("ts", DataType.Timestamp)], 2);

    private static readonly AggregateSpec[] Aggregates =
    [
        AggregateSpec.CountStar("n"), AggregateSpec.Count(1, "c"), AggregateSpec.Sum(1, "s"), AggregateSpec.Min(1, "lo"), AggregateSpec.Max(1, "hi"), AggregateSpec.Avg(1, "mean"),
    ];

    public static TheoryData<string> Frames() => ["ROWS 0", "ROWS 3", "ROWS UNBOUNDED", "RANGE 0", "RANGE 50", "RANGE UNBOUNDED"];

    private static OverFrame ParseFrame(string text)
    {
        var parts = text.Split(' ');
        var unbounded = parts[1] == "UNBOUNDED";
        return parts[0] == "ROWS"
            ? unbounded ? OverFrame.UnboundedRows : OverFrame.Rows(long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture))
            : unbounded ? OverFrame.UnboundedRange : OverFrame.Range(long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public async Task Every_frame_matches_a_reference_over_random_disordered_input_with_ties_and_nulls(string frameText)
    {
        var frame = ParseFrame(frameText);
        var random = new Random(11);
        var rows = new List<object?[]>();
        long ts = 1_000;
        for (var i = 0; i < 3000; i++)
        {
            ts += random.Next(0, 15);
            rows.Add([(long)random.Next(0, 6), random.Next(10) == 0 ? null : (long)random.Next(-50, 100), ts]);
        }

        for (var i = 1; i < rows.Count; i += 3)
        {
            (rows[i], rows[i - 1]) = (rows[i - 1], rows[i]);
        }

        var (output, late) = await RunAsync([rows], frame, delayMs: 100, parallelism: 2);
        Assert.Empty(late);
        Assert.Equal(Reference(rows, frame), output);
    }

    [Fact]
    public async Task Range_peers_of_equal_time_see_each_other_while_rows_count_in_arrival_order()
    {
        List<object?[]> rows = [[1L, 1L, 10L], [1L, 2L, 10L], [1L, 4L, 20L], [2L, 8L, 10L]];
        var (range, _) = await RunAsync([rows], OverFrame.Range(0), 0, 1);
        Assert.Equal(
            ["+I[1, 1, 10, 2, 2, 3, 1, 2, 1]", "+I[1, 2, 10, 2, 2, 3, 1, 2, 1]", "+I[1, 4, 20, 1, 1, 4, 4, 4, 4]", "+I[2, 8, 10, 1, 1, 8, 8, 8, 8]"],
            range);
        var (rowsFrame, _) = await RunAsync([rows], OverFrame.UnboundedRows, 0, 1);
        Assert.Equal(
            ["+I[1, 1, 10, 1, 1, 1, 1, 1, 1]", "+I[1, 2, 10, 2, 2, 3, 1, 2, 1]", "+I[1, 4, 20, 3, 3, 7, 1, 4, 2]", "+I[2, 8, 10, 1, 1, 8, 8, 8, 8]"],
            rowsFrame);
    }

    [Fact]
    public async Task A_frame_of_only_nulls_has_null_sum_min_max_avg_and_zero_count()
    {
        List<object?[]> rows = [[1L, null, 10L], [1L, 5L, 20L], [1L, null, 30L], [1L, null, 40L]];
        var (output, _) = await RunAsync([rows], OverFrame.Rows(1), 0, 1);
        Assert.Equal(
            ["+I[1, 5, 20, 2, 1, 5, 5, 5, 5]", "+I[1, NULL, 10, 1, 0, NULL, NULL, NULL, NULL]", "+I[1, NULL, 30, 2, 1, 5, 5, 5, 5]", "+I[1, NULL, 40, 2, 0, NULL, NULL, NULL, NULL]"],
            output);
    }

    [Fact]
    public async Task Min_and_max_follow_the_frame_as_extremes_leave_it()
    {
        // Descending then ascending values: the deque must drop the old maximum exactly when it leaves the 3-row frame.
        var values = new long[] { 9, 7, 5, 3, 1, 2, 4, 6, 8 };
        var rows = values.Select((v, i) => new object?[] { 1L, v, (long)(i * 10) }).ToList();
        var (output, _) = await RunAsync([rows], OverFrame.Rows(2), 0, 1);
        Assert.Equal(Reference(rows, OverFrame.Rows(2)), output);
        Assert.Contains("+I[1, 1, 40, 3, 3, 9, 1, 5, 3]", output);
    }

    [Fact]
    public void Rows_wait_for_the_watermark_and_late_rows_go_to_the_late_output()
    {
        var late = new OutputTag("late", Events, CountsAsLate: true);
        var op = new OverAggregateOperator(Events, new OverAggregateSpec(2, [0], OverFrame.UnboundedRows, Aggregates), late, Pool);
        var output = new RecordingOutput();
        op.OnBatch(Batch([1L, 5L, 100L], [1L, 6L, 300L]), output);
        Assert.Empty(output.Rows);
        op.OnWatermark(150, output);
        Assert.Equal(["1|5|100|1|1|5|5|5|5"], output.Rows);
        op.OnBatch(Batch([1L, 7L, 120L], [1L, 8L, 150L], [1L, 9L, 200L]), output);
        Assert.Equal(["1|7|120", "1|8|150"], output.Late);
        op.OnWatermark(long.MaxValue, output);
        Assert.Equal(["1|5|100|1|1|5|5|5|5", "1|9|200|2|2|14|5|9|7", "1|6|300|3|3|20|5|9|6"], output.Rows);
    }

    [Fact]
    public void A_null_event_time_goes_to_the_dead_letters_with_the_reason()
    {
        var op = new OverAggregateOperator(Events, new OverAggregateSpec(2, [0], OverFrame.Rows(1), Aggregates), new OutputTag("late", Events), Pool);
        var output = new RecordingOutput();
        op.OnBatch(Batch([1L, 5L, null]), output);
        op.OnEndOfInput(output);
        Assert.Empty(output.Rows);
        Assert.Contains("event time 'ts' is NULL", Assert.Single(output.Errors));
    }

    [Fact]
    public void A_retraction_goes_to_the_dead_letters_instead_of_into_a_frame()
    {
        var op = new OverAggregateOperator(Events, new OverAggregateSpec(2, [0], OverFrame.UnboundedRows, Aggregates), new OutputTag("late", Events), Pool);
        var output = new RecordingOutput();
        var batch = Batch([1L, 5L, 100L], [1L, 5L, 100L]);
        batch.SetKind(1, RowKind.Delete);
        op.OnBatch(batch, output);
        op.OnEndOfInput(output);
        Assert.Equal(["1|5|100|1|1|5|5|5|5"], output.Rows);
        Assert.Contains("insert-only", Assert.Single(output.Errors));
    }

    [Fact]
    public void A_sliding_double_sum_does_not_drift_from_the_sum_of_its_frame()
    {
        // Huge and tiny values alternate: subtracting 1e15 back out leaves the small ones' rounding residue behind.
        var schema = new Schema([new Field("k", DataType.Int64), new Field("v", DataType.Double), new Field("ts", DataType.Timestamp)], 2);
        var op = new OverAggregateOperator(schema, new OverAggregateSpec(2, [0], OverFrame.Rows(2), [AggregateSpec.Sum(1, "s")]), new OutputTag("late", schema), Pool);
        var output = new RecordingOutput();
        var values = Enumerable.Range(0, 3000).Select(i => i % 3 == 0 && i < 2990 ? 1e15 : 0.1 * (i % 7)).ToArray();
        var batch = Pool.Rent(schema, values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            batch.ColumnAt<long>(0).Values[i] = 1;
            batch.ColumnAt<double>(1).Values[i] = values[i];
            batch.ColumnAt<long>(2).Values[i] = i;
        }

        batch.Count = values.Length;
        op.OnBatch(batch, output);
        op.OnEndOfInput(output);
        var last = double.Parse(output.Rows[^1].Split('|')[3], System.Globalization.CultureInfo.InvariantCulture);
        var exact = values[^3] + values[^2] + values[^1];
        Assert.True(Math.Abs(last - exact) <= 1e-9, $"sum {last} drifted from {exact}");
    }

    [Theory]
    [InlineData("ROWS 3")]
    [InlineData("RANGE 40")]
    [InlineData("RANGE UNBOUNDED")]
    public void A_snapshot_restored_into_a_new_operator_continues_exactly(string frameText)
    {
        var spec = new OverAggregateSpec(2, [0], ParseFrame(frameText), Aggregates);
        var uninterrupted = Drive(spec, roundTripAt: null);
        for (var at = 0; at < 12; at += 5)
        {
            Assert.Equal(uninterrupted, Drive(spec, at));
        }
    }

    [Fact]
    public void The_steady_state_allocates_nothing_per_row()
    {
        var spec = new OverAggregateSpec(2, [0], OverFrame.Rows(10), Aggregates);
        var op = new OverAggregateOperator(Events, spec, new OutputTag("late", Events), Pool);
        var output = new DisposingOutput();
        long ts = 0;
        void Step()
        {
            var batch = Pool.Rent(Events, 1024);
            for (var i = 0; i < 1024; i++)
            {
                batch.ColumnAt<long>(0).Values[i] = i % 64;
                batch.ColumnAt<long>(1).Values[i] = i;
                batch.ColumnAt<long>(2).Values[i] = ts + (i * 7 % 13);
            }

            batch.Count = 1024;
            op.OnBatch(batch, output);
            ts += 20;
            op.OnWatermark(ts - 5, output);
        }

        for (var i = 0; i < 200; i++)
        {
            Step();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++)
        {
            Step();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        op.OnEndOfInput(output);
    }

    private List<string> Drive(OverAggregateSpec spec, int? roundTripAt)
    {
        var tag = new OutputTag("late", Events);
        var op = new OverAggregateOperator(Events, spec, tag, Pool);
        var output = new RecordingOutput();
        var random = new Random(5);
        long ts = 0;
        for (var step = 0; step < 12; step++)
        {
            if (step == roundTripAt)
            {
                using var stream = new MemoryStream();
                op.Snapshot(new StateSnapshotWriter(stream, Path.GetTempPath()));
                stream.Position = 0;
                op.Dispose();
                op = new OverAggregateOperator(Events, spec, tag, Pool);
                op.Restore(new StateSnapshotReader(stream, "snap", Path.GetTempPath()));
                Assert.Equal(stream.Length, stream.Position);
            }

            var rows = new List<object?[]>();
            for (var i = 0; i < 40; i++)
            {
                rows.Add([(long)random.Next(0, 4), random.Next(8) == 0 ? null : (long)random.Next(0, 100), ts + random.Next(0, 30)]);
            }

            op.OnBatch(Batch([.. rows]), output);
            ts += 25;
            op.OnWatermark(ts - 10, output);
        }

        op.OnWatermark(long.MaxValue, output);
        Assert.Empty(output.Errors);
        return [.. output.Rows, .. output.Late.Select(l => "late " + l)];
    }

    private ColumnBatch Batch(params object?[][] rows)
    {
        var batch = Pool.Rent(Events, Math.Max(rows.Length, 1));
        for (var i = 0; i < rows.Length; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                batch.Columns[c].SetBoxed(i, rows[i][c]);
            }
        }

        batch.Count = rows.Length;
        return batch;
    }

    private async Task<(List<string> Rows, List<string> Late)> RunAsync(IReadOnlyList<IReadOnlyList<object?[]>> partitions, OverFrame frame, long delayMs, int parallelism)
    {
        var graph = new JobGraph(new JobOptions { Parallelism = parallelism, Pool = Pool, BatchSize = 256 });
        var source = new InMemorySource(Events, partitions, 37, Pool);
        var results = graph.Source("events", source, Events, new WatermarkStrategy(2, delayMs))
            .OverAggregate(new OverAggregateSpec(2, [0], frame, Aggregates), out var lateTag);
        var sink = new CollectingSink();
        var lateSink = new CollectingSink();
        results.To(sink);
        results.SideOutput(lateTag).To(lateSink);
        await graph.Build().RunAsync();
        return (sink.Rows.Select(r => r.ToString()).Order(StringComparer.Ordinal).ToList(), lateSink.Rows.Select(r => r.ToString()).ToList());
    }

    /// <summary>The frames computed from scratch for every row: per key, rows in time order (ties in input order).</summary>
    private static List<string> Reference(List<object?[]> rows, OverFrame frame)
    {
        var result = new List<string>();
        foreach (var group in rows.GroupBy(r => (long)r[0]!))
        {
            var ordered = group.OrderBy(r => (long)r[2]!).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                var t = (long)ordered[i][2]!;
                var first = frame.IsUnbounded ? 0 : (int)Math.Max(0, i - frame.Preceding);
                var inFrame = frame.Unit == OverFrameUnit.Rows
                    ? ordered.Skip(first).Take(i + 1 - first).ToList()
                    : ordered.Where(r => (long)r[2]! <= t && (frame.IsUnbounded || (long)r[2]! >= t - frame.Preceding)).ToList();
                var values = inFrame.Where(r => r[1] is not null).Select(r => (long)r[1]!).ToList();
                object?[] row =
                [
                    group.Key, ordered[i][1], t, (long)inFrame.Count, (long)values.Count,
                    values.Count == 0 ? null : values.Sum(), values.Count == 0 ? null : values.Min(), values.Count == 0 ? null : values.Max(),
                    values.Count == 0 ? null : values.Sum() / values.Count,
                ];
                result.Add(new CollectedRow(RowKind.Insert, row).ToString());
            }
        }

        return result.Order(StringComparer.Ordinal).ToList();
    }

    private sealed class RecordingOutput : IOperatorOutput
    {
        public List<string> Rows { get; } = [];

        public List<string> Late { get; } = [];

        public List<string> Errors { get; } = [];

        public void Emit(ColumnBatch batch)
        {
            Rows.AddRange(Lines(batch));
            batch.Dispose();
        }

        public void EmitWatermark(long watermark)
        {
        }

        public void EmitBarrier(CheckpointBarrier barrier)
        {
        }

        public void EmitError(ColumnBatch batch, int row, string reason) => Errors.Add(reason);

        public void EmitSide(OutputTag tag, ColumnBatch batch)
        {
            Late.AddRange(Lines(batch));
            batch.Dispose();
        }

        private static IEnumerable<string> Lines(ColumnBatch batch) =>
            Enumerable.Range(0, batch.Count).Select(i => string.Join("|", batch.Columns.Select(c => c.GetBoxed(i)?.ToString() ?? "NULL")));
    }

    private sealed class DisposingOutput : IOperatorOutput
    {
        public void Emit(ColumnBatch batch) => batch.Dispose();

        public void EmitWatermark(long watermark)
        {
        }

        public void EmitBarrier(CheckpointBarrier barrier)
        {
        }

        public void EmitError(ColumnBatch batch, int row, string reason) => throw new InvalidOperationException(reason);

        public void EmitSide(OutputTag tag, ColumnBatch batch) => throw new InvalidOperationException("no late rows expected");
    }
}
