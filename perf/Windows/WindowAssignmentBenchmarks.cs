using BenchmarkDotNet.Attributes;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Perf.Shared;

namespace Streams.Perf.Windows;

/// <summary>
/// Window assignment and per-window aggregation (COUNT(*) per auction) for tumbling 10 s and hopping 10 s / 2 s
/// windows, 1 ms of event time per row, with a watermark after every batch so windows fire and state stays bounded.
/// Reported per row.
/// </summary>
[MemoryDiagnoser]
public class WindowAssignmentBenchmarks
{
    private const int Batches = 64;
    private BidBatches _input = null!;
    private WindowAggregateOperator _operator = null!;
    private readonly DiscardingOutput _output = new();

    [Params("tumble", "hop")]
    public string Window { get; set; } = "tumble";

    [GlobalSetup]
    public void Setup()
    {
        _input = new BidBatches(Batches, 10_000, 1);
        var window = Window == "hop" ? WindowSpec.Hop(2_000, 10_000) : WindowSpec.Tumble(10_000);
        var spec = new WindowAggregateSpec(3, window, [0], [AggregateSpec.CountStar("num")]);
        var late = new OutputTag("late", BidBatches.Schema, CountsAsLate: true);
        _operator = new WindowAggregateOperator(BidBatches.Schema, spec, late, _input.Pool);
        Run();
    }

    [Benchmark(OperationsPerInvoke = Batches * BidBatches.Rows)]
    public long AssignAndAggregate() => Run();

    private long Run()
    {
        for (var b = 0; b < Batches; b++)
        {
            _operator.OnBatch(_input.Next(), _output);
            _operator.OnWatermark(_input.MaxTime - 1, _output);
        }

        return _output.Rows;
    }
}
