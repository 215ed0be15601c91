using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Streams.Engine.Data;

namespace Streams.Engine.Log.Connector;

/// <summary>
/// Decodes one JSON object per record into a row of a <see cref="ColumnBatch"/>. Top-level fields match columns by name
/// (case-insensitive); missing or null fields become NULL; the pseudo-columns <c>_key</c>, <c>_partition</c>,
/// <c>_offset</c> and <c>_timestamp</c> take the record's metadata when the JSON has no field of that name.
/// </summary>
internal sealed class JsonRowDecoder
{
    private readonly Schema _schema;
    private readonly byte[][] _names;
    private readonly MetaColumn[] _meta;
    private readonly bool[] _seen;

    private enum MetaColumn : byte
    {
        None,
        Key,
        Partition,
        Offset,
        Timestamp,
    }

    public JsonRowDecoder(Schema schema)
    {
        _schema = schema;
        _names = [.. schema.Fields.Select(f => Encoding.UTF8.GetBytes(f.Name))];
        _meta = [.. schema.Fields.Select(f => f.Name.ToLowerInvariant() switch
        {
            "_key" => MetaColumn.Key,
            "_partition" => MetaColumn.Partition,
            "_offset" => MetaColumn.Offset,
            "_timestamp" => MetaColumn.Timestamp,
            _ => MetaColumn.None,
        })];
        _seen = new bool[schema.Count];
    }

    /// <summary>Decodes into row <paramref name="row"/>; returns null on success or the reason the record is poison.</summary>
    public string? Decode(in LogRecordView record, int partition, ColumnBatch batch, int row)
    {
        Array.Clear(_seen);
        var reader = new Utf8JsonReader(record.Value);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "value is not a JSON object";
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var column = FindColumn(ref reader);
                reader.Read();
                if (column < 0)
                {
                    reader.Skip();
                    continue;
                }

                _seen[column] = true;
                if (reader.TokenType == JsonTokenType.Null)
                {
                    batch.Columns[column].SetNull(row);
                    continue;
                }

                if (SetValue(ref reader, batch.Columns[column], row) is { } problem)
                {
                    return $"field '{_schema[column].Name}': {problem}";
                }
            }
        }
        catch (JsonException e)
        {
            return "invalid JSON: " + e.Message;
        }

        for (var c = 0; c < _seen.Length; c++)
        {
            if (_seen[c])
            {
                continue;
            }

            var column = batch.Columns[c];
            switch (_meta[c])
            {
                case MetaColumn.Key when record.HasKey && column.Type == DataType.String:
                    ((Column<string>)column).Values[row] = Encoding.UTF8.GetString(record.Key);
                    column.SetNull(row, false);
                    break;
                case MetaColumn.Partition when column.Type == DataType.Int32:
                    ((Column<int>)column).Values[row] = partition;
                    column.SetNull(row, false);
                    break;
                case MetaColumn.Offset when column.Type == DataType.Int64:
                    ((Column<long>)column).Values[row] = record.Offset;
                    column.SetNull(row, false);
                    break;
                case MetaColumn.Timestamp when column.Type is DataType.Int64 or DataType.Timestamp:
                    ((Column<long>)column).Values[row] = record.Timestamp;
                    column.SetNull(row, false);
                    break;
                default:
                    column.SetNull(row);
                    break;
            }
        }

        return null;
    }

    private int FindColumn(ref Utf8JsonReader reader)
    {
        for (var c = 0; c < _names.Length; c++)
        {
            if (reader.ValueTextEquals(_names[c]))
            {
                return c;
            }
        }

        // Names match case-insensitively as in Flink SQL; the exact-case loop above is the fast path.
        return reader.ValueSpan.Length <= 256 ? _schema.IndexOf(reader.GetString()!) : -1;
    }

    private static string? SetValue(ref Utf8JsonReader reader, Column column, int row)
    {
        column.SetNull(row, false);
        switch (column.Type)
        {
            case DataType.Boolean:
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                {
                    return $"expected a boolean, found {reader.TokenType}";
                }

                ((Column<bool>)column).Values[row] = reader.GetBoolean();
                return null;
            case DataType.Int32:
                return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out ((Column<int>)column).Values[row]) ? null : "expected an INT";
            case DataType.Int64:
                return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out ((Column<long>)column).Values[row]) ? null : "expected a BIGINT";
            case DataType.Double:
                return reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out ((Column<double>)column).Values[row]) ? null : "expected a DOUBLE";
            case DataType.Decimal:
                return reader.TokenType == JsonTokenType.Number && reader.TryGetDecimal(out ((Column<decimal>)column).Values[row]) ? null : "expected a DECIMAL";
            case DataType.String:
                ((Column<string>)column).Values[row] = reader.TokenType == JsonTokenType.String
                    ? reader.GetString()!
                    : reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray
                        ? RawAndSkip(ref reader)
                        : Encoding.UTF8.GetString(reader.ValueSpan);
                return null;
            case DataType.Timestamp:
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out ((Column<long>)column).Values[row]))
                {
                    return null;
                }

                if (reader.TokenType == JsonTokenType.String && ParseTimestamp(reader.ValueSpan, out var ms))
                {
                    ((Column<long>)column).Values[row] = ms;
                    return null;
                }

                return "expected a TIMESTAMP (epoch milliseconds or 'yyyy-MM-dd HH:mm:ss[.SSS]' / ISO-8601)";
            default:
                return $"unsupported column type {column.Type}";
        }
    }

    private static string RawAndSkip(ref Utf8JsonReader reader)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return doc.RootElement.GetRawText();
    }

    private static bool ParseTimestamp(ReadOnlySpan<byte> text, out long epochMillis)
    {
        if (Utf8Parser.TryParse(text, out DateTimeOffset dto, out var used, 'O') && used == text.Length)
        {
            epochMillis = dto.ToUnixTimeMilliseconds();
            return true;
        }

        var s = Encoding.UTF8.GetString(text);
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out dto))
        {
            epochMillis = dto.ToUnixTimeMilliseconds();
            return true;
        }

        epochMillis = 0;
        return false;
    }
}
