using System.Buffers;
using System.Globalization;
using System.Text;
using Streams.Engine.Data;

namespace Streams.Connectors.Formats;

/// <summary>
/// Writes the live rows of batches as CSV (RFC 4180) with a header row of the schema's field names. NULL is an empty
/// unquoted field and the empty string is <c>""</c>, so <see cref="CsvDecoder"/> reads back exactly what was written.
/// Fields holding the delimiter, quotes, line breaks or edge spaces are quoted. Values print as in <see cref="NdjsonEncoder"/>.
/// </summary>
public sealed class CsvEncoder : IDisposable
{
    private const int FlushThreshold = 64 * 1024;

    private readonly Schema _schema;
    private readonly Stream _output;
    private readonly byte _delimiter;
    private readonly bool _leaveOpen;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private readonly char[] _special;
    private bool _headerWritten;

    /// <summary>Creates an encoder of rows of <paramref name="schema"/> onto <paramref name="output"/>.</summary>
    public CsvEncoder(Schema schema, Stream output, byte delimiter = (byte)',', bool leaveOpen = false)
    {
        _schema = schema;
        _output = output;
        _delimiter = delimiter;
        _leaveOpen = leaveOpen;
        _special = [(char)delimiter, '"', '\n', '\r'];
    }

    /// <summary>Rows written so far.</summary>
    public long RowsWritten { get; private set; }

    /// <summary>Encodes the live rows of <paramref name="batch"/>; the caller keeps the batch.</summary>
    public void Write(ColumnBatch batch)
    {
        WriteHeader();
        for (var row = 0; row < batch.Count; row++)
        {
            if (!batch.IsLive(row))
            {
                continue;
            }

            for (var c = 0; c < batch.Columns.Length; c++)
            {
                if (c > 0)
                {
                    Put(_delimiter);
                }

                WriteValue(batch.Columns[c], row);
            }

            Put((byte)'\n');
            RowsWritten++;
            if (_buffer.WrittenCount >= FlushThreshold)
            {
                Drain();
            }
        }
    }

    private void WriteHeader()
    {
        if (_headerWritten)
        {
            return;
        }

        _headerWritten = true;
        for (var c = 0; c < _schema.Count; c++)
        {
            if (c > 0)
            {
                Put(_delimiter);
            }

            WriteText(_schema[c].Name);
        }

        Put((byte)'\n');
    }

    private void WriteValue(Column column, int row)
    {
        if (column.IsNull(row))
        {
            return;
        }

        var span = _buffer.GetSpan(64);
        int n;
        switch (column.Type)
        {
            case DataType.Int64:
                ((Column<long>)column).Values[row].TryFormat(span, out n, default, CultureInfo.InvariantCulture);
                break;
            case DataType.Int32:
                ((Column<int>)column).Values[row].TryFormat(span, out n, default, CultureInfo.InvariantCulture);
                break;
            case DataType.Double:
                var d = ((Column<double>)column).Values[row];
                d.TryFormat(span, out n, "R", CultureInfo.InvariantCulture);
                break;
            case DataType.Decimal:
                ((Column<decimal>)column).Values[row].TryFormat(span, out n, default, CultureInfo.InvariantCulture);
                break;
            case DataType.Boolean:
                n = ((Column<bool>)column).Values[row] ? Copy("true"u8, span) : Copy("false"u8, span);
                break;
            case DataType.Timestamp:
                n = IsoTimestamp.Format(((Column<long>)column).Values[row], span);
                break;
            case DataType.String:
                var s = ((Column<string?>)column).Values[row];
                if (s is not null)
                {
                    WriteText(s);
                }

                return;
            default:
                return;
        }

        _buffer.Advance(n);
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }

    private void WriteText(string text)
    {
        var needsQuotes = text.Length == 0 || text[0] == ' ' || text[^1] == ' ' ||
            text.AsSpan().IndexOfAny(_special) >= 0;
        if (!needsQuotes)
        {
            var span = _buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
            _buffer.Advance(Encoding.UTF8.GetBytes(text, span));
            return;
        }

        Put((byte)'"');
        foreach (var part in text.AsSpan().Split('"'))
        {
            if (part.Start.Value > 0)
            {
                Put((byte)'"');
                Put((byte)'"');
            }

            var chars = text.AsSpan()[part];
            var span = _buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(chars.Length));
            _buffer.Advance(Encoding.UTF8.GetBytes(chars, span));
        }

        Put((byte)'"');
    }

    private void Put(byte b)
    {
        _buffer.GetSpan(1)[0] = b;
        _buffer.Advance(1);
    }

    private void Drain()
    {
        _output.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    /// <summary>Writes everything buffered (and the header, even with no rows) to the stream and flushes it.</summary>
    public void Flush()
    {
        WriteHeader();
        Drain();
        _output.Flush();
    }

    /// <summary>Flushes and closes the stream unless it was left open.</summary>
    public void Dispose()
    {
        Flush();
        if (!_leaveOpen)
        {
            _output.Dispose();
        }
    }
}
