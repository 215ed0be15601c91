using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Streams.Engine.Data;

namespace Streams.Connectors.Formats;

/// <summary>
/// Writes the live rows of batches as NDJSON, one object per line, per the output contract: keys are the schema's field
/// names in their declared case; BIGINT/INT are JSON integers; DOUBLE is a number printed shortest-round-trip and always
/// with a fraction or exponent (<c>2.0</c>, <c>1.5</c>, <c>1E+20</c>, as Flink prints doubles) so a reader sees a floating
/// value; NaN and ±Infinity are not JSON and become <c>null</c> (counted in <see cref="NonFiniteDoubles"/>); DECIMAL is a
/// number with its scale; VARCHAR a string; BOOLEAN true/false; NULL null; TIMESTAMP ISO-8601 UTC text
/// (<c>2024-01-01T00:00:10Z</c>, with <c>.fff</c> only when milliseconds are not zero).
/// With <see cref="NdjsonEncoderOptions.ChangelogOp"/>, each object starts with <c>"op"</c>: <c>+I</c>, <c>-U</c>, <c>+U</c> or <c>-D</c>.
/// </summary>
public sealed class NdjsonEncoder : IDisposable
{
    private const int FlushThreshold = 64 * 1024;

    private static readonly JsonEncodedText OpKey = JsonEncodedText.Encode("op", JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
    private static readonly JsonEncodedText BeforeKey = JsonEncodedText.Encode("before");
    private static readonly JsonEncodedText AfterKey = JsonEncodedText.Encode("after");
    private static readonly JsonEncodedText CreateOp = JsonEncodedText.Encode("c");
    private static readonly JsonEncodedText DeleteOp = JsonEncodedText.Encode("d");
    private static readonly JsonEncodedText[] OpValues =
    [
        JsonEncodedText.Encode("+I", JavaScriptEncoder.UnsafeRelaxedJsonEscaping),
        JsonEncodedText.Encode("-U", JavaScriptEncoder.UnsafeRelaxedJsonEscaping),
        JsonEncodedText.Encode("+U", JavaScriptEncoder.UnsafeRelaxedJsonEscaping),
        JsonEncodedText.Encode("-D", JavaScriptEncoder.UnsafeRelaxedJsonEscaping),
    ];

    private readonly Stream _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private readonly Utf8JsonWriter _writer;
    private readonly JsonEncodedText[] _keys;
    private readonly DataType[] _types;
    private readonly bool[] _omit;
    private readonly bool _op;
    private readonly bool _debezium;
    private readonly bool _leaveOpen;

    /// <summary>Creates an encoder of rows of <paramref name="schema"/> onto <paramref name="output"/>.</summary>
    public NdjsonEncoder(Schema schema, Stream output, NdjsonEncoderOptions? options = null)
    {
        options ??= new NdjsonEncoderOptions();
        _output = output;
        _op = options.ChangelogOp;
        _debezium = options.DebeziumEnvelope;
        _leaveOpen = options.LeaveOpen;
        _keys = new JsonEncodedText[schema.Count];
        _types = new DataType[schema.Count];
        _omit = new bool[schema.Count];
        for (var i = 0; i < schema.Count; i++)
        {
            _keys[i] = JsonEncodedText.Encode(schema[i].Name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
            _types[i] = schema[i].Type;
            _omit[i] = options.OmitFields?.Contains(schema[i].Name) == true;
        }

        // Relaxed escaping keeps UTF-8 text readable and "+I" unescaped; the output is still valid JSON.
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
    }

    /// <summary>Rows written so far.</summary>
    public long RowsWritten { get; private set; }

    /// <summary>DOUBLE values that were NaN or infinite and were written as null.</summary>
    public long NonFiniteDoubles { get; private set; }

    /// <summary>Bytes written to the stream so far (after <see cref="Flush"/>: all of them).</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Encodes the live rows of <paramref name="batch"/> (filtered-out rows are skipped); the caller keeps the batch.</summary>
    public void Write(ColumnBatch batch)
    {
        var columns = batch.Columns;
        for (var row = 0; row < batch.Count; row++)
        {
            if (!batch.IsLive(row))
            {
                continue;
            }

            WriteObject(batch, columns, row);
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            _writer.Reset();
            RowsWritten++;
            if (_buffer.WrittenCount >= FlushThreshold)
            {
                Drain();
            }
        }
    }

    /// <summary>
    /// Encodes row <paramref name="row"/> of <paramref name="batch"/> as one JSON object (no newline) and returns its bytes,
    /// valid until the next call. For sinks that route rows one by one (the log sink); not to be mixed with <see cref="Write"/>.
    /// </summary>
    public ReadOnlySpan<byte> EncodeRow(ColumnBatch batch, int row)
    {
        _buffer.ResetWrittenCount();
        WriteObject(batch, batch.Columns, row);
        _writer.Reset();
        RowsWritten++;
        return _buffer.WrittenSpan;
    }

    private void WriteObject(ColumnBatch batch, Column[] columns, int row)
    {
        _writer.WriteStartObject();
        if (_debezium)
        {
            // As Flink's debezium-json writes a changelog: +I and +U become creates of "after", -U and -D deletes of "before".
            var added = batch.KindOf(row) is RowKind.Insert or RowKind.UpdateAfter;
            WriteImageOrNull(BeforeKey, !added, columns, row);
            WriteImageOrNull(AfterKey, added, columns, row);
            _writer.WriteString(OpKey, added ? CreateOp : DeleteOp);
        }
        else
        {
            if (_op)
            {
                _writer.WriteString(OpKey, OpValues[(int)batch.KindOf(row)]);
            }

            WriteFieldsOf(columns, row);
        }

        _writer.WriteEndObject();
        _writer.Flush();
    }

    /// <summary>Writes <paramref name="key"/>: the row as an object, or null.</summary>
    private void WriteImageOrNull(JsonEncodedText key, bool image, Column[] columns, int row)
    {
        if (!image)
        {
            _writer.WriteNull(key);
            return;
        }

        _writer.WriteStartObject(key);
        WriteFieldsOf(columns, row);
        _writer.WriteEndObject();
    }

    private void WriteFieldsOf(Column[] columns, int row)
    {
        for (var c = 0; c < columns.Length; c++)
        {
            if (_omit[c])
            {
                continue;
            }

            _writer.WritePropertyName(_keys[c]);
            WriteValue(columns[c], _types[c], row);
        }
    }

    private void WriteValue(Column column, DataType type, int row)
    {
        if (column.IsNull(row))
        {
            _writer.WriteNullValue();
            return;
        }

        switch (type)
        {
            case DataType.Int64:
                _writer.WriteNumberValue(((Column<long>)column).Values[row]);
                break;
            case DataType.Int32:
                _writer.WriteNumberValue(((Column<int>)column).Values[row]);
                break;
            case DataType.Double:
                WriteDouble(((Column<double>)column).Values[row]);
                break;
            case DataType.Decimal:
                _writer.WriteNumberValue(((Column<decimal>)column).Values[row]);
                break;
            case DataType.Boolean:
                _writer.WriteBooleanValue(((Column<bool>)column).Values[row]);
                break;
            case DataType.String:
                var s = ((Column<string?>)column).Values[row];
                if (s is null)
                {
                    _writer.WriteNullValue();
                }
                else
                {
                    _writer.WriteStringValue(s);
                }

                break;
            case DataType.Timestamp:
                Span<byte> text = stackalloc byte[IsoTimestamp.MaxLength];
                var n = IsoTimestamp.Format(((Column<long>)column).Values[row], text);
                _writer.WriteStringValue(text[..n]);
                break;
            default:
                _writer.WriteNullValue();
                break;
        }
    }

    private void WriteDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            NonFiniteDoubles++;
            _writer.WriteNullValue();
            return;
        }

        Span<byte> text = stackalloc byte[40];
        value.TryFormat(text, out var n, "R", CultureInfo.InvariantCulture);
        if (text[..n].IndexOfAnyExcept("-0123456789"u8) < 0)
        {
            text[n++] = (byte)'.';
            text[n++] = (byte)'0';
        }

        _writer.WriteRawValue(text[..n], skipInputValidation: true);
    }

