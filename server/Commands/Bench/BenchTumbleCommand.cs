using System.CommandLine;
using System.Diagnostics;
using Streams.Engine.Data;
using Streams.Engine.Embedding;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sources;

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
    public static Func<long, int, int, CancellationToken, Task<long>>? SqlPath { get; set; }

    public static Command Create()
    {
        var events = new Option<long>("--events") { Description = "Events to generate.", DefaultValueFactory = _ => 20_000_000 };
        var keys = new Option<int>("--keys") { Description = "Distinct keys.", DefaultValueFactory = _ => 1000 };
        var parallelism = new Option<int>("--parallelism") { Description = "Tasks per stage (default: cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("tumble", "Tumbling-window COUNT/SUM per key through the embedded engine vs a hand-written loop.") { events, keys, parallelism };
        command.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(events);
            var k = parse.GetValue(keys);
            var p = Math.Max(1, parse.GetValue(parallelism));
            await RunAsync(n, k, p, ct);
            return 0;
        });
        return command;
    }

    private static readonly Schema EventSchema = new([new Field("Ts", DataType.Timestamp), new Field("Key", DataType.Int64), new Field("Price", DataType.Int64)], 0);

    private sealed record BenchEvent(DateTime Ts, long Key, long Price);

    private static async Task RunAsync(long events, int keys, int parallelism, CancellationToken ct)
    {
        Console.WriteLine($"workload: events={events} keys={keys} window=tumble 10s, COUNT(*) + SUM(price) per key; parallelism={parallelism} cores={Environment.ProcessorCount}");

        var data = new Events(events, keys);
        var warm = new Events(Math.Min(events, 2_000_000), keys);
        // Warm the JIT on a small run so the timed runs measure steady-state code.
        await EngineAggregateAsync(warm, parallelism, hop: false, ct);
        HandLoop(warm, keys);
        var (loopRows, loopChecksum, loopSeconds) = HandLoop(data, keys);
        var loopEps = events / loopSeconds;
        Console.WriteLine($"hand-loop   eps={loopEps / 1e6:F1}M  time={loopSeconds:F3}s  rows={loopRows}");

        var (rows, checksum, seconds) = await EngineAggregateAsync(data, parallelism, hop: false, ct);
        var eps = events / seconds;
        Console.WriteLine($"embedded    eps={eps / 1e6:F1}M  time={seconds:F3}s  rows={rows}  ratio={eps / loopEps:F2} of hand-loop  {(rows == loopRows && checksum == loopChecksum ? "results match" : "RESULTS DIFFER")}");

        if (SqlPath is { } sql)
        {
            var watch = Stopwatch.StartNew();
            var sqlRows = await sql(events, keys, parallelism, ct);
            var sqlEps = events / watch.Elapsed.TotalSeconds;
            Console.WriteLine($"sql         eps={sqlEps / 1e6:F1}M  time={watch.Elapsed.TotalSeconds:F3}s  rows={sqlRows}  ratio={sqlEps / loopEps:F2} of hand-loop  {(sqlRows == loopRows ? "rows match" : "ROWS DIFFER")}");
        }
        else
        {
            Console.WriteLine("sql         (no SQL path registered in this build)");
        }

        var (filtered, filterSeconds) = await EngineFilterAsync(data, parallelism, ct);
        Console.WriteLine($"filter-only eps={events / filterSeconds / 1e6:F1}M  time={filterSeconds:F3}s  rows={filtered} (price > 500)");

        var (hopRows, _, hopSeconds) = await EngineAggregateAsync(data, parallelism, hop: true, ct);
        Console.WriteLine($"hopping     eps={events / hopSeconds / 1e6:F1}M  time={hopSeconds:F3}s  rows={hopRows} (slide 2s, size 10s)");
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
    private static GeneratorSource Source(Events events, int partitions, BatchPool pool)
    {
        const int batch = BatchPool.DefaultCapacity;
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

    private static async Task<(long Rows, long Checksum, double Seconds)> EngineAggregateAsync(Events events, int parallelism, bool hop, CancellationToken ct)
    {
        await using var engine = new StreamEngine(new EngineOptions { Parallelism = parallelism });
        var input = engine.From<BenchEvent>("events", Source(events, parallelism, engine.Options.Pool), EventSchema, new WatermarkStrategy(0, 0));
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

    private static async Task<(long Rows, double Seconds)> EngineFilterAsync(Events events, int parallelism, CancellationToken ct)
    {
        await using var engine = new StreamEngine(new EngineOptions { Parallelism = parallelism });
        var input = engine.From<BenchEvent>("events", Source(events, parallelism, engine.Options.Pool), EventSchema, new WatermarkStrategy(0, 0));
        long rows = 0;
        input.Where(e => e.Price > 500).SubscribeBatches(batch => rows += batch.LiveCount());
        var watch = Stopwatch.StartNew();
        await engine.RunAsync(ct);
        return (rows, watch.Elapsed.TotalSeconds);
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
