using System.CommandLine;
using System.Diagnostics;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Embedding;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sources;
using Streams.Query;

namespace Streams.Server.Commands.Bench;

/// <summary>
/// <c>streams bench tumble</c>: events ts = i ms, key = (i * 2654435761) % keys, price = i % 997, generated once into
/// arrays (in memory); COUNT(*) and SUM(price) per key per 10 s tumbling window through the embedded API — next to a hand-written array
/// loop doing the same work (the practical ceiling), plus filter-only and hopping (2 s slide, 10 s size) runs.
/// </summary>
internal static class BenchTumbleCommand
{
    /// <summary>
    /// The SQL path of the same workload, registered by the query layer: (events, keys, parallelism, ct) → result rows.
    /// When set, the command times it in the same run and prints its eps.
    /// </summary>

    public static Command Create()
    {
        var events = new Option<long>("--events") { Description = "Events to generate.", DefaultValueFactory = _ => 20_000_000 };
        var keys = new Option<int>("--keys") { Description = "Distinct keys.", DefaultValueFactory = _ => 1000 };
        var parallelism = new Option<int>("--parallelism") { Description = "Tasks per stage (default: cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var only = new Option<string?>("--only") { Description = "Time one run only (hand-loop, embedded, sql, filter-only, hopping): for profiling." };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per batch of the embedded runs (SQL uses the engine default).", DefaultValueFactory = _ => BatchPool.DefaultCapacity };
        var runs = new Option<int>("--runs") { Description = "Timed runs per configuration; the median is printed.", DefaultValueFactory = _ => 3 };
        var command = new Command("tumble", "Tumbling-window COUNT/SUM per key through the embedded engine vs a hand-written loop.") { events, keys, parallelism, only, runs, batchSize };
        command.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(events);
            var k = parse.GetValue(keys);
            var p = Math.Max(1, parse.GetValue(parallelism));
            await RunAsync(n, k, new EmbeddedSetup(p, Math.Max(64, parse.GetValue(batchSize))), parse.GetValue(only), Math.Max(1, parse.GetValue(runs)), ct);
            return 0;
        });
        return command;
    }

    /// <summary>How the embedded runs are set up: tasks per stage and rows per batch (source and engine).</summary>
    private sealed record EmbeddedSetup(int Parallelism, int BatchSize);

    private static readonly Schema EventSchema = new([new Field("Ts", DataType.Timestamp), new Field("Key", DataType.Int64), new Field("Price", DataType.Int64)], 0);

    private sealed record BenchEvent(DateTime Ts, long Key, long Price);

    /// <summary>Process CPU time: on a shared machine, events per CPU-second shows the engine's cost independent of what else runs.</summary>
    private static double CpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>The median timed run, with its process CPU time and the slowest and fastest run's seconds.</summary>
    private readonly record struct Timing(long Rows, long Checksum, double Seconds, double Cpu, double Slowest, double Fastest)
    {
        /// <summary>Events per CPU-second of the median run, and the eps of the slowest and fastest runs: short runs on a shared 2-core VM scatter.</summary>
        public string Stats(long events) => $"eps/cpu-s={events / Cpu / 1e6:F1}M  range={events / Slowest / 1e6:F1}..{events / Fastest / 1e6:F1}M";
    }

    private static async Task RunAsync(long events, int keys, EmbeddedSetup setup, string? only, int runs, CancellationToken ct)
    {
        bool Runs(string name) => only is null || only == name;
        Console.WriteLine($"workload: events={events} keys={keys} window=tumble 10s, COUNT(*) + SUM(price) per key; parallelism={setup.Parallelism} cores={Environment.ProcessorCount} median of {runs} runs after warm-up; load={(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?")}");

        var data = new Events(events, keys);
        await WarmUpAsync(events, keys, setup, Runs, ct);

        var loop = await Timed(runs, () => Task.FromResult(HandLoop(data, keys)));
        var loopEps = events / loop.Seconds;
        Console.WriteLine($"hand-loop   eps={loopEps / 1e6:F1}M  time={loop.Seconds:F3}s  rows={loop.Rows}  {loop.Stats(events)}");

        var eps = double.NaN;
        if (Runs("embedded"))
        {
            var embedded = await Timed(runs, () => EngineAggregateAsync(data, setup, hop: false, ct));
            eps = events / embedded.Seconds;
            Console.WriteLine($"embedded    eps={eps / 1e6:F1}M  time={embedded.Seconds:F3}s  rows={embedded.Rows}  ratio={eps / loopEps:F2} of hand-loop  {embedded.Stats(events)}  {Match(embedded)}");
        }

        if (Runs("sql"))
        {
            var sql = await Timed(runs, () => SqlAggregateAsync(data, setup.Parallelism, ct));
            var sqlEps = events / sql.Seconds;
            Console.WriteLine($"sql         eps={sqlEps / 1e6:F1}M  time={sql.Seconds:F3}s  rows={sql.Rows}  ratio={sqlEps / eps:F2} of embedded  {sql.Stats(events)}  {Match(sql)}");
        }

        if (Runs("filter-only"))
        {
            var filter = await Timed(runs, () => EngineFilterAsync(data, setup, ct));
            Console.WriteLine($"filter-only eps={events / filter.Seconds / 1e6:F1}M  time={filter.Seconds:F3}s  rows={filter.Rows} (price > 500)  {filter.Stats(events)}");
        }

        if (Runs("hopping"))
        {
            var hop = await Timed(runs, () => EngineAggregateAsync(data, setup, hop: true, ct));
            Console.WriteLine($"hopping     eps={events / hop.Seconds / 1e6:F1}M  time={hop.Seconds:F3}s  rows={hop.Rows} (slide 2s, size 10s)  {hop.Stats(events)}");
        }

        string Match(Timing run) => run.Rows == loop.Rows && run.Checksum == loop.Checksum ? "results match" : "RESULTS DIFFER";
    }

    /// <summary>
    /// Brings every configuration to steady-state code, as a job that runs for hours has. Tiered compilation optimises a
    /// method (tier 1 with profile-guided optimisation) after 30 calls, and counts calls only once no new method was
    /// compiled for 100 ms; per-run methods (a task's source loop, a window's emission) run a handful of times per run,
    /// so a few warm-up runs leave them in tier-0 code. Many short runs with pauses (for the background compiles) do not.
    /// </summary>
    private static async Task WarmUpAsync(long events, int keys, EmbeddedSetup setup, Func<string, bool> runs, CancellationToken ct)
    {
        const int Rounds = 40;
        var small = new Events(Math.Min(events, 500_000), keys);
        for (var round = 0; round < Rounds; round++)
        {
            if (round % 10 == 0)
            {
                await Task.Delay(200, ct);
            }

            HandLoop(small, keys);
            if (runs("embedded"))
            {
                await EngineAggregateAsync(small, setup, hop: false, ct);
            }

            if (runs("sql"))
            {
                await SqlAggregateAsync(small, setup.Parallelism, ct);
            }

            if (runs("filter-only"))
            {
                await EngineFilterAsync(small, setup, ct);
            }

            if (runs("hopping"))
            {
                await EngineAggregateAsync(small, setup, hop: true, ct);
            }
        }

        await Task.Delay(500, ct);
    }

    /// <summary>Runs <paramref name="run"/> <paramref name="runs"/> times (a full GC before each) and returns the median run.</summary>
    private static async Task<Timing> Timed(int runs, Func<Task<(long Rows, long Checksum, double Seconds)>> run)
    {
        var results = new List<(long Rows, long Checksum, double Seconds, double Cpu)>();
        for (var i = 0; i < runs; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var cpu = CpuSeconds();
            var (rows, checksum, seconds) = await run();
            results.Add((rows, checksum, seconds, CpuSeconds() - cpu));
        }

        results.Sort((a, b) => a.Seconds.CompareTo(b.Seconds));
        var median = results[runs / 2];
        return new Timing(median.Rows, median.Checksum, median.Seconds, median.Cpu, results[^1].Seconds, results[0].Seconds);
    }

    /// <summary>The events, generated once into plain arrays ("in memory"); both the engine and the hand loop read them.</summary>
    private sealed class Events(long count, int keys)
    {
        public long Count { get; } = count;

        public long[] Ts { get; } = Fill(count, i => i);

        public long[] Key { get; } = Fill(count, i => (long)((ulong)i * 2654435761UL % (ulong)keys));

        public long[] Price { get; } = Fill(count, i => i % 997);

        private static long[] Fill(long count, Func<long, long> value)
        {
            var array = GC.AllocateUninitializedArray<long>(checked((int)count));
            for (var i = 0L; i < count; i++)
            {
                array[i] = value(i);
            }

            return array;
        }
    }

    /// <summary>Partition p reads global batches p, p+P, p+2P, ... of the arrays: partitions advance in event time together.</summary>
    private static GeneratorSource Source(Events events, int partitions, BatchPool pool, int batch)
    {
        var totalBatches = (events.Count + batch - 1) / batch;
        var batchesPerPartition = (totalBatches + partitions - 1) / partitions;
        return new GeneratorSource(EventSchema, partitions, batchesPerPartition * batch, (partition, firstRow, rows, target) =>
        {
            var first = ((firstRow / batch) * partitions + partition) * batch;
            var count = (int)Math.Clamp(events.Count - first, 0, rows);
            if (count > 0)
            {
                Array.Copy(events.Ts, first, target.ColumnAt<long>(0).Values, 0, count);
                Array.Copy(events.Key, first, target.ColumnAt<long>(1).Values, 0, count);
                Array.Copy(events.Price, first, target.ColumnAt<long>(2).Values, 0, count);
            }

            // Whole batches per partition: rows past the end of the data are filtered out.
            for (var r = count; r < rows; r++)
            {
                target.FilterOut(r);
                target.ColumnAt<long>(0).Values[r] = first + r;
            }
        }, batch, pool);
    }

    private static async Task<(long Rows, long Checksum, double Seconds)> EngineAggregateAsync(Events events, EmbeddedSetup setup, bool hop, CancellationToken ct)
    {
        await using var engine = new StreamEngine(new EngineOptions { Parallelism = setup.Parallelism, BatchSize = setup.BatchSize });
        var input = engine.From<BenchEvent>("events", Source(events, setup.Parallelism, engine.Options.Pool, setup.BatchSize), EventSchema, new WatermarkStrategy(0, 0));
        var keyed = input.KeyBy(e => e.Key);
        var windowed = hop ? keyed.HoppingWindow(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10)) : keyed.TumblingWindow(TimeSpan.FromSeconds(10));
        long rows = 0, checksum = 0;
        windowed.Aggregate(a => new { N = a.Count(), Total = a.Sum(e => e.Price) }).SubscribeBatches(batch =>
        {
            var n = batch.ColumnAt<long>(3).Values;
            var total = batch.ColumnAt<long>(4).Values;
            for (var r = 0; r < batch.Count; r++)
            {
                checksum += n[r] * 31 + total[r];
            }

            rows += batch.Count;
        });
        var watch = Stopwatch.StartNew();
        await engine.RunAsync(ct);
        return (rows, checksum, watch.Elapsed.TotalSeconds);
    }

    private static async Task<(long Rows, long Checksum, double Seconds)> EngineFilterAsync(Events events, EmbeddedSetup setup, CancellationToken ct)
    {
        await using var engine = new StreamEngine(new EngineOptions { Parallelism = setup.Parallelism, BatchSize = setup.BatchSize });
        var input = engine.From<BenchEvent>("events", Source(events, setup.Parallelism, engine.Options.Pool, setup.BatchSize), EventSchema, new WatermarkStrategy(0, 0));
        long rows = 0;
        input.Where(e => e.Price > 500).SubscribeBatches(batch => rows += batch.LiveCount());
        var watch = Stopwatch.StartNew();
        await engine.RunAsync(ct);
        return (rows, 0, watch.Elapsed.TotalSeconds);
    }

    /// <summary>The same query in SQL through <c>streams run</c>'s path: parse, plan, compile, run on the same in-memory events.</summary>
    private static async Task<(long Rows, long Checksum, double Seconds)> SqlAggregateAsync(Events events, int parallelism, CancellationToken ct)
    {
        var pool = new BatchPool();
        var registry = new ConnectorRegistry().Register(new BenchEventsConnector(() => Source(events, parallelism, pool, BatchPool.DefaultCapacity)));
        var session = new SqlSession(registry, Directory.GetCurrentDirectory(), new SqlSessionOptions { Parallelism = parallelism, Pool = pool });
        var statements = session.Prepare("""
            CREATE STREAM events (Ts TIMESTAMP(3), Key BIGINT, Price BIGINT, WATERMARK FOR Ts AS Ts) WITH (connector = 'bench-events');
            SELECT Key, window_start, window_end, COUNT(*) AS n, SUM(Price) AS total
            FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(Ts), INTERVAL '10' SECOND))
            GROUP BY Key, window_start, window_end;
            """);
        var output = new CountingOutput();
        var watch = Stopwatch.StartNew();
        foreach (var statement in statements)
        {
            await statement.RunAsync(output, cancellationToken: ct);
        }

        return (output.Rows, output.Checksum, watch.Elapsed.TotalSeconds);
    }

    private sealed class BenchEventsConnector(Func<ISourceConnector> source) : IConnectorFactory
    {
        public string Name => "bench-events";

        public ISourceConnector CreateSource(ConnectorContext context) => source();

        public ISinkConnector CreateSink(ConnectorContext context) => throw new ConnectorException("bench-events is a source");
    }

    /// <summary>Counts result rows and folds (n, total) into the same checksum as the embedded run.</summary>
    private sealed class CountingOutput : ISqlOutput, ISinkWriter
    {
        public long Rows { get; private set; }

        public long Checksum { get; private set; }

        public ISinkWriter OpenRows(Schema schema) => this;

        public void WriteText(string text)
        {
        }

        public void Write(ColumnBatch batch)
        {
            var n = batch.ColumnAt<long>(3).Values;
            var total = batch.ColumnAt<long>(4).Values;
            for (var r = 0; r < batch.Count; r++)
            {
                if (batch.IsLive(r))
                {
                    Checksum += n[r] * 31 + total[r];
                    Rows++;
                }
            }
        }

        public void Flush()
        {
        }

        public void Dispose()
        {
        }
    }

    /// <summary>The same aggregation as plain arrays and one loop: the ceiling the engine is measured against.</summary>
    private static (long Rows, long Checksum, double Seconds) HandLoop(Events events, int keys)
    {
        var ts = events.Ts;
        var keyOf = events.Key;
        var price = events.Price;
        var watch = Stopwatch.StartNew();
        var counts = new long[keys];
        var sums = new long[keys];
        long rows = 0, checksum = 0, window = 0;
        for (var i = 0; i < ts.Length; i++)
        {
            var w = ts[i] / 10_000;
            if (w != window)
            {
                Flush();
                window = w;
            }

            var key = keyOf[i];
            counts[key]++;
            sums[key] += price[i];
        }

        Flush();
        return (rows, checksum, watch.Elapsed.TotalSeconds);

        void Flush()
        {
            for (var k = 0; k < keys; k++)
            {
                if (counts[k] > 0)
                {
                    checksum += counts[k] * 31 + sums[k];
                    rows++;
                    counts[k] = 0;
                    sums[k] = 0;
                }
            }
        }
    }
}
