using BenchmarkDotNet.Attributes;
using Streams.Engine.Data;
using Streams.Engine.Embedding;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sources;
using Streams.Perf.Shared;

namespace Streams.Perf.Runtime;

/// <summary>
/// The issue-5 workload at BenchmarkDotNet scale: ts = i ms, key = (i * 2654435761) % 1000, price = i % 997;
/// COUNT(*) and SUM(price) per key per 10 s tumbling window through the embedded API, against the hand-written loop.
/// The full-size run with eps output is <c>./streams bench tumble</c>.
/// </summary>
[MemoryDiagnoser]
public class TumbleWindowBenchmark
{
    private const int Events = 4_000_000;
    private const int Keys = 1000;
    private static readonly Schema EventSchema = new([new Field("Ts", DataType.Timestamp), new Field("Key", DataType.Int64), new Field("Price", DataType.Int64)], 0);
    private long[] _ts = [];
    private long[] _key = [];
    private long[] _price = [];

    public sealed record BenchEvent(DateTime Ts, long Key, long Price);

    [Params(1, 2)]
    public int Parallelism { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var workload = new TumbleWorkload(Events, Keys);
        (_ts, _key, _price) = (workload.Ts, workload.Key, workload.Price);
    }

    [Benchmark(Baseline = true)]
    public long HandLoop()
    {
        var counts = new long[Keys];
        var sums = new long[Keys];
        long checksum = 0, window = 0;
        for (var i = 0; i < _ts.Length; i++)
        {
            var w = _ts[i] / 10_000;
            if (w != window)
            {
                for (var k = 0; k < Keys; k++)
                {
                    checksum += counts[k] * 31 + sums[k];
                    counts[k] = 0;
                    sums[k] = 0;
                }

                window = w;
            }

            counts[_key[i]]++;
            sums[_key[i]] += _price[i];
        }

        return checksum;
    }

    [Benchmark]
    public async Task<long> EmbeddedTumble()
    {
        await using var engine = new StreamEngine(new EngineOptions { Parallelism = Parallelism });
        const int batch = BatchPool.DefaultCapacity;
        var partitions = Parallelism;
        var source = new GeneratorSource(EventSchema, partitions, (Events / batch / partitions + 1) * batch, (p, first, rows, target) =>
        {
            var start = ((first / batch) * partitions + p) * batch;
            var count = (int)Math.Clamp(Events - start, 0, rows);
            if (count > 0)
            {
                Array.Copy(_ts, start, target.ColumnAt<long>(0).Values, 0, count);
                Array.Copy(_key, start, target.ColumnAt<long>(1).Values, 0, count);
                Array.Copy(_price, start, target.ColumnAt<long>(2).Values, 0, count);
            }
            for (var r = count; r < rows; r++)
            {
                target.FilterOut(r);
                target.ColumnAt<long>(0).Values[r] = start + r;
            }
        }, batch, engine.Options.Pool);
        long rowsOut = 0;
        engine.From<BenchEvent>("events", source, EventSchema, new WatermarkStrategy(0, 0))
            .KeyBy(e => e.Key)
            .TumblingWindow(TimeSpan.FromSeconds(10))
            .Aggregate(a => new { N = a.Count(), Total = a.Sum(e => e.Price) })
            .SubscribeBatches(b => rowsOut += b.Count);
        await engine.RunAsync();
        return rowsOut;
    }
}
