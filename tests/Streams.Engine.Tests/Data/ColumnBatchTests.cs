using Streams.Engine.Data;

namespace Streams.Engine.Tests.Data;

public class ColumnBatchTests
{
    private static readonly Schema Bids = new([new Field("auction", DataType.Int64), new Field("price", DataType.Double), new Field("ts", DataType.Timestamp)], 2);

    [Fact]
    public void Rented_batches_come_back_cleared_and_are_counted()
    {
        var pool = new BatchPool();
        var batch = pool.Rent(Bids, 128);
        batch.ColumnAt<long>(0).Values[3] = 42;
        batch.Columns[1].SetNull(3);
        batch.FilterOut(5);
        batch.SetKind(1, RowKind.Delete);
        batch.Count = 10;
        Assert.Equal(1, pool.Outstanding);
        Assert.Equal(9, batch.LiveCount());

        batch.Dispose();
        Assert.Equal(0, pool.Outstanding);

        var again = pool.Rent(Bids, 128);
        Assert.Same(batch, again);
        Assert.Equal(0, again.Count);
        Assert.False(again.Columns[1].IsNull(3));
        Assert.True(again.IsLive(5));
        Assert.False(again.HasRowKinds);
        again.Dispose();
    }

    [Fact]
    public void Disposing_twice_is_reported()
    {
        var pool = new BatchPool();
        var batch = pool.Rent(Bids, 64);
        batch.Dispose();
        Assert.Throws<InvalidOperationException>(batch.Dispose);
    }

    [Fact]
    public void Schema_resolves_names_case_insensitively_and_keeps_declared_case()
    {
        Assert.Equal(1, Bids.IndexOf("PRICE"));
        Assert.Equal("price", Bids[Bids.IndexOf("Price")].Name);
        Assert.Equal(-1, Bids.IndexOf("missing"));
        Assert.Throws<ArgumentException>(() => new Schema([new Field("x", DataType.Int64)], 0));
    }
}
