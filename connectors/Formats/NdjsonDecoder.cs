using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Streams.Engine.Data;

namespace Streams.Connectors.Formats;

/// <summary>
/// Decodes one NDJSON line (a JSON object, UTF-8) straight into the next row of a <see cref="ColumnBatch"/> for a declared schema.
/// Keys match schema fields case-insensitively; a missing field is NULL; extra fields are ignored. Coercions: JSON integers to
/// BIGINT/INT, any number to DOUBLE/DECIMAL, TIMESTAMP from ISO-8601 text (offsets normalised to UTC, none = UTC) or epoch-millis
/// integers, quoted numbers and booleans to their column types, scalars and nested JSON to VARCHAR as text.
/// A line that is not valid JSON, or has a value that does not fit its column, is rejected as a whole with a reason;
/// the batch is left as it was so the caller sends the line to the dead-letter sink and goes on.
/// </summary>
public sealed class NdjsonDecoder
{
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    private readonly Schema _schema;
    private readonly byte[][] _names;
    private readonly bool[] _asciiNames;
    private readonly int[] _seen;
    private int _stamp;
    private int _lastField = -1;

    /// <summary>Creates a decoder for rows of <paramref name="schema"/>.</summary>
    public NdjsonDecoder(Schema schema)
    {
        _schema = schema;
        _names = new byte[schema.Count][];
        _asciiNames = new bool[schema.Count];
        _seen = new int[schema.Count];
        for (var i = 0; i < schema.Count; i++)
        {
            _names[i] = Encoding.UTF8.GetBytes(schema[i].Name);
            _asciiNames[i] = Ascii.IsValid(_names[i]);
        }
    }

    /// <summary>The schema rows are decoded into.</summary>
    public Schema Schema => _schema;

