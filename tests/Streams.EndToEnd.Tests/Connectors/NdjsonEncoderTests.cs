using System.Text;
using System.Text.Json;
using Streams.Connectors.Formats;
using Streams.Engine.Data;
using static Streams.EndToEnd.Tests.Connectors.ConnectorTestKit;

namespace Streams.EndToEnd.Tests.Connectors;

public sealed class NdjsonEncoderTests
{
    private static readonly Schema AllTypes = new(
    [
        new Field("Id", DataType.Int64), new Field("n", DataType.Int32), new Field("Price", DataType.Double),
        new Field("amount", DataType.Decimal), new Field("name", DataType.String), new Field("ok", DataType.Boolean),
        new Field("ts", DataType.Timestamp),
    ]);

    private static string Encode(Schema schema, bool op, Action<ColumnBatch> fill, out NdjsonEncoder encoder)
    {
        var pool = new BatchPool();
        using var stream = new MemoryStream();
        using var batch = pool.Rent(schema);
        fill(batch);
        encoder = new NdjsonEncoder(schema, stream, new NdjsonEncoderOptions { ChangelogOp = op, LeaveOpen = true });
        encoder.Write(batch);
        encoder.Flush();
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public void Every_type_is_written_per_the_output_contract()
    {
        var pool = new BatchPool();
        using var batch = Batch(pool, AllTypes,
            [42L, 7, 1.5, 12.50m, "a \"quoted\" é", true, Millis("2024-01-01T00:00:10Z")],
            [-1L, -2, 2.0, 0m, "", false, Millis("2024-01-01T00:00:10.250Z")],
            [null, null, null, null, null, null, null]);
        using var stream = new MemoryStream();
        using (var encoder = new NdjsonEncoder(AllTypes, stream, new NdjsonEncoderOptions { LeaveOpen = true }))
        {
            encoder.Write(batch);
        }

        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("", lines[3]);
        Assert.Equal("""{"Id":42,"n":7,"Price":1.5,"amount":12.50,"name":"a \"quoted\" é","ok":true,"ts":"2024-01-01T00:00:10Z"}""", lines[0]);
        Assert.Equal("""{"Id":-1,"n":-2,"Price":2.0,"amount":0,"name":"","ok":false,"ts":"2024-01-01T00:00:10.250Z"}""", lines[1]);
        Assert.Equal("""{"Id":null,"n":null,"Price":null,"amount":null,"name":null,"ok":null,"ts":null}""", lines[2]);
        foreach (var line in lines[..3])
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }
    }

    [Theory]
    [InlineData(2.0, "2.0")]
    [InlineData(-3.0, "-3.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e20, "1E+20")]
    [InlineData(1.5e-7, "1.5E-07")]
    [InlineData(123456789.125, "123456789.125")]
    public void Doubles_are_round_trippable_numbers_with_a_fraction(double value, string expected)
    {
        var schema = new Schema([new Field("d", DataType.Double)]);
        var text = Encode(schema, false, b => { b.Columns[0].SetBoxed(0, value); b.Count = 1; }, out _);
        Assert.Equal("{\"d\":" + expected + "}\n", text);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(value, doc.RootElement.GetProperty("d").GetDouble());
    }

    [Fact]
    public void NaN_and_infinity_become_null_and_are_counted()
    {
        var schema = new Schema([new Field("d", DataType.Double)]);
        var text = Encode(schema, false, b =>
        {
            b.Columns[0].SetBoxed(0, double.NaN);
            b.Columns[0].SetBoxed(1, double.PositiveInfinity);
            b.Columns[0].SetBoxed(2, 1.0);
            b.Count = 3;
        }, out var encoder);
        Assert.Equal("{\"d\":null}\n{\"d\":null}\n{\"d\":1.0}\n", text);
        Assert.Equal(2, encoder.NonFiniteDoubles);
        Assert.Equal(3, encoder.RowsWritten);
    }

    [Theory]
    [InlineData("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z")]
    [InlineData("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z")]
    [InlineData("2024-02-29T12:34:56.007Z", "2024-02-29T12:34:56.007Z")]
    [InlineData("9999-12-31T23:59:59.100Z", "9999-12-31T23:59:59.100Z")]
    public void Timestamps_print_as_iso_utc_with_millis_only_when_present(string input, string expected)
    {
        var millis = Millis(input);
        var schema = new Schema([new Field("ts", DataType.Timestamp)]);
        var text = Encode(schema, false, b => { b.Columns[0].SetBoxed(0, millis); b.Count = 1; }, out _);
        Assert.Equal("{\"ts\":\"" + expected + "\"}\n", text);
        Assert.Equal(expected, IsoTimestamp.ToString(millis));
    }

    [Fact]
    public void Filtered_rows_are_skipped_and_changelog_rows_carry_op()
    {
        var schema = new Schema([new Field("k", DataType.String), new Field("c", DataType.Int64)]);
        var text = Encode(schema, true, b =>
        {
            for (var i = 0; i < 5; i++)
            {
                b.Columns[0].SetBoxed(i, "k" + i);
                b.Columns[1].SetBoxed(i, (long)i);
            }

            b.Count = 5;
            b.SetKind(1, RowKind.UpdateBefore);
            b.SetKind(2, RowKind.UpdateAfter);
            b.SetKind(3, RowKind.Delete);
            b.FilterOut(4);
        }, out var encoder);
        Assert.Equal(
            "{\"op\":\"+I\",\"k\":\"k0\",\"c\":0}\n{\"op\":\"-U\",\"k\":\"k1\",\"c\":1}\n{\"op\":\"+U\",\"k\":\"k2\",\"c\":2}\n{\"op\":\"-D\",\"k\":\"k3\",\"c\":3}\n",
            text);
        Assert.Equal(4, encoder.RowsWritten);
    }

    [Fact]
    public void Large_outputs_flush_in_chunks_and_stay_line_per_row()
    {
        var schema = new Schema([new Field("i", DataType.Int64), new Field("s", DataType.String)]);
        var pool = new BatchPool();
        using var stream = new MemoryStream();
        using (var encoder = new NdjsonEncoder(schema, stream, new NdjsonEncoderOptions { LeaveOpen = true }))
        {
            for (var b = 0; b < 5; b++)
            {
                using var batch = pool.Rent(schema);
                for (var i = 0; i < batch.Capacity; i++)
                {
                    batch.ColumnAt<long>(0).Values[i] = (b * batch.Capacity) + i;
                    batch.ColumnAt<string?>(1).Values[i] = "row";
                }

                batch.Count = batch.Capacity;
                encoder.Write(batch);
            }
        }

        var lines = Encoding.UTF8.GetString(stream.ToArray()).TrimEnd('\n').Split('\n');
        Assert.Equal(5 * BatchPool.DefaultCapacity, lines.Length);
        for (var i = 0; i < lines.Length; i += 997)
        {
            Assert.Equal($"{{\"i\":{i},\"s\":\"row\"}}", lines[i]);
        }
    }
}
