using System.CommandLine;
using System.Text.Json;
using Streams.Engine.Log;

namespace Streams.Server.Commands.Log;

/// <summary>
/// <c>streams consume NAME --group G</c>: prints records as NDJSON (<c>{"partition","offset","key","ts","value"}</c>) from the
/// group's committed offsets and commits what it printed. A group with no commit starts at the end, or at the beginning
/// with --from-beginning. --follow keeps waiting for new records until Ctrl+C. --isolation read_committed (default) stops
/// at the last stable offset and skips aborted transactions; read_uncommitted shows every data record written.
/// </summary>
internal static class ConsumeCommand
{
    private const int CommitEveryRecords = 10_000;

    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "Topic to read." };
        var group = new Option<string>("--group") { Description = "Consumer group whose committed offsets are used and advanced.", Required = true };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "When the group has no committed offset, start at the oldest record instead of the end." };
        var max = new Option<long?>("--max") { Description = "Stop after this many records." };
        var follow = new Option<bool>("--follow") { Description = "Wait for new records instead of stopping at the end." };
        var isolation = new Option<string>("--isolation")
        {
            Description = "read_committed (default): only committed transactional data; read_uncommitted: everything written.",
            DefaultValueFactory = _ => "read_committed",
            HelpName = "read_committed|read_uncommitted",
        };
        isolation.Validators.Add(result =>
        {
            // A usage error (exit 2) that names the option and every allowed value.
            if (result.GetValueOrDefault<string>() is not ("read_committed" or "read_uncommitted") and var bad)
            {
                result.AddError($"--isolation '{bad}' is not an isolation level: use read_committed or read_uncommitted");
            }
        });
        var dataDir = LogCommandLine.DataDirOption();
        var command = new Command("consume", "Print records of a topic as NDJSON and commit the group's offsets.") { name, group, fromBeginning, max, follow, isolation, dataDir };
        command.SetAction((r, ct) => LogCommandLine.RunAsync(async () =>
        {
            using var store = LogStore.Open(r.GetValue(dataDir)!, create: false);
            var topic = store.OpenTopic(r.GetValue(name)!, writable: false);
            var groupName = r.GetValue(group)!;
            ConsumerGroups.CheckName(groupName);
            await using var stdout = Console.OpenStandardOutput();
            try
            {
                var level = r.GetValue(isolation) == "read_uncommitted" ? IsolationLevel.ReadUncommitted : IsolationLevel.ReadCommitted;
                return await ConsumeAsync(store, topic, groupName, r.GetValue(fromBeginning), r.GetValue(max), r.GetValue(follow), level, stdout, ct);
            }
            catch (IOException e)
            {
                // The reader went away (e.g. `| head`): nothing more is committed than what was flushed before.
                Console.Error.WriteLine($"streams: output closed ({e.Message}); offsets committed up to the last flushed record");
                return 1;
            }
        }));
        return command;
    }

    internal static async Task<int> ConsumeAsync(LogStore store, LogTopic topic, string group, bool fromBeginning, long? max, bool follow, IsolationLevel isolation, Stream output, CancellationToken ct)
    {
        var partitions = topic.Partitions;
        var positions = new long[partitions.Count];
        for (var p = 0; p < positions.Length; p++)
        {
            positions[p] = store.Groups.Committed(group, topic.Name, p) ?? (fromBeginning ? partitions[p].StartOffset : partitions[p].EndOffset);
        }

        var buffered = new BufferedStream(output, 1 << 16);
        var json = new Utf8JsonWriter(buffered, new JsonWriterOptions { SkipValidation = true });
        var printed = 0L;
        var sinceCommit = 0;
        var limit = max ?? long.MaxValue;
        try
        {
            while (printed < limit && !ct.IsCancellationRequested)
            {
                var progressed = false;
                for (var p = 0; p < partitions.Count && printed < limit; p++)
                {
                    using var fetched = partitions[p].Fetch(positions[p], isolation: isolation);
                    if (fetched.IsEmpty)
                    {
                        continue;
                    }

                    foreach (var record in fetched)
                    {
                        Write(json, buffered, p, record);
                        positions[p] = record.Offset + 1;
                        printed++;
                        sinceCommit++;
                        if (printed >= limit)
                        {
                            break;
                        }
                    }

                    if (printed < limit)
                    {
                        positions[p] = Math.Max(positions[p], fetched.NextOffset);
                    }

                    progressed = true;
                }

                if (sinceCommit >= CommitEveryRecords)
                {
                    await buffered.FlushAsync(ct);
                    Commit(store, topic, group, positions);
                    sinceCommit = 0;
                }

                if (progressed)
                {
                    continue;
                }

                if (!follow)
                {
                    break;
                }

                await buffered.FlushAsync(ct);
                if (sinceCommit > 0)
                {
                    Commit(store, topic, group, positions);
                    sinceCommit = 0;
                }

                // Sleep until any partition has something past our position.
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var waits = partitions.Select((log, p) => log.WaitForDataAsync(positions[p], wake.Token, isolation)).ToArray();
                try
                {
                    await Task.WhenAny(waits);
                }
                finally
                {
                    await wake.CancelAsync();
                    try
                    {
                        await Task.WhenAll(waits);
                    }
                    catch (OperationCanceledException)
                    {
                        // The other partitions' waits were cancelled on purpose.
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C: fall through to commit what was printed.
        }

        await buffered.FlushAsync(CancellationToken.None);
        Commit(store, topic, group, positions);
        return 0;
    }

    private static void Commit(LogStore store, LogTopic topic, string group, long[] positions)
    {
        var offsets = new Dictionary<int, long>();
        for (var p = 0; p < positions.Length; p++)
        {
            offsets[p] = positions[p];
        }

        store.Groups.Commit(group, topic.Name, offsets, p => topic.Partitions[p].LastStableOffset);
    }

    private static void Write(Utf8JsonWriter json, Stream output, int partition, LogRecordView record)
    {
        json.Reset(output);
        json.WriteStartObject();
        json.WriteNumber("partition", partition);
        json.WriteNumber("offset", record.Offset);
        if (record.HasKey)
        {
            json.WriteString("key", record.Key);
        }
        else
        {
            json.WriteNull("key");
        }

        json.WriteNumber("ts", record.Timestamp);
        json.WritePropertyName("value");
        if (IsJson(record.Value))
        {
            json.WriteRawValue(record.Value, skipInputValidation: true);
        }
        else
        {
            // Records written by other producers may not be JSON: show them as a string rather than break the output.
            json.WriteStringValue(record.Value);
        }

        json.WriteEndObject();
        json.Flush();
        output.WriteByte((byte)'\n');
    }

    private static bool IsJson(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        var reader = new Utf8JsonReader(value);
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
