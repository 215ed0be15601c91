using System.CommandLine;
using System.Text;
using System.Text.Json;
using Streams.Engine.Log;

namespace Streams.Server.Commands.Log;

/// <summary>
/// <c>streams produce NAME</c>: appends NDJSON lines from stdin as records (value = the JSON object, key = --key-field).
/// A bad line is reported with its line number and skipped; the rest goes on. The last stdout line is <c>acked N</c>.
/// </summary>
internal static class ProduceCommand
{
    private const int BatchRecords = 1000;

    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "Topic to append to." };
        var keyField = new Option<string?>("--key-field") { Description = "Top-level JSON field whose value is the record key (same key, same partition, in order)." };
        var fsync = new Option<string?>("--fsync") { Description = "Override the topic's durability for this producer: always or never." };
        var dataDir = LogCommandLine.DataDirOption();
        var command = new Command("produce", "Append NDJSON records from stdin to a topic.") { name, keyField, fsync, dataDir };
        command.SetAction(r => LogCommandLine.Run(() =>
        {
            FsyncMode? mode = r.GetValue(fsync) switch
            {
                null => null,
                "always" => FsyncMode.Always,
                "never" => FsyncMode.Never,
                var other => throw new LogException($"invalid --fsync '{other}': use always or never"),
            };
            using var store = LogStore.Open(r.GetValue(dataDir)!, create: false);
            var topic = store.OpenTopic(r.GetValue(name)!);
            if (!topic.IsWritable)
            {
                throw new LogException($"topic '{topic.Name}' is being written by another process (its writer lock is held)");
            }

            return Produce(topic, r.GetValue(keyField), mode, Console.In, Console.Out, Console.Error);
        }));
        return command;
    }

    internal static int Produce(LogTopic topic, string? keyField, FsyncMode? fsync, TextReader input, TextWriter output, TextWriter errors)
    {
        var producer = new IdempotentProducer();
        var builders = new RecordBatchBuilder[topic.Partitions.Count];
        var maxRecord = topic.Config.MaxBatchBytes - 56;
        for (var i = 0; i < builders.Length; i++)
        {
            builders[i] = new RecordBatchBuilder(maxBytes: topic.Config.MaxBatchBytes);
        }

        long acked = 0;
        var rejected = 0;
        var lineNumber = 0;
        var interactive = ReferenceEquals(input, Console.In) && !Console.IsInputRedirected;
        try
        {
            while (input.ReadLine() is { } line)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                var value = Encoding.UTF8.GetBytes(line);
                byte[]? key;
                try
                {
                    key = ParseKey(value, keyField);
                }
                catch (JsonException e)
                {
                    var reason = e.Message.Split(" LineNumber:")[0].TrimEnd('.', ' ');
                    var column = e.BytePositionInLine is { } b ? $" at column {b + 1}" : "";
                    errors.WriteLine($"streams: line {lineNumber}: not a JSON object{column} ({reason}); skipped");
                    rejected++;
                    continue;
                }

                var size = RecordBatchBuilder.RecordSize(key?.Length ?? -1, value.Length);
                if (size > maxRecord)
                {
                    errors.WriteLine($"streams: line {lineNumber}: record of {size} bytes exceeds the topic's max-batch-bytes {topic.Config.MaxBatchBytes}; skipped");
                    rejected++;
                    continue;
                }

                var partition = key is null ? topic.NextUnkeyedPartition() : topic.PartitionFor(key);
                var builder = builders[partition];
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                if (!Add(builder, key, value, now))
                {
                    acked += Send(producer, topic.Partitions[partition], builder, fsync);
                    Add(builder, key, value, now);
                }

                if (builder.Count >= BatchRecords || interactive)
                {
                    acked += Send(producer, topic.Partitions[partition], builder, fsync);
                }
            }

            for (var p = 0; p < builders.Length; p++)
            {
                acked += Send(producer, topic.Partitions[p], builders[p], fsync);
            }
        }
        finally
        {
            foreach (var b in builders)
            {
                b.Dispose();
            }
        }

        output.WriteLine($"acked {acked}");
        return rejected == 0 ? 0 : 1;
    }

    private static bool Add(RecordBatchBuilder builder, byte[]? key, byte[] value, long timestamp) =>
        key is null ? builder.TryAddUnkeyed(value, timestamp) : builder.TryAdd(key, value, timestamp);

    private static int Send(IdempotentProducer producer, PartitionLog log, RecordBatchBuilder builder, FsyncMode? fsync)
    {
        if (builder.Count == 0)
        {
            return 0;
        }

        var result = producer.Send(log, builder, fsync);
        builder.Clear();
        return result.Count;
    }

    /// <summary>Checks the line is one JSON object and returns the key field's value (strings unquoted, others as JSON text), or null.</summary>
    private static byte[]? ParseKey(byte[] line, string? keyField)
    {
        using var doc = JsonDocument.Parse(line);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException($"found a JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}, expected an object");
        }

        if (keyField is null || !doc.RootElement.TryGetProperty(keyField, out var k) || k.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return k.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(k.GetString()!) : Encoding.UTF8.GetBytes(k.GetRawText());
    }
}