    private void Drain()
    {
        _output.Write(_buffer.WrittenSpan);
        BytesWritten += _buffer.WrittenCount;
        _buffer.ResetWrittenCount();
    }

    /// <summary>Writes everything buffered to the stream and flushes it.</summary>
    public void Flush()
    {
        Drain();
        _output.Flush();
    }

    /// <summary>Flushes, and closes the stream unless <see cref="NdjsonEncoderOptions.LeaveOpen"/>.</summary>
    public void Dispose()
    {
        Flush();
        _writer.Dispose();
        if (!_leaveOpen)
        {
            _output.Dispose();
        }
    }
}

/// <summary>How <see cref="NdjsonEncoder"/> writes.</summary>
public sealed record NdjsonEncoderOptions
{
    /// <summary>Adds an <c>"op"</c> field (<c>+I</c>, <c>-U</c>, <c>+U</c>, <c>-D</c>) to every row: changelog output.</summary>
    public bool ChangelogOp { get; init; }

    /// <summary>
    /// Writes each row as a Debezium change event (<c>{"before": null, "after": {...}, "op": "c"}</c> for +I/+U,
    /// <c>{"before": {...}, "after": null, "op": "d"}</c> for -U/-D): the <c>debezium-json</c> format.
    /// </summary>
    public bool DebeziumEnvelope { get; init; }

    /// <summary>Keeps the stream open when the encoder is disposed (stdout).</summary>
    public bool LeaveOpen { get; init; }

    /// <summary>Columns not written (the log sink keeps record metadata such as <c>_key</c> out of the value).</summary>
    public IReadOnlySet<string>? OmitFields { get; init; }
}
