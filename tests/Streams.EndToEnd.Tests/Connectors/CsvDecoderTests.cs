using System.Text;
using Streams.Connectors.Formats;
using Streams.Engine.Data;
using static Streams.EndToEnd.Tests.Connectors.ConnectorTestKit;

namespace Streams.EndToEnd.Tests.Connectors;

public sealed class CsvDecoderTests
{
    private static readonly Schema Schema = new([new Field("id", DataType.Int64), new Field("name", DataType.String), new Field("ts", DataType.Timestamp), new Field("price", DataType.Double)]);

    [Fact]
    public void Header_maps_columns_by_name_and_quoting_follows_rfc_4180()
    {
        var pool = new BatchPool();
        using var batch = pool.Rent(Schema);
        var decoder = new CsvDecoder(Schema);
        Assert.True(decoder.TryReadHeader("PRICE,unused,Name,id,ts"u8, out _));
        Assert.True(decoder.TryDecode("1.5,zzz,plain,1,2024-01-01T00:00:10Z"u8, batch, out _));
        Assert.True(decoder.TryDecode("2,\"q,\"\"x\"\"\",\"a \"\"quoted\"\", comma\",2,1704067210250"u8, batch, out _));
        Assert.True(decoder.TryDecode(",,\"\",3,"u8, batch, out _));
        Assert.True(decoder.TryDecode("4.25,,\"multi\nline\",4,2024-01-01 00:00:11"u8, batch, out _));
        Assert.Equal(
            [
                new object?[] { 1L, "plain", Millis("2024-01-01T00:00:10Z"), 1.5 },
                [2L, "a \"quoted\", comma", Millis("2024-01-01T00:00:10.250Z"), 2.0],
                [3L, "", null, null],
                [4L, "multi\nline", Millis("2024-01-01T00:00:11Z"), 4.25],
            ],
            Rows(batch));
    }

    [Fact]
    public void Bad_records_are_rejected_with_a_reason_and_leave_the_batch_as_it_was()
    {
        var pool = new BatchPool();
        using var batch = pool.Rent(Schema);
        var decoder = new CsvDecoder(Schema);
        Assert.True(decoder.TryReadHeader("id,name"u8, out _));
        Assert.False(decoder.TryDecode("x1,a"u8, batch, out var notNumber));
        Assert.Equal("column 'id': value 'x1' is not a valid BIGINT", notNumber);
        Assert.False(decoder.TryDecode("1,a,extra"u8, batch, out var tooMany));
        Assert.Equal("expected 2 fields as in the header, found 3", tooMany);
        Assert.False(decoder.TryDecode("1"u8, batch, out var tooFew));
        Assert.Equal("expected 2 fields as in the header, found 1", tooFew);
        Assert.False(decoder.TryDecode("1,\"open"u8, batch, out var unterminated));
        Assert.Contains("unterminated", unterminated);
        Assert.False(decoder.TryDecode("1,\"a\"b"u8, batch, out var afterQuote));
        Assert.Contains("after the closing quote", afterQuote);
        Assert.True(decoder.TryDecode("5,ok"u8, batch, out _));
        Assert.Equal([new object?[] { 5L, "ok", null, null }], Rows(batch));
    }

    [Fact]
    public void A_header_naming_no_column_is_an_error()
    {
        var decoder = new CsvDecoder(Schema);
        Assert.False(decoder.TryReadHeader("a,b,c"u8, out var error));
        Assert.Contains("names none of the columns", error);
    }

    [Fact]
    public void Csv_encoder_output_reads_back_identically()
    {
        var pool = new BatchPool();
        using var batch = Batch(pool, Schema,
            [1L, "plain", 1704067210000L, 1.5],
            [2L, "with, comma and \"quotes\"\nand a line break", 1704067210250L, -0.25],
            [3L, "", null, null],
            [null, " padded ", 0L, 1e20]);
        using var stream = new MemoryStream();
        using (var encoder = new CsvEncoder(Schema, stream, leaveOpen: true))
        {
            encoder.Write(batch);
        }

        var text = Encoding.UTF8.GetString(stream.ToArray());
        Assert.StartsWith("id,name,ts,price\n1,plain,2024-01-01T00:00:10Z,1.5\n", text);
        var records = SplitRecords(stream.ToArray());
        var decoder = new CsvDecoder(Schema);
        Assert.True(decoder.TryReadHeader(records[0], out _));
        using var back = pool.Rent(Schema);
        foreach (var record in records.Skip(1))
        {
            Assert.True(decoder.TryDecode(record, back, out var error), error);
        }

        Assert.Equal(Rows(batch), Rows(back));
    }

    private static List<byte[]> SplitRecords(byte[] data)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, data);
            using var handle = File.OpenHandle(path);
            using var reader = new RecordReader(handle, 0, 1, quoteAware: true);
            var records = new List<byte[]>();
            while (reader.TryRead(out var record, out _))
            {
                records.Add(record.ToArray());
            }

            return records;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
