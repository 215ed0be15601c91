using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Engine.Log.Connector;

/// <summary>A topic as a SQL sink: rows become JSON-object records, keyed by <c>key.field</c> when given.</summary>
internal sealed class LogSinkConnector(LogTopic topic, Schema schema, string? keyField) : ISinkConnector
{
    public ISinkWriter OpenWriter(int task) => new LogSinkWriter(topic, schema, keyField is null ? -1 : schema.IndexOf(keyField));
}

/// <summary>
/// Buffers rows per partition and appends them on <see cref="Flush"/> (and when a batch fills) through an idempotent
/// producer, so a retried flush never duplicates. Changelog rows carry their kind in an <c>_op</c> field (+I, -U, +U, -D).
/// </summary>
internal sealed class LogSinkWriter : ISinkWriter
{
    private readonly LogTopic _topic;
    private readonly Schema _schema;
    private readonly int _keyColumn;
    private readonly RecordBatchBuilder[] _builders;
    private readonly IdempotentProducer _producer = new();
    private readonly ArrayBufferWriter<byte> _json = new(1024);
    private readonly Utf8JsonWriter _writer;
    private readonly JsonEncodedText[] _names;
    private readonly bool[] _metadata;

    public LogSinkWriter(LogTopic topic, Schema schema, int keyColumn)
    {
        _topic = topic;
        _schema = schema;
        _keyColumn = keyColumn;
        _builders = [.. topic.Partitions.Select(_ => new RecordBatchBuilder(maxBytes: topic.Config.MaxBatchBytes))];
        _writer = new Utf8JsonWriter(_json);
        _names = [.. schema.Fields.Select(f => JsonEncodedText.Encode(f.Name))];
        // Record metadata columns (_key, _partition, _offset, _timestamp) are the log's to fill, not part of the value.
        _metadata = [.. schema.Fields.Select(f => f.Name.ToLowerInvariant() is "_key" or "_partition" or "_offset" or "_timestamp")];
    }

    public void Write(ColumnBatch batch)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var timeColumn = _schema.EventTimeIndex;
        for (var row = 0; row < batch.Count; row++)
        {
            if (!batch.IsLive(row))
            {
                continue;
            }

            _json.ResetWrittenCount();
            _writer.Reset(_json);
            _writer.WriteStartObject();
            for (var c = 0; c < _names.Length; c++)
            {
                if (!_metadata[c])
                {
                    WriteValue(_names[c], batch.Columns[c], row);
                }
            }

            if (batch.HasRowKinds)
            {
                _writer.WriteString("_op", batch.KindOf(row) switch
                {
                    RowKind.Insert => "+I",
                    RowKind.UpdateBefore => "-U",
                    RowKind.UpdateAfter => "+U",
                    _ => "-D",
                });
            }

            _writer.WriteEndObject();
            _writer.Flush();
            var timestamp = timeColumn >= 0 && !batch.Columns[timeColumn].IsNull(row) ? batch.ColumnAt<long>(timeColumn).Values[row] : now;
            byte[]? key = null;
            if (_keyColumn >= 0 && batch.Columns[_keyColumn].GetBoxed(row) is { } k)
            {
                key = Encoding.UTF8.GetBytes(Convert.ToString(k, CultureInfo.InvariantCulture)!);
            }

            var partition = key is null ? _topic.NextUnkeyedPartition() : _topic.PartitionFor(key);
            var builder = _builders[partition];
            if (!Add(builder, key, _json.WrittenSpan, timestamp))
            {
                Send(partition);
                if (!Add(builder, key, _json.WrittenSpan, timestamp))
                {
                    throw new ConnectorException($"topic '{_topic.Name}': a row of {_json.WrittenCount} bytes exceeds max-batch-bytes {_topic.Config.MaxBatchBytes}");
                }
            }

            if (builder.Count >= 1000)
            {
                Send(partition);
            }
        }
    }

    private static bool Add(RecordBatchBuilder builder, byte[]? key, ReadOnlySpan<byte> value, long timestamp) =>
        key is null ? builder.TryAddUnkeyed(value, timestamp) : builder.TryAdd(key, value, timestamp);

    private void WriteValue(JsonEncodedText name, Column column, int row)
    {
        if (column.IsNull(row))
        {
            _writer.WriteNull(name);
            return;
        }

        switch (column.Type)
        {
            case DataType.Boolean:
                _writer.WriteBoolean(name, ((Column<bool>)column).Values[row]);
                break;
            case DataType.Int32:
                _writer.WriteNumber(name, ((Column<int>)column).Values[row]);
                break;
            case DataType.Int64:
            case DataType.Timestamp:
                _writer.WriteNumber(name, ((Column<long>)column).Values[row]);
                break;
            case DataType.Double:
                _writer.WriteNumber(name, ((Column<double>)column).Values[row]);
                break;
            case DataType.Decimal:
                _writer.WriteNumber(name, ((Column<decimal>)column).Values[row]);
                break;
            default:
                _writer.WriteString(name, ((Column<string>)column).Values[row]);
                break;
        }
    }

    private void Send(int partition)
    {
        var builder = _builders[partition];
        if (builder.Count == 0)
        {
            return;
        }

        _producer.Send(_topic.Partitions[partition], builder);
        builder.Clear();
    }

    public void Flush()
    {
        for (var p = 0; p < _builders.Length; p++)
        {
            Send(p);
        }
    }

    public void Dispose()
    {
        Flush();
        foreach (var b in _builders)
        {
            b.Dispose();
        }

        _writer.Dispose();
    }
}
