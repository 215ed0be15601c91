using BenchmarkDotNet.Attributes;
using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.IntervalJoin;
using Streams.Engine.Operators.Joins;

namespace Streams.Perf.Joins;

/// <summary>
/// Interval join throughput: bids and auctions, ts = i ms on both sides, key = (i * 2654435761) % keys,
/// <c>a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts - INTERVAL '5' SECOND AND a.ts</c>, a watermark after every batch pair.
/// Time per operation = time per input event (both sides counted). Run:
/// <c>dotnet run -c Release --project perf -- --filter *IntervalJoin* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class IntervalJoinBenchmark
{
    private const int EventsPerSide = 1 << 20;
    private const int BatchRows = BatchPool.DefaultCapacity;
    private static readonly Schema Left = new([new Field("k", DataType.Int64), new Field("ts", DataType.Timestamp), new Field("price", DataType.Int64)], 1);
    private static readonly Schema Right = new([new Field("k", DataType.Int64), new Field("ts", DataType.Timestamp), new Field("seller", DataType.Int64)], 1);
    private readonly BatchPool _pool = new();
    private readonly CountingOutput _output = new();
    private long[] _keys = [];
    private long[] _times = [];

    /// <summary>Distinct join keys.</summary>
    [Params(1000, 100_000)]
    public int Keys { get; set; }

    /// <summary>Inner or LEFT.</summary>
    [Params(JoinType.Inner, JoinType.Left)]
    public JoinType Type { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = new long[EventsPerSide];
        _times = new long[EventsPerSide];
        for (var i = 0; i < EventsPerSide; i++)
        {
            _keys[i] = (long)((ulong)i * 2654435761UL % (ulong)Keys);
            _times[i] = i;
        }
    }

    [Benchmark(OperationsPerInvoke = 2 * EventsPerSide)]
    public long Join()
    {
        var op = new IntervalJoinOperator(Left, Right, [0], [0], -5000, 0, Type);
        _output.Rows = 0;
        for (var start = 0; start < EventsPerSide; start += BatchRows)
        {
            op.OnBatch(JoinSide.Left, Fill(Left, start), _output);
            op.OnBatch(JoinSide.Right, Fill(Right, start), _output);
            op.OnWatermark(_times[start + BatchRows - 1], _output);
        }

        op.OnWatermark(long.MaxValue, _output);
        return _output.Rows;
    }

    private ColumnBatch Fill(Schema schema, int start)
    {
        var batch = _pool.Rent(schema, BatchRows);
        Array.Copy(_keys, start, batch.ColumnAt<long>(0).Values, 0, BatchRows);
        Array.Copy(_times, start, batch.ColumnAt<long>(1).Values, 0, BatchRows);
        Array.Copy(_times, start, batch.ColumnAt<long>(2).Values, 0, BatchRows);
        batch.Count = BatchRows;
        return batch;
    }

    private sealed class CountingOutput : IOperatorOutput
    {
        public long Rows { get; set; }

        public void Emit(ColumnBatch batch)
        {
            Rows += batch.Count;
            batch.Dispose();
        }

        public void EmitWatermark(long watermark)
        {
        }

        public void EmitBarrier(CheckpointBarrier barrier)
        {
        }

        public void EmitError(ColumnBatch batch, int row, string reason) => throw new InvalidOperationException(reason);
    }
}
