using System.Text;
using Streams.Engine.Data;

namespace Streams.Connectors.Formats;

/// <summary>
/// Decodes CSV records (RFC 4180: fields separated by a delimiter, optionally quoted with <c>"</c>, a doubled quote inside a
/// quoted field is one quote, quoted fields may hold delimiters and line breaks) into rows of a declared schema.
/// The header record maps columns by name (case-insensitively); header columns the schema lacks are ignored and schema
/// columns the header lacks are NULL. An empty unquoted field is NULL; a quoted empty field <c>""</c> is the empty string
/// (as PostgreSQL's CSV COPY reads them). Values coerce as in <see cref="NdjsonDecoder"/> (TIMESTAMP: ISO-8601 or epoch millis).
/// </summary>
public sealed class CsvDecoder
{
    private readonly Schema _schema;
    private readonly byte _delimiter;
    private readonly int[] _seen;
    private int[] _columnOfField = [];
    private byte[] _scratch = new byte[256];
    private int _stamp;

    /// <summary>Creates a decoder for <paramref name="schema"/> with fields separated by <paramref name="delimiter"/>.</summary>
    public CsvDecoder(Schema schema, byte delimiter = (byte)',')
    {
        _schema = schema;
        _delimiter = delimiter;
        _seen = new int[schema.Count];
    }

    /// <summary>True once a header has been read.</summary>
    public bool HasHeader { get; private set; }

    /// <summary>How many fields the header has (every record must have as many).</summary>
    public int FieldCount => _columnOfField.Length;

    /// <summary>Reads the header record; false (with the reason) when it names none of the schema's columns.</summary>
    public bool TryReadHeader(ReadOnlySpan<byte> record, out string? error)
    {
        var names = new List<string>();
        var pos = 0;
        while (true)
        {
            var next = NextField(record, ref pos, out var value, out _, out error);
            if (error is not null)
            {
                return false;
            }

            names.Add(Encoding.UTF8.GetString(value).Trim());
            if (!next)
            {
                break;
            }
        }

        _columnOfField = names.Select(_schema.IndexOf).ToArray();
        if (_columnOfField.All(c => c < 0))
        {
            error = $"the CSV header ({TextValues.Shorten(string.Join(",", names))}) names none of the columns ({string.Join(", ", _schema.Fields.Select(f => f.Name))})";
            return false;
        }

        HasHeader = true;
        error = null;
        return true;
    }

    /// <summary>
    /// Decodes <paramref name="record"/> into row <c>batch.Count</c> and increments <c>Count</c>; or returns false with the
    /// reason, leaving the row count unchanged.
    /// </summary>
    public bool TryDecode(ReadOnlySpan<byte> record, ColumnBatch batch, out string? error)
    {
        var row = batch.Count;
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_seen);
            _stamp = 1;
        }

        var pos = 0;
        var field = 0;
        while (true)
        {
            var more = NextField(record, ref pos, out var value, out var quoted, out error);
            if (error is not null)
            {
                return false;
            }

            if (field < _columnOfField.Length && _columnOfField[field] is var c and >= 0)
            {
                var column = batch.Columns[c];
                if (value.IsEmpty && !quoted)
                {
                    if (!_schema[c].Nullable)
                    {
                        error = $"field '{_schema[c].Name}' is declared NOT NULL but is empty";
                        return false;
                    }

                    SetNull(column, row);
                }
                else
                {
                    error = TextValues.TryStore(column, row, value);
                    if (error is not null)
                    {
                        error = $"column '{_schema[c].Name}': {error}";
                        return false;
                    }
                }

                _seen[c] = _stamp;
            }

            field++;
            if (!more)
            {
                break;
            }
        }

        if (field != _columnOfField.Length)
        {
            error = $"expected {_columnOfField.Length} fields as in the header, found {field}";
            return false;
        }

        for (var f = 0; f < _seen.Length; f++)
        {
            if (_seen[f] != _stamp)
            {
                SetNull(batch.Columns[f], row);
            }
        }

        batch.Count = row + 1;
        return true;
    }

    // Reads the field at pos; returns whether another field follows. Quoted fields with doubled quotes are unescaped into scratch.
    private bool NextField(ReadOnlySpan<byte> record, ref int pos, out ReadOnlySpan<byte> value, out bool quoted, out string? error)
    {
        error = null;
        quoted = pos < record.Length && record[pos] == '"';
        if (!quoted)
        {
            var rest = record[pos..];
            var end = rest.IndexOf(_delimiter);
            if (end < 0)
            {
                value = rest;
                pos = record.Length;
                return false;
            }

            value = rest[..end];
            pos += end + 1;
            return true;
        }

        var i = pos + 1;
        var length = 0;
        var escaped = false;
        while (true)
        {
            var close = record[i..].IndexOf((byte)'"');
            if (close < 0)
            {
                value = default;
                error = $"unterminated quoted field starting at byte {pos + 1} of the record";
                return false;
            }

            var chunk = record.Slice(i, close);
            var closeAt = i + close;
            var doubled = closeAt + 1 < record.Length && record[closeAt + 1] == '"';
            if (doubled || escaped)
            {
                // Doubled quotes: copy the pieces together without them.
                Append(ref length, chunk);
                if (doubled)
                {
                    Append(ref length, "\""u8);
                    escaped = true;
                    i = closeAt + 2;
                    continue;
                }
            }

            value = escaped ? _scratch.AsSpan(0, length) : chunk;
            pos = closeAt + 1;
            if (pos == record.Length)
            {
                return false;
            }

            if (record[pos] != _delimiter)
            {
                error = $"unexpected character after the closing quote at byte {pos + 1} of the record";
                return false;
            }

            pos++;
            return true;
        }
    }

    private void Append(ref int length, ReadOnlySpan<byte> bytes)
    {
        if (length + bytes.Length > _scratch.Length)
        {
            Array.Resize(ref _scratch, Math.Max(_scratch.Length * 2, length + bytes.Length));
        }

        bytes.CopyTo(_scratch.AsSpan(length));
        length += bytes.Length;
    }

    private static void SetNull(Column column, int row)
    {
        if (column.Type == DataType.String)
        {
            ((Column<string?>)column).Values[row] = null;
        }

        column.SetNull(row);
    }
}
