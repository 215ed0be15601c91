using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Streams.Connectors.Formats;
using Streams.Engine.Data;

namespace Streams.Perf.Formats;

/// <summary>
/// Decoding and encoding of bid rows, per row (OperationsPerInvoke = rows): NDJSON and CSV lines into a ColumnBatch, and a
/// ColumnBatch to NDJSON. The only allocations expected are the decoded VARCHAR strings themselves.
/// </summary>
[MemoryDiagnoser]
public class FormatBenchmarks
{
    private const int Rows = BatchPool.DefaultCapacity;

    private static readonly Schema Bids = new(
    [
        new Field("auction", DataType.Int64), new Field("bidder", DataType.Int64), new Field("price", DataType.Double),
        new Field("channel", DataType.String), new Field("dateTime", DataType.Timestamp),
    ], 4);

    private readonly BatchPool _pool = new();
    private byte[] _json = [];
    private byte[] _csv = [];
    private (int Start, int Length)[] _jsonLines = [];
    private (int Start, int Length)[] _csvLines = [];
    private NdjsonDecoder _jsonDecoder = null!;
    private CsvDecoder _csvDecoder = null!;
    private ColumnBatch _target = null!;
    private ColumnBatch _source = null!;
    private NdjsonEncoder _encoder = null!;

    [GlobalSetup]
    public void Setup()
    {
        var json = new StringBuilder();
        var csv = new StringBuilder("auction,bidder,price,channel,dateTime\n");
        var channels = new[] { "Google", "Facebook", "Baidu", "Apple", "channel-1234" };
        for (var i = 0; i < Rows; i++)
        {
            var ts = 1_704_067_200_000L + (i * 10L);
            json.Append(CultureInfo.InvariantCulture, $"{{\"auction\":{1000 + (i % 97)},\"bidder\":{2000 + (i % 1013)},\"price\":{(i * 37 % 100000) / 100.0},\"channel\":\"{channels[i % 5]}\",\"dateTime\":\"{IsoTimestamp.ToString(ts)}\"}}\n");
            csv.Append(CultureInfo.InvariantCulture, $"{1000 + (i % 97)},{2000 + (i % 1013)},{(i * 37 % 100000) / 100.0},{channels[i % 5]},{IsoTimestamp.ToString(ts)}\n");
        }

        _json = Encoding.UTF8.GetBytes(json.ToString());
        _csv = Encoding.UTF8.GetBytes(csv.ToString());
        _jsonLines = Lines(_json);
        _csvLines = Lines(_csv);
        _jsonDecoder = new NdjsonDecoder(Bids);
        _csvDecoder = new CsvDecoder(Bids);
        var header = _csvLines[0];
        if (!_csvDecoder.TryReadHeader(_csv.AsSpan(header.Start, header.Length), out var error))
        {
            throw new InvalidOperationException(error);
        }

        _csvLines = _csvLines[1..];
        _target = _pool.Rent(Bids);
        _source = _pool.Rent(Bids);
        foreach (var line in _jsonLines)
        {
            _jsonDecoder.TryDecode(_json.AsSpan(line.Start, line.Length), _source, out _);
        }

        _encoder = new NdjsonEncoder(Bids, Stream.Null);
    }

    private static (int, int)[] Lines(byte[] data)
    {
        var lines = new List<(int, int)>();
        var start = 0;
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] == '\n')
            {
                lines.Add((start, i - start));
                start = i + 1;
            }
        }

        return [.. lines];
    }

    [Benchmark(OperationsPerInvoke = Rows, Description = "NDJSON decode (per line)")]
    public int DecodeJson()
    {
        _target.Clear();
        var data = _json.AsSpan();
        foreach (var (start, length) in _jsonLines)
        {
            _jsonDecoder.TryDecode(data.Slice(start, length), _target, out _);
        }

        return _target.Count;
    }

    [Benchmark(OperationsPerInvoke = Rows, Description = "CSV decode (per line)")]
    public int DecodeCsv()
    {
        _target.Clear();
        var data = _csv.AsSpan();
        foreach (var (start, length) in _csvLines)
        {
            _csvDecoder.TryDecode(data.Slice(start, length), _target, out _);
        }

        return _target.Count;
    }

    [Benchmark(OperationsPerInvoke = Rows, Description = "NDJSON encode (per row)")]
    public long EncodeJson()
    {
        _encoder.Write(_source);
        _encoder.Flush();
        return _encoder.RowsWritten;
    }
}
