using BenchmarkDotNet.Attributes;
using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Perf.Shared;

namespace Streams.Perf.Runtime;

/// <summary>
/// The local (pre-exchange) phase of the issue-5 tumble workload alone, side by side: the generic combiner
/// (<see cref="TwoPhaseWindowAggregateOperator.Local"/>, then a hash exchange regroups its partial rows) against
/// <see cref="LongKeyWindowCombiner"/> (partial rows written straight into per-task batches). 4 M events in 8 K-row
/// batches, 1000 keys, COUNT(*) and SUM(price) per 10 s window, partial rows for 2 downstream tasks.
/// </summary>
[MemoryDiagnoser]
public class WindowCombinerBenchmark
{
    private const int Events = 4_000_000;
    private const int Keys = 1000;
    private const int BatchRows = BatchPool.DefaultCapacity;
    private static readonly Schema EventSchema = new([new Field("Ts", DataType.Timestamp), new Field("Key", DataType.Int64), new Field("Price", DataType.Int64)], 0);
    private static readonly WindowAggregateSpec Spec = new(0, WindowSpec.Tumble(10_000), [1], [AggregateSpec.CountStar("n"), AggregateSpec.Sum(2, "total")]);
    private readonly BatchPool _pool = new();
    private readonly DiscardingOutput _output = new();
    private long[] _ts = [];
    private long[] _key = [];
    private long[] _price = [];

    [GlobalSetup]
    public void Setup()
    {
        var workload = new TumbleWorkload(Events, Keys);
        (_ts, _key, _price) = (workload.Ts, workload.Key, workload.Price);
    }

    [Benchmark(Baseline = true)]
    public long GenericCombiner() =>
        Run(TwoPhaseWindowAggregateOperator.Local(EventSchema, Spec, new OutputTag("raw", EventSchema), _pool, BatchRows), exchange: true);

    [Benchmark]
    public long LongKeyCombiner() =>
        Run(new LongKeyWindowCombiner(EventSchema, Spec, new OutputTag("raw", EventSchema), _pool, BatchRows, targets: 2), exchange: false);

    /// <summary>Feeds every batch; with <paramref name="exchange"/> the partial rows are also hashed to their task, as the exchange does for the generic combiner.</summary>
    private long Run(IOperator combiner, bool exchange)
    {
        _output.Exchange = exchange;
        _output.Rows = 0;
        for (var first = 0; first < Events; first += BatchRows)
        {
            var batch = _pool.Rent(EventSchema, BatchRows);
            var n = Math.Min(BatchRows, Events - first);
            Array.Copy(_ts, first, batch.ColumnAt<long>(0).Values, 0, n);
            Array.Copy(_key, first, batch.ColumnAt<long>(1).Values, 0, n);
            Array.Copy(_price, first, batch.ColumnAt<long>(2).Values, 0, n);
            batch.Count = n;
            combiner.OnBatch(batch, _output);
        }

        return _output.Rows;
    }

    /// <summary>
    /// Counts and returns partial batches; for the generic combiner it first computes each row's task as the hash exchange
    /// would (the real exchange then also copies the rows into per-task batches, which this leaves out).
    /// </summary>
    private sealed class DiscardingOutput : IOperatorOutput
    {
        private ulong[] _hashes = new ulong[BatchRows];

        public bool Exchange { get; set; }

        public long Rows { get; set; }

        /// <summary>Sum of the rows' tasks (keeps the hashing from being optimised away).</summary>
        public long Tasks { get; private set; }

        public void Emit(ColumnBatch batch)
        {
            if (Exchange)
            {
                if (_hashes.Length < batch.Count)
                {
                    _hashes = new ulong[batch.Capacity];
                }

                Streams.Engine.Runtime.Exchange.KeyHasher.HashRows(batch, [0], _hashes);
                for (var i = 0; i < batch.Count; i++)
                {
                    Tasks += Streams.Engine.Runtime.Exchange.KeyHasher.TaskOf(Streams.Engine.Runtime.Exchange.KeyHasher.KeyGroupOf(_hashes[i]), 2);
                }
            }

            Rows += batch.Count;
            batch.Dispose();
        }

        public void EmitWatermark(long watermark)
        {
        }

        public void EmitBarrier(CheckpointBarrier barrier)
        {
        }

        public void EmitError(ColumnBatch batch, int row, string reason)
        {
        }

        public void EmitSide(OutputTag tag, ColumnBatch batch) => batch.Dispose();
    }
}
