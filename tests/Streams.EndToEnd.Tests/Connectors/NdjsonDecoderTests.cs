using System.Text;
using Streams.Connectors.Formats;
using Streams.Engine.Data;
using static Streams.EndToEnd.Tests.Connectors.ConnectorTestKit;

namespace Streams.EndToEnd.Tests.Connectors;

public sealed class NdjsonDecoderTests
{
    private static object? DecodeOne(DataType type, string json, out string? error)
    {
        var schema = new Schema([new Field("v", type)]);
        var pool = new BatchPool();
        using var batch = pool.Rent(schema);
        var ok = new NdjsonDecoder(schema).TryDecode(Encoding.UTF8.GetBytes("{\"v\":" + json + "}"), batch, out error);
        Assert.Equal(ok, error is null);
        Assert.Equal(ok ? 1 : 0, batch.Count);
        return ok ? batch.Columns[0].GetBoxed(0) : null;
    }

    public static TheoryData<DataType, string, object?> Coercions => new()
    {
        { DataType.Int64, "42", 42L },
        { DataType.Int64, "-9223372036854775808", long.MinValue },
        { DataType.Int64, "3.0", 3L },
        { DataType.Int64, "1e3", 1000L },
        { DataType.Int64, "\"17\"", 17L },
        { DataType.Int32, "2147483647", int.MaxValue },
        { DataType.Int32, "\"-5\"", -5 },
        { DataType.Double, "1.5", 1.5 },
        { DataType.Double, "7", 7.0 },
        { DataType.Double, "-2.5e-3", -0.0025 },
        { DataType.Double, "\"3.25\"", 3.25 },
        { DataType.Decimal, "12.345", 12.345m },
        { DataType.Decimal, "10", 10m },
        { DataType.Boolean, "true", true },
        { DataType.Boolean, "\"FALSE\"", false },
        { DataType.String, "\"héllo\\n\\u0041\"", "héllo\nA" },
        { DataType.String, "12.50", "12.50" },
        { DataType.String, "true", "true" },
        { DataType.String, "{\"a\": [1, 2]}", "{\"a\": [1, 2]}" },
        { DataType.Timestamp, "1704067210000", 1704067210000L },
        { DataType.Timestamp, "\"2024-01-01T00:00:10Z\"", 1704067210000L },
        { DataType.Timestamp, "\"2024-01-01T00:00:10\"", 1704067210000L },
        { DataType.Timestamp, "\"2024-01-01 00:00:10.250\"", 1704067210250L },
        { DataType.Timestamp, "\"2024-01-01T02:00:10.5+02:00\"", 1704067210500L },
        { DataType.Timestamp, "\"2023-12-31T19:00:10-0500\"", 1704067210000L },
        { DataType.Timestamp, "\"2024-01-01T00:00:10.123456789Z\"", 1704067210123L },
        { DataType.Timestamp, "\"2024-01-01\"", 1704067200000L },
        { DataType.Timestamp, "\"1704067210000\"", 1704067210000L },
        { DataType.Int64, "null", null },
        { DataType.Timestamp, "null", null },
    };