    /// <summary>
    /// Decodes <paramref name="line"/> into row <c>batch.Count</c> and increments <c>Count</c>; or returns false with the
    /// reason in <paramref name="error"/>, leaving the batch's row count unchanged. The batch must not be full.
    /// </summary>
    public bool TryDecode(ReadOnlySpan<byte> line, ColumnBatch batch, out string? error)
    {
        var row = batch.Count;
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_seen);
            _stamp = 1;
        }

        _lastField = -1;
        try
        {
            var reader = new Utf8JsonReader(line, isFinalBlock: true, state: new JsonReaderState(ReaderOptions));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "line is not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = FindField(ref reader);
                reader.Read();
                if (field < 0)
                {
                    reader.Skip();
                    continue;
                }

                error = Store(ref reader, line, batch.Columns[field], row, field);
                if (error is not null)
                {
                    return false;
                }

                _seen[field] = _stamp;
            }

            if (reader.Read())
            {
                error = "unexpected content after the JSON object";
                return false;
            }
        }
        catch (JsonException e)
        {
            error = MalformedReason(e);
            return false;
        }

        for (var f = 0; f < _seen.Length; f++)
        {
            if (_seen[f] != _stamp)
            {
                if (!_schema[f].Nullable)
                {
                    error = $"field '{_schema[f].Name}' is declared NOT NULL but is missing";
                    return false;
                }

                SetNull(batch.Columns[f], row);
            }
        }

        batch.Count = row + 1;
        error = null;
        return true;
    }

    // The reader's message ends with its own "LineNumber: 0 | BytePositionInLine: n." — within one line that is a column.
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static string MalformedReason(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut];
        }

        return e.BytePositionInLine is { } position ? $"malformed JSON at column {position + 1}: {message}" : "malformed JSON: " + message;
    }

    private int FindField(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            Span<byte> buffer = stackalloc byte[256];
            if (reader.ValueSpan.Length <= buffer.Length)
            {
                var n = reader.CopyString(buffer);
                return Lookup(buffer[..n]);
            }

            return _schema.IndexOf(reader.GetString()!);
        }

        return Lookup(reader.ValueSpan);
    }

    private int Lookup(ReadOnlySpan<byte> name)
    {
        // Producers write keys in the same order line after line: try the field after the previous one first.
        var names = _names;
        var guess = _lastField + 1 < names.Length ? _lastField + 1 : 0;
        if (name.SequenceEqual(names[guess]))
        {
            return _lastField = guess;
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (name.SequenceEqual(names[i]))
            {
                return _lastField = i;
            }
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (_asciiNames[i] && Ascii.EqualsIgnoreCase(name, names[i]))
            {
                return i;
            }
        }

        // Non-ASCII names compare with full Unicode case folding, as the schema does.
        return Ascii.IsValid(name) ? -1 : _schema.IndexOf(Encoding.UTF8.GetString(name));
    }

    private string? Store(ref Utf8JsonReader reader, ReadOnlySpan<byte> line, Column column, int row, int field)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                if (!_schema[field].Nullable)
                {
                    return $"field '{_schema[field].Name}' is declared NOT NULL but is null";
                }

                SetNull(column, row);
                return null;
            case JsonTokenType.Number:
                return StoreNumber(ref reader, column, row);
            case JsonTokenType.String:
                if (column.Type == DataType.String)
                {
                    ((Column<string?>)column).Values[row] = reader.GetString();
                    column.SetNull(row, false);
                    return null;
                }

                if (reader.ValueIsEscaped)
                {
                    return TextValues.TryStore(column, row, Encoding.UTF8.GetBytes(reader.GetString()!));
                }

                return TextValues.TryStore(column, row, reader.ValueSpan);
            case JsonTokenType.True:
            case JsonTokenType.False:
                var value = reader.TokenType == JsonTokenType.True;
                if (column.Type == DataType.Boolean)
                {
                    ((Column<bool>)column).Values[row] = value;
                    column.SetNull(row, false);
                    return null;
                }

                if (column.Type == DataType.String)
                {
                    ((Column<string?>)column).Values[row] = value ? "true" : "false";
                    column.SetNull(row, false);
                    return null;
                }

                return $"value {(value ? "true" : "false")} is not a valid {column.Type.SqlName()}";
            default:
                // Objects and arrays: kept as their JSON text in a VARCHAR column, rejected elsewhere.
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var raw = line[start..(int)reader.BytesConsumed];
                if (column.Type == DataType.String)
                {
                    ((Column<string?>)column).Values[row] = Encoding.UTF8.GetString(raw);
                    column.SetNull(row, false);
                    return null;
                }

                return TextValues.Misfit(raw, column.Type);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static string? StoreNumber(ref Utf8JsonReader reader, Column column, int row)
    {
        switch (column.Type)
        {
            case DataType.Int64:
            case DataType.Timestamp:
                if (reader.TryGetInt64(out var l) || TryIntegral(ref reader, long.MinValue, long.MaxValue, out l))
                {
                    ((Column<long>)column).Values[row] = l;
                    break;
                }

                return TextValues.Misfit(reader.ValueSpan, column.Type);
            case DataType.Int32:
                if (reader.TryGetInt32(out var i))
                {
                    ((Column<int>)column).Values[row] = i;
                    break;
                }

                if (TryIntegral(ref reader, int.MinValue, int.MaxValue, out var wide))
                {
                    ((Column<int>)column).Values[row] = (int)wide;
                    break;
                }

                return TextValues.Misfit(reader.ValueSpan, column.Type);
            case DataType.Double:
                if (reader.TryGetDouble(out var d))
                {
                    ((Column<double>)column).Values[row] = d;
                    break;
                }

                return TextValues.Misfit(reader.ValueSpan, column.Type);
            case DataType.Decimal:
                if (reader.TryGetDecimal(out var m))
                {
                    ((Column<decimal>)column).Values[row] = m;
                    break;
                }

                return TextValues.Misfit(reader.ValueSpan, column.Type);
            case DataType.String:
                ((Column<string?>)column).Values[row] = Encoding.UTF8.GetString(reader.ValueSpan);
                break;
            default:
                return TextValues.Misfit(reader.ValueSpan, column.Type);
        }

        column.SetNull(row, false);
        return null;
    }

    // 3.0 or 1e3 in an integer column: accepted when the value is a whole number in range, as Flink's JSON format does.
    private static bool TryIntegral(ref Utf8JsonReader reader, long min, long max, out long value)
    {
        value = 0;
        if (!reader.TryGetDecimal(out var m) || m != decimal.Truncate(m) || m < min || m > max)
        {
            return false;
        }

        value = (long)m;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetNull(Column column, int row)
    {
        if (column.Type == DataType.String)
        {
            ((Column<string?>)column).Values[row] = null;
        }

        column.SetNull(row);
    }
}
