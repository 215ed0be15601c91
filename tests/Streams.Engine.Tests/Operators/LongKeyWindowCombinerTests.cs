using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Exchange;
using Streams.Engine.Runtime.Sinks;
using Streams.Engine.Runtime.Sources;
using Streams.Engine.Tests.Joins;

namespace Streams.Engine.Tests.Operators;

/// <summary>
/// The specialised local phase for one BIGINT key with COUNT/SUM must emit exactly the partial rows, raw late rows and
/// errors of the generic combiner, put every partial row in the batch of the task the hash exchange would pick, and
/// give the same windows end to end, NULL keys and values, SUM overflow and late data included.
/// </summary>
public class LongKeyWindowCombinerTests : PooledBatchTest
{
    private const long Delay = 300;

    private static readonly Schema Events = WindowTestKit.Events;

    private static readonly AggregateSpec[] Aggregates = [AggregateSpec.CountStar("n"), AggregateSpec.Count(1, "with_value"), AggregateSpec.Sum(1, "total")];

    /// <summary>Disordered events (mostly within Delay, some far beyond: late), NULL keys and values unless <paramref name="nulls"/> is false, values that overflow a SUM.</summary>
    private static List<object?[]> EventRows(int seed, int count, bool nulls = true)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => (Order: i * 7 + random.Next(0, random.Next(25) == 0 ? 10 * (int)Delay : (int)Delay), Row: new object?[]
            {
                nulls && random.Next(15) == 0 ? null : (long)random.Next(-3, 40),
                nulls && random.Next(10) == 0 ? null : random.Next(200) == 0 ? long.MaxValue - random.Next(5) : (long)random.Next(-50, 1000),
                (long)i * 7,
            }))
            .OrderBy(e => e.Order)
            .Select(e => e.Row)
            .ToList();
    }

    private static WindowSpec WindowOf(string name) => name switch
    {
        "tumble" => WindowSpec.Tumble(1000),
        "hop" => WindowSpec.Hop(500, 2000),
        _ => WindowSpec.Hop(300, 1000),
    };

    public static TheoryData<string, bool> Windows() => new()
    {
        { "tumble", true }, { "hop", true }, { "hop-uneven", true }, { "tumble", false }, { "hop-uneven", false },
    };

    private static WindowAggregateSpec Spec(string window) => new(2, WindowOf(window), [0], Aggregates);

    private LongKeyWindowCombiner Combiner(string window, int targets = 3) => new(Events, Spec(window), new OutputTag("raw", Events), Pool, 64, targets);

    private sealed record Outcome(List<string> Rows, List<string> Raw, List<string> Errors);

    /// <summary>Feeds the events in batches of <paramref name="chunk"/> (53) with a watermark after each; optionally round-trips a snapshot before batch <paramref name="snapshotAt"/>.</summary>
    private Outcome Run(Func<IOperator> create, List<object?[]> events, int? targets, int? snapshotAt = null, int chunk = 53)
    {
        var collected = new CollectingOutput();
        var output = new TargetCheckingOutput(collected, targets);
        var op = create();
        var maxTs = long.MinValue;
        var index = 0;
        foreach (var rows in events.Chunk(chunk))
        {
            if (index++ == snapshotAt)
            {
                op = Checkpointing.RoundTrip((LongKeyWindowCombiner)op, () => (LongKeyWindowCombiner)create());
            }

            op.OnBatch(Batches.Of(Pool, Events, rows, capacity: Math.Max(64, chunk)), output);
            maxTs = Math.Max(maxTs, rows.Max(r => (long)r[2]!));
            op.OnWatermark(maxTs - Delay, output);
        }

        op.OnEndOfInput(output);
        return new Outcome(
            collected.Rows.Select(r => r.Text).Order(StringComparer.Ordinal).ToList(),
            collected.Side.Values.SelectMany(r => r).Select(r => r.Text).Order(StringComparer.Ordinal).ToList(),
            collected.Errors.Order(StringComparer.Ordinal).ToList());
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void Emits_the_partial_rows_late_rows_and_errors_of_the_generic_combiner(string window, bool nulls)
    {
        // Without NULLs every batch takes the one-pass path (keys, cells and the SUM together).
        var events = EventRows(3, 5000, nulls);
        var generic = Run(() => TwoPhaseWindowAggregateOperator.Local(Events, Spec(window), new OutputTag("raw", Events), Pool, 64), events, null);
        var specialised = Run(() => Combiner(window, 2), events, 2);

        Assert.NotEmpty(generic.Raw);
        Assert.Equal(nulls, generic.Rows.Any(r => r.StartsWith("NULL|", StringComparison.Ordinal)));
        Assert.Contains(generic.Errors, e => e.Contains("overflows BIGINT", StringComparison.Ordinal));
        Assert.Equal(generic.Rows, specialised.Rows);
        Assert.Equal(generic.Raw, specialised.Raw);
        Assert.Equal(generic.Errors, specialised.Errors);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Thousands_of_sparse_keys_grow_the_cells_and_match_the_generic_combiner(bool nulls)
    {
        // Far more keys per batch than a slice's first cell arrays hold, many of them beyond the direct key index
        // (negative, huge), so cells grow mid-batch on both the one-pass and the general path.
        var random = new Random(23);
        var events = EventRows(11, 6000, nulls);
        foreach (var row in events)
        {
            if (row[0] is not null)
            {
                row[0] = random.Next(3) switch
                {
                    0 => (long)random.Next(0, 5000),
                    1 => -(long)random.Next(1, 3000),
                    _ => long.MaxValue - random.Next(0, 3000),
                };
            }
        }

        var generic = Run(() => TwoPhaseWindowAggregateOperator.Local(Events, Spec("hop-uneven"), new OutputTag("raw", Events), Pool, 64), events, null, chunk: 1500);
        var specialised = Run(() => Combiner("hop-uneven", 2), events, 2, chunk: 1500);

        Assert.True(generic.Rows.Count > 3000);
        Assert.Equal(generic.Rows, specialised.Rows);
        Assert.Equal(generic.Raw, specialised.Raw);
        Assert.Equal(generic.Errors, specialised.Errors);
    }

    [Fact]
    public void The_global_phase_sums_partial_rows_of_any_key_leaving_out_a_partial_that_overflows()
    {
        // Partial rows (key, slice start, end, n, total) as combiners send them: small keys (the direct-index loop),
        // negative and huge keys (hashed), slices interleaved, and totals that overflow a window's running SUM.
        var spec = new WindowAggregateSpec(0, WindowSpec.Tumble(1000), [1], [AggregateSpec.CountStar("n"), AggregateSpec.Sum(2, "total")]);
        var input = new Schema([new Field("ts", DataType.Timestamp), new Field("key", DataType.Int64), new Field("price", DataType.Int64)], 0);
        var partialSchema = spec.OutputSchema(input);
        var random = new Random(31);
        var partials = Enumerable.Range(0, 20_000).Select(i =>
        {
            var start = (i / 700 + random.Next(0, 2)) * 1000L;
            long key = random.Next(4) switch
            {
                0 => -random.Next(1, 50),
                1 => long.MaxValue - random.Next(0, 50),
                _ => random.Next(0, 300),
            };
            var total = random.Next(300) == 0 ? long.MaxValue - random.Next(0, 1000) : random.Next(-1000, 1000);
            return new object?[] { key, start, start + 1000, (long)random.Next(1, 9), total };
        }).ToList();

        var expected = new Dictionary<(long Key, long Start), (long N, long Total, int Errors)>();
        foreach (var p in partials)
        {
            var k = ((long)p[0]!, (long)p[1]!);
            var (n, total, errors) = expected.GetValueOrDefault(k);
            try
            {
                total = checked(total + (long)p[4]!);
            }
            catch (OverflowException)
            {
                errors++;
            }

            expected[k] = (n + (long)p[3]!, total, errors);
        }

        var global = new TwoPhaseWindowAggregateOperator(spec, partialSchema, new OutputTag("late", input), Pool, 256, TwoPhaseWindowAggregateOperator.GlobalSpec(spec).OutputSchema(partialSchema));
        var output = new CollectingOutput();
        foreach (var chunk in partials.Chunk(500))
        {
            global.OnBatch(JoinSide.Left, Batches.Of(Pool, partialSchema, chunk, capacity: 512), output);
        }

        global.OnEndOfInput(output);
        Assert.Equal(
            expected.Select(e => $"{e.Key.Key}|{e.Key.Start}|{e.Key.Start + 1000}|{e.Value.N}|{e.Value.Total}").Order(StringComparer.Ordinal),
            output.Rows.Select(r => r.Text).Order(StringComparer.Ordinal));
        Assert.True(expected.Values.Sum(v => v.Errors) > 10);
        Assert.Equal(expected.Values.Sum(v => v.Errors), output.Errors.Count);
    }

    [Fact]
    public void Every_partial_batch_goes_to_the_task_the_hash_exchange_picks_for_its_keys()
    {
        var output = new TargetCheckingOutput(new CollectingOutput(), 3);
        var events = EventRows(5, 3000);
        var combiner = Combiner("tumble");
        foreach (var chunk in events.Chunk(200))
        {
            combiner.OnBatch(Batches.Of(Pool, Events, chunk, capacity: 256), output);
        }

        Assert.Equal(3, output.TargetsSeen.Count);
        Assert.True(output.NullKeyRows > 0);
    }

    [Fact]
    public void A_restored_combiner_sends_the_same_rows_raw()
    {
        var events = EventRows(9, 4000);
        var expected = Run(() => Combiner("hop"), events, 3);
        Assert.NotEmpty(expected.Raw);
        foreach (var at in new[] { 1, 30, 70 })
        {
            var restored = Run(() => Combiner("hop"), events, 3, at);
            Assert.Equal(expected.Rows, restored.Rows);
            Assert.Equal(expected.Raw, restored.Raw);
        }
    }

    [Fact]
    public void A_snapshot_of_another_window_is_refused()
    {
        var combiner = Combiner("tumble");
        using var stream = new MemoryStream();
        combiner.Snapshot(new Streams.Engine.State.StateSnapshotWriter(stream, Path.GetTempPath()));
        stream.Position = 0;
        var error = Assert.ThrowsAny<Exception>(() => Combiner("hop").Restore(new Streams.Engine.State.StateSnapshotReader(stream, "snap", Path.GetTempPath())));
        Assert.Contains("size 1000 ms", error.Message);
    }

    [Theory]
    [InlineData("tumble")]
    [InlineData("hop-uneven")]
    public async Task Windows_through_the_combiner_match_a_reference_at_any_parallelism(string windowName)
    {
        var window = WindowOf(windowName);
        // On-time events only (disorder within the watermark delay), so every row is in the reference.
        var random = new Random(17);
        var events = Enumerable.Range(0, 4000)
            .Select(i => (Order: i * 7 + random.Next(0, (int)Delay), Row: new object?[]
            {
                random.Next(20) == 0 ? null : (long)random.Next(0, 50), random.Next(8) == 0 ? null : (long)random.Next(-50, 1000), (long)i * 7,
            }))
            .OrderBy(e => e.Order)
            .Select(e => e.Row)
            .ToList();
        var expected = Reference(events, window);
        foreach (var (partitions, parallelism) in new[] { (1, 1), (3, 4), (2, 2) })
        {
            var split = Enumerable.Range(0, partitions).Select(p => (IReadOnlyList<object?[]>)events.Where((_, i) => i % partitions == p).ToList()).ToList();
            var graph = new JobGraph(new JobOptions { Parallelism = parallelism, Pool = Pool, BatchSize = 128 });
            var sink = new CollectingSink();
            graph.Source("events", new InMemorySource(Events, split, 41, Pool), Events, new WatermarkStrategy(2, Delay))
                .KeyBy(0)
                .WindowAggregate(new WindowAggregateSpec(2, window, [0], Aggregates))
                .To(sink);
            var job = graph.Build();
            await job.RunAsync();
            Assert.Equal(expected, sink.Rows.Select(r => r.ToString()).Order(StringComparer.Ordinal).ToList());
            Assert.Equal(0, job.Metrics.LateRecords);
        }
    }

    private static List<string> Reference(List<object?[]> events, WindowSpec window)
    {
        var groups = new Dictionary<(long? Key, long Start), List<long?>>();
        foreach (var e in events)
        {
            var (key, value, ts) = ((long?)e[0], (long?)e[1], (long)e[2]!);
            for (var start = ts - ((ts % window.SlideMs) + window.SlideMs) % window.SlideMs; start > ts - window.SizeMs; start -= window.SlideMs)
            {
                if (!groups.TryGetValue((key, start), out var list))
                {
                    groups[(key, start)] = list = [];
                }

                list.Add(value);
            }
        }

        return groups.Select(g =>
        {
            var values = g.Value.Where(v => v is not null).Select(v => v!.Value).ToList();
            return new CollectedRow(RowKind.Insert, [g.Key.Key, g.Key.Start, g.Key.Start + window.SizeMs, (long)g.Value.Count, (long)values.Count, values.Count == 0 ? null : values.Sum()]).ToString();
        }).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Checks each emitted batch's exchange target (when <paramref name="targets"/> is set) against the key hash of every row, then passes it on.</summary>
    private sealed class TargetCheckingOutput(CollectingOutput inner, int? targets) : IOperatorOutput
    {
        public HashSet<int> TargetsSeen { get; } = [];

        public int NullKeyRows { get; private set; }

        public void Emit(ColumnBatch batch)
        {
            if (targets is not { } p)
            {
                inner.Emit(batch);
                return;
            }

            var target = batch.TakeExchangeTarget(p);
            Assert.InRange(target, 0, p - 1);
            TargetsSeen.Add(target);
            var hashes = new ulong[batch.Count];
            KeyHasher.HashRows(batch, [0], hashes);
            for (var i = 0; i < batch.Count; i++)
            {
                Assert.Equal(target, KeyHasher.TaskOf(KeyHasher.KeyGroupOf(hashes[i]), p));
                NullKeyRows += batch.Columns[0].IsNull(i) ? 1 : 0;
            }

            inner.Emit(batch);
        }

        public void EmitWatermark(long watermark) => inner.EmitWatermark(watermark);

        public void EmitBarrier(CheckpointBarrier barrier) => inner.EmitBarrier(barrier);

        public void EmitError(ColumnBatch batch, int row, string reason) => inner.EmitError(batch, row, reason);

        public void EmitSide(OutputTag tag, ColumnBatch batch) => inner.EmitSide(tag, batch);
    }
}
