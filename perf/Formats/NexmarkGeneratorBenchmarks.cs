using BenchmarkDotNet.Attributes;
using Streams.Connectors.Nexmark;
using Streams.Engine.Data;

namespace Streams.Perf.Formats;

/// <summary>
/// The Nexmark generator alone, per event (OperationsPerInvoke = one batch of 8192 rows): it must stay far faster than any
/// query it feeds (target ≫ 20 M bids/s on one core) and allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class NexmarkGeneratorBenchmarks
{
    private const int Rows = BatchPool.DefaultCapacity;

    private readonly BatchPool _pool = new();
    private NexmarkGenerator _generator = null!;
    private long _cursor;

    [Params(NexmarkTable.Bid, NexmarkTable.Auction, NexmarkTable.Person)]
    public NexmarkTable Table { get; set; }

    [GlobalSetup]
    public void Setup() => _generator = new NexmarkGenerator(new NexmarkOptions { Events = 0, Seed = 1 });

    [Benchmark(OperationsPerInvoke = Rows, Description = "generate (per event)")]
    public int Generate()
    {
        var batch = _pool.Rent(NexmarkSchemas.Of(Table));
        var n = _generator.Fill(Table, batch, ref _cursor);
        batch.Dispose();
        return n;
    }
}
