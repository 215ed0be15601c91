using BenchmarkDotNet.Attributes;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.OverAggregate;
using Streams.Perf.Shared;

namespace Streams.Perf.Windows;

/// <summary>
/// OVER aggregates per auction (AVG, MAX, COUNT over the frame) with 1 ms of event time per row and a watermark 2 s
/// behind after every batch, so about 2,000 rows wait for the watermark at any time. Reported per row.
/// </summary>
[MemoryDiagnoser]
public class OverAggregateBenchmarks
{
    private const int Batches = 64;
    private BidBatches _input = null!;
    private OverAggregateOperator _operator = null!;
    private readonly DiscardingOutput _output = new();

    [Params("rows10", "range10s")]
    public string Frame { get; set; } = "rows10";

    [GlobalSetup]
    public void Setup()
    {
        _input = new BidBatches(Batches, 10_000, 1);
        var frame = Frame == "rows10" ? OverFrame.Rows(10) : OverFrame.Range(10_000);
        var spec = new OverAggregateSpec(3, [0], frame, [AggregateSpec.Avg(2, "avg"), AggregateSpec.Max(2, "max"), AggregateSpec.CountStar("n")]);
        _operator = new OverAggregateOperator(BidBatches.Schema, spec, new OutputTag("late", BidBatches.Schema, CountsAsLate: true), _input.Pool);
        Run();
    }

    [Benchmark(OperationsPerInvoke = Batches * BidBatches.Rows)]
    public long Aggregate() => Run();

    private long Run()
    {
        for (var b = 0; b < Batches; b++)
        {
            _operator.OnBatch(_input.Next(), _output);
            _operator.OnWatermark(_input.MaxTime - 2_000, _output);
        }

        return _output.Rows;
    }
}
