using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Perf.Shared;

/// <summary>
/// Bid-shaped input for operator benchmarks: (auction, bidder, price, dateTime) with Nexmark-like skew, rented from a
/// pool and refilled from templates so a benchmark measures the operator, not data generation.
/// </summary>
internal sealed class BidBatches
{
    public const int Rows = 4096;

    private readonly long[][] _auction;
    private readonly long[][] _bidder;
    private readonly long[][] _price;
    private readonly long[][] _time;
    private long _timeShift;
    private int _next;

    public BidBatches(int batches, long auctions, long millisPerRow)
    {
        var random = new Random(42);
        _auction = new long[batches][];
        _bidder = new long[batches][];
        _price = new long[batches][];
        _time = new long[batches][];
        for (var b = 0; b < batches; b++)
        {
            _auction[b] = new long[Rows];
            _bidder[b] = new long[Rows];
            _price[b] = new long[Rows];
            _time[b] = new long[Rows];
            for (var r = 0; r < Rows; r++)
            {
                // Half the bids go to a few hot auctions, as in the Nexmark generator.
                _auction[b][r] = random.Next(2) == 0 ? random.NextInt64(auctions / 100 + 1) : random.NextInt64(auctions);
                _bidder[b][r] = random.NextInt64(10_000);
                _price[b][r] = random.NextInt64(1, 100_000);
                _time[b][r] = (((long)b * Rows) + r) * millisPerRow;
            }
        }

        Span = batches * Rows * millisPerRow;
    }

    public static Schema Schema { get; } = new(
    [
        new Field("auction", DataType.Int64), new Field("bidder", DataType.Int64),
        new Field("price", DataType.Int64), new Field("dateTime", DataType.Timestamp),
    ], 3);

    public BatchPool Pool { get; } = new();

    /// <summary>Event time covered by one pass over the templates; later passes continue after it.</summary>
    public long Span { get; }

    /// <summary>The latest event time handed out so far.</summary>
    public long MaxTime { get; private set; }

    /// <summary>A filled batch (owned by the caller); event time keeps increasing across passes.</summary>
    public ColumnBatch Next()
    {
        var b = _next;
        var batch = Pool.Rent(Schema, Rows);
        _auction[b].CopyTo(batch.ColumnAt<long>(0).Values, 0);
        _bidder[b].CopyTo(batch.ColumnAt<long>(1).Values, 0);
        _price[b].CopyTo(batch.ColumnAt<long>(2).Values, 0);
        var time = batch.ColumnAt<long>(3).Values;
        var template = _time[b];
        var shift = _timeShift;
        for (var r = 0; r < Rows; r++)
        {
            time[r] = template[r] + shift;
        }

        batch.Count = Rows;
        MaxTime = time[Rows - 1];
        if (++_next == _auction.Length)
        {
            _next = 0;
            _timeShift += Span;
        }

        return batch;
    }
}

/// <summary>An operator output that drops what it is given (returning batches to their pool) and counts rows.</summary>
internal sealed class DiscardingOutput : IOperatorOutput
{
    public long Rows { get; private set; }

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

    public void EmitError(ColumnBatch batch, int row, string reason)
    {
    }

    public void EmitSide(OutputTag tag, ColumnBatch batch) => batch.Dispose();
}
