using System.Text.Json;
using Streams.Engine.Data;

namespace Streams.Connectors.Formats;

/// <summary>
/// Decodes one Debezium JSON change event (<c>{"before": {...}, "after": {...}, "op": "c"}</c>, bare or inside the
/// <c>{"schema": ..., "payload": {...}}</c> wrapper of a schema-enabled converter) into changelog rows, as Flink's
/// <c>debezium-json</c> format does: <c>c</c> (create) and <c>r</c> (snapshot read) insert <c>after</c>; <c>u</c>
/// retracts <c>before</c> and inserts <c>after</c> (-U, +U); <c>d</c> deletes <c>before</c>. The row images are decoded
/// by <see cref="NdjsonDecoder"/>, so columns, coercions and NOT NULL checks are those of the json format.
/// A Kafka tombstone (the line <c>null</c>, or a null payload) carries no change and yields no row. Anything else that is not a complete
/// change event (no <c>op</c>, an unknown op, an update or delete without <c>before</c>) is rejected with the reason
/// and the batch is left as it was.
/// </summary>
public sealed class DebeziumJsonDecoder(Schema schema)
{
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    private readonly NdjsonDecoder _rows = new(schema);

    /// <summary>The most rows one event produces (an update: -U and +U); the batch needs this much room.</summary>
    public const int MaxRowsPerEvent = 2;

    /// <summary>
    /// Decodes <paramref name="line"/> into the next rows of <paramref name="batch"/> (0, 1 or 2, each with its
    /// <see cref="RowKind"/>); or returns false with the reason, leaving the batch as it was. The batch needs room for
    /// <see cref="MaxRowsPerEvent"/> rows.
    /// </summary>
    public bool TryDecode(ReadOnlySpan<byte> line, ColumnBatch batch, out string? error)
    {
        if (line.Trim(" \t\r"u8).SequenceEqual("null"u8))
        {
            error = null;
            return true;
        }

        Envelope envelope;
        try
        {
            envelope = Read(line);
            if (envelope is { Op: 0, NullPayload: true })
            {
                // A converter's envelope around a tombstone.
                error = null;
                return true;
            }

            if (envelope is { Op: 0, Payload: { } payload })
            {
                var offset = payload.Start.Value;
                envelope = Read(line[payload]);
                envelope = envelope with { Before = Shift(envelope.Before, offset), After = Shift(envelope.After, offset) };
            }
        }
        catch (JsonException e)
        {
            error = NdjsonDecoder.MalformedReason(e);
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "line is not a JSON object";
            return false;
        }

        var start = batch.Count;
        var ok = (char)envelope.Op switch
        {
            '\0' => Fail("no \"op\" field: not a Debezium change event", out error),
            'c' or 'r' => Row(line, envelope.After, "after", RowKind.Insert, batch, out error),
            'u' => Row(line, envelope.Before, "before", RowKind.UpdateBefore, batch, out error, "an update needs the old row image: set REPLICA IDENTITY FULL on the source table")
                && Row(line, envelope.After, "after", RowKind.UpdateAfter, batch, out error),
            'd' => Row(line, envelope.Before, "before", RowKind.Delete, batch, out error, "a delete needs the old row image: set REPLICA IDENTITY FULL on the source table"),
            _ => Fail("unknown \"op\" (expected \"c\", \"r\", \"u\" or \"d\")", out error),
        };
        if (!ok)
        {
            batch.Count = start;
        }

        return ok;
    }

    private bool Row(ReadOnlySpan<byte> line, Range? image, string name, RowKind kind, ColumnBatch batch, out string? error, string? hint = null)
    {
        if (image is not { } range)
        {
            error = $"op needs a \"{name}\" object" + (hint is null ? "" : $" ({hint})");
            return false;
        }

        if (!_rows.TryDecode(line[range], batch, out error))
        {
            error = $"\"{name}\": {error}";
            return false;
        }

        batch.SetKind(batch.Count - 1, kind);
        return true;
    }

    private static bool Fail(string reason, out string? error)
    {
        error = reason;
        return false;
    }

    private static Range? Shift(Range? range, int by) =>
        range is { } r ? new Range(r.Start.Value + by, r.End.Value + by) : null;

    /// <summary>The top-level fields of one JSON object that matter: op, the row images and a converter's payload.</summary>
    private static Envelope Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: true, state: new JsonReaderState(ReaderOptions));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidOperationException("not an object");
        }

        var envelope = new Envelope(0, null, null, null, false);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader.ValueTextEquals("op"u8) ? 0 : reader.ValueTextEquals("before"u8) ? 1 : reader.ValueTextEquals("after"u8) ? 2 : reader.ValueTextEquals("payload"u8) ? 3 : -1;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            var isObject = reader.TokenType == JsonTokenType.StartObject;
            var isNull = reader.TokenType == JsonTokenType.Null;
            // The op is one ASCII letter; anything else is kept as '?' (unknown op), without allocating a string.
            var op = reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && reader.ValueSpan.Length == 1 ? reader.ValueSpan[0] : (byte)'?';
            reader.Skip();
            var value = isObject ? new Range(start, (int)reader.BytesConsumed) : (Range?)null;
            envelope = field switch
            {
                0 => envelope with { Op = op },
                1 => envelope with { Before = value },
                2 => envelope with { After = value },
                3 => envelope with { Payload = value, NullPayload = isNull },
                _ => envelope,
            };
        }

        if (reader.Read())
        {
            throw new InvalidOperationException("content after the object");
        }

        return envelope;
    }

    /// <summary>The op letter (0: none), the byte ranges of the row images and of a converter's payload object, and whether that payload is null.</summary>
    private readonly record struct Envelope(byte Op, Range? Before, Range? After, Range? Payload, bool NullPayload);
}
