using BenchmarkDotNet.Attributes;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.GroupAggregate;
using Streams.Perf.Shared;

namespace Streams.Perf.Aggregation;

/// <summary>
/// Keyed hash aggregation (GROUP BY auction: COUNT(*), SUM(price), MAX(price)) over 64 batches of 4096 bids,
/// for a small and a large key space. Results are a changelog per batch, as in a non-windowed SQL GROUP BY.
/// </summary>
[MemoryDiagnoser]
public class HashAggregationBenchmarks
{
    private const int Batches = 64;
    private BidBatches _input = null!;
    private GroupAggregateOperator _operator = null!;
    private readonly DiscardingOutput _output = new();

    [Params(1_000, 1_000_000)]
    public long Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _input = new BidBatches(Batches, Keys, 1);
        var spec = new GroupAggregateSpec([0], [AggregateSpec.CountStar("n"), AggregateSpec.Sum(2, "total"), AggregateSpec.Max(2, "top")]);
        _operator = new GroupAggregateOperator(BidBatches.Schema, spec, _input.Pool);
        for (var b = 0; b < Batches; b++)
        {
            _operator.OnBatch(_input.Next(), _output);
        }
    }

    [Benchmark(OperationsPerInvoke = Batches * BidBatches.Rows)]
    public long GroupByAuction()
    {
        for (var b = 0; b < Batches; b++)
        {
            _operator.OnBatch(_input.Next(), _output);
        }

        return _output.Rows;
    }
}
