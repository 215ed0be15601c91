using Streams.Engine.Data;

namespace Streams.Engine.Tests.Data;

public class ArrowConversionTests : PooledBatchTest
{
    private static readonly Schema Mixed = new(
    [
        new Field("flag", DataType.Boolean), new Field("small", DataType.Int32), new Field("big", DataType.Int64), new Field("ratio", DataType.Double),
        new Field("money", DataType.Decimal), new Field("name", DataType.String), new Field("ts", DataType.Timestamp),
    ], 6);

    [Fact]
    public void Live_rows_round_trip_through_an_arrow_record_batch_with_nulls()
    {
        using var batch = Pool.Rent(Mixed, 16);
        object?[][] rows =
        [
            [true, 1, 10L, 0.5, 1.25m, "a", 1_700_000_000_000L],
            [false, null, 20L, double.NaN, null, null, 1_700_000_000_001L],
            [null, 3, null, -1.0, -7m, "gone", 5L],
            [true, 4, 40L, 2.0, 0.001m, "d", null],
        ];
        for (var r = 0; r < rows.Length; r++)
        {
            for (var c = 0; c < Mixed.Count; c++)
            {
                batch.Columns[c].SetBoxed(r, rows[r][c]);
            }
        }

        batch.Count = rows.Length;
        batch.FilterOut(2);

        var record = Engine.Data.ArrowConversion.ToRecordBatch(batch);
        Assert.Equal(3, record.Length);
        Assert.Equal("ts", record.Schema.GetFieldByIndex(6).Name);

        var back = Assert.Single(Engine.Data.ArrowConversion.FromRecordBatch(record, Mixed, Pool));
        try
        {
            var expected = new[] { rows[0], rows[1], rows[3] };
            for (var r = 0; r < expected.Length; r++)
            {
                for (var c = 0; c < Mixed.Count; c++)
                {
                    Assert.Equal(expected[r][c], back.Columns[c].GetBoxed(r));
                }
            }
        }
        finally
        {
            back.Dispose();
        }
    }
}