    [Theory]
    [MemberData(nameof(Coercions))]
    public void Values_coerce_to_the_declared_column_type(DataType type, string json, object? expected)
    {
        var value = DecodeOne(type, json, out var error);
        Assert.Null(error);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData(DataType.Int32, "2147483648", "not a valid INT")]
    [InlineData(DataType.Int64, "1.5", "not a valid BIGINT")]
    [InlineData(DataType.Int64, "99999999999999999999", "not a valid BIGINT")]
    [InlineData(DataType.Int64, "\"abc\"", "not a valid BIGINT")]
    [InlineData(DataType.Int64, "true", "not a valid BIGINT")]
    [InlineData(DataType.Boolean, "1", "not a valid BOOLEAN")]
    [InlineData(DataType.Double, "\"x1\"", "not a valid DOUBLE")]
    [InlineData(DataType.Timestamp, "\"2024-13-01T00:00:00Z\"", "not a valid TIMESTAMP(3)")]
    [InlineData(DataType.Timestamp, "\"2023-02-29\"", "not a valid TIMESTAMP(3)")]
    [InlineData(DataType.Timestamp, "\"yesterday\"", "not a valid TIMESTAMP(3)")]
    [InlineData(DataType.Timestamp, "1.5", "not a valid TIMESTAMP(3)")]
    [InlineData(DataType.Int64, "[1]", "not a valid BIGINT")]
    public void Values_that_do_not_fit_reject_the_line_with_a_reason(DataType type, string json, string reason)
    {
        DecodeOne(type, json, out var error);
        Assert.NotNull(error);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Keys_match_case_insensitively_missing_fields_are_null_and_extra_fields_are_ignored()
    {
        var schema = new Schema([new Field("Auction", DataType.Int64), new Field("price", DataType.Double), new Field("Ünit", DataType.String)]);
        var pool = new BatchPool();
        using var batch = pool.Rent(schema);
        var decoder = new NdjsonDecoder(schema);
        Assert.True(decoder.TryDecode("{\"AUCTION\": 5, \"extra\": {\"x\": [1, {\"y\": 2}]}, \"PRICE\": 2, \"ünit\": \"kg\"}"u8, batch, out _));
        Assert.True(decoder.TryDecode("{\"auction\": 6}"u8, batch, out _));
        Assert.True(decoder.TryDecode("{\"pr\\u0069ce\": 1.25, \"Auction\": null}"u8, batch, out _));
        Assert.Equal(
            [new object?[] { 5L, 2.0, "kg" }, [6L, null, null], [null, 1.25, null]],
            Rows(batch));
    }

    [Fact]
    public void A_rejected_line_leaves_no_trace_in_the_batch()
    {
        var schema = new Schema([new Field("a", DataType.Int64), new Field("b", DataType.String)]);
        var pool = new BatchPool();
        using var batch = pool.Rent(schema);
        var decoder = new NdjsonDecoder(schema);
        Assert.True(decoder.TryDecode("{\"a\":1,\"b\":\"x\"}"u8, batch, out _));
        Assert.False(decoder.TryDecode("{\"b\":\"poison\",\"a\":\"nope\"}"u8, batch, out var e1));
        Assert.Contains("'nope'", e1);
        Assert.False(decoder.TryDecode("{\"a\":2,"u8, batch, out var e2));
        Assert.StartsWith("malformed JSON", e2);
        Assert.False(decoder.TryDecode("[1,2]"u8, batch, out var e3));
        Assert.Equal("line is not a JSON object", e3);
        Assert.False(decoder.TryDecode("{\"a\":1} {\"a\":2}"u8, batch, out _));
        Assert.True(decoder.TryDecode("{\"a\":3}"u8, batch, out _));
        Assert.Equal([new object?[] { 1L, "x" }, [3L, null]], Rows(batch));
    }

    [Fact]
    public void A_not_null_field_rejects_missing_and_null_values()
    {
        var schema = new Schema([new Field("k", DataType.Int64, Nullable: false), new Field("v", DataType.Int64)]);
        var pool = new BatchPool();
        using var batch = pool.Rent(schema);
        var decoder = new NdjsonDecoder(schema);
        Assert.False(decoder.TryDecode("{\"v\":1}"u8, batch, out var missing));
        Assert.Contains("NOT NULL", missing);
        Assert.False(decoder.TryDecode("{\"k\":null}"u8, batch, out var isNull));
        Assert.Contains("NOT NULL", isNull);
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void Iso_text_round_trips_through_parse_and_format_for_many_instants()
    {
        var random = new Random(7);
        Span<byte> buffer = stackalloc byte[IsoTimestamp.MaxLength];
        for (var i = 0; i < 20_000; i++)
        {
            var millis = random.NextInt64(-62_135_596_800_000L, 253_402_300_799_999L);
            var n = IsoTimestamp.Format(millis, buffer);
            Assert.True(IsoTimestamp.TryParse(buffer[..n], out var back));
            Assert.Equal(millis, back);
            var expected = DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime
                .ToString(millis % 1000 == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..n]));
        }
    }
}
