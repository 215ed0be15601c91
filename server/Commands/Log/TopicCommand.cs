using System.CommandLine;
using Streams.Engine.Log;

namespace Streams.Server.Commands.Log;

/// <summary><c>streams topic create|list|describe|retention</c>: manage the log's topics.</summary>
internal static class TopicCommand
{
    public static Command Create()
    {
        var command = new Command("topic", "Create, list and describe topics of the durable log.");
        command.Subcommands.Add(CreateTopic());
        command.Subcommands.Add(ListTopics());
        command.Subcommands.Add(DescribeTopic());
        command.Subcommands.Add(Retention());
        return command;
    }

    private static Command CreateTopic()
    {
        var name = new Argument<string>("NAME") { Description = "Topic name: letters, digits, '.', '_', '-'." };
        var partitions = new Option<int>("--partitions") { Description = "Number of partitions.", DefaultValueFactory = _ => 1 };
        var fsync = new Option<string>("--fsync") { Description = "Durability: always (default), never, interval:<ms>.", DefaultValueFactory = _ => "always" };
        var retentionMs = new Option<long?>("--retention-ms") { Description = "Delete sealed segments older than this (-1 = forever; default 7 days)." };
        var retentionBytes = new Option<long?>("--retention-bytes") { Description = "Delete oldest sealed segments while a partition is larger (-1 = no limit)." };
        var retentionForce = new Option<bool>("--retention-force") { Description = "Let retention delete data live groups have not read." };
        var segmentBytes = new Option<long?>("--segment-bytes") { Description = "Roll segments at this size (default 128 MiB)." };
        var maxBatchBytes = new Option<int?>("--max-batch-bytes") { Description = "Largest batch (and record) accepted (default 8 MiB)." };
        var transactionMaxTimeoutMs = new Option<long?>("--transaction-max-timeout-ms")
        {
            Description = "Longest a transaction may stay open before the log aborts it; producers ask for up to this (default 15 min).",
        };
        var dataDir = LogCommandLine.DataDirOption();
        var command = new Command("create", "Create a topic.") { name, partitions, fsync, retentionMs, retentionBytes, retentionForce, segmentBytes, maxBatchBytes, transactionMaxTimeoutMs, dataDir };
        command.SetAction(r => LogCommandLine.Run(() =>
        {
            var defaults = new TopicConfig();
            var config = new TopicConfig
            {
                Partitions = r.GetValue(partitions),
                RetentionMs = r.GetValue(retentionMs) ?? defaults.RetentionMs,
                RetentionBytes = r.GetValue(retentionBytes) ?? defaults.RetentionBytes,
                RetentionForce = r.GetValue(retentionForce),
                SegmentBytes = r.GetValue(segmentBytes) ?? defaults.SegmentBytes,
                MaxBatchBytes = r.GetValue(maxBatchBytes) ?? defaults.MaxBatchBytes,
                TransactionMaxTimeoutMs = r.GetValue(transactionMaxTimeoutMs) ?? defaults.TransactionMaxTimeoutMs,
            }.WithFsync(r.GetValue(fsync)!);
            using var store = LogStore.Open(r.GetValue(dataDir)!);
            var topic = store.CreateTopic(r.GetValue(name)!, config);
            Console.Out.WriteLine($"created topic {topic.Name} with {topic.Partitions.Count} partition(s), fsync={config.FsyncText}");
            return 0;
        }));
        return command;
    }

    private static Command ListTopics()
    {
        var dataDir = LogCommandLine.DataDirOption();
        var command = new Command("list", "List topics.") { dataDir };
        command.SetAction(r => LogCommandLine.Run(() =>
        {
            using var store = LogStore.Open(r.GetValue(dataDir)!, create: false);
            foreach (var name in store.TopicNames())
            {
                var topic = store.OpenTopic(name, writable: false);
                var records = topic.Partitions.Sum(p => p.EndOffset - p.StartOffset);
                Console.Out.WriteLine($"{name}\tpartitions={topic.Partitions.Count}\trecords={records}\tsize={LogCommandLine.Bytes(topic.Partitions.Sum(p => p.SizeBytes))}\tfsync={topic.Config.FsyncText}");
            }

            return 0;
        }));
        return command;
    }

    private static Command DescribeTopic()
    {
        var name = new Argument<string>("NAME") { Description = "Topic name." };
        var dataDir = LogCommandLine.DataDirOption();
        var command = new Command("describe", "Show a topic's settings and, per partition, offsets, size and segments.") { name, dataDir };
        command.SetAction(r => LogCommandLine.Run(() =>
        {
            using var store = LogStore.Open(r.GetValue(dataDir)!, create: false);
            var topic = store.OpenTopic(r.GetValue(name)!, writable: false);
            var c = topic.Config;
            Console.Out.WriteLine($"topic {topic.Name}");
            Console.Out.WriteLine($"  partitions={c.Partitions} fsync={c.FsyncText} segment-bytes={c.SegmentBytes} max-batch-bytes={c.MaxBatchBytes}");
            Console.Out.WriteLine($"  retention-ms={c.RetentionMs} retention-bytes={c.RetentionBytes} retention-force={(c.RetentionForce ? "true" : "false")} group-live-ms={c.GroupLiveMs}");
            Console.Out.WriteLine($"  transaction-max-timeout-ms={c.TransactionMaxTimeoutMs}");
            var retention = topic.LastRetention();
            Console.Out.WriteLine("  PARTITION\tSTART\tEND\tRECORDS\tSIZE\tSEGMENTS\tRETENTION");
            foreach (var p in topic.Partitions)
            {
                var held = retention.TryGetValue(p.Partition, out var rr) && rr.HeldSegments > 0
                    ? $"held back {rr.HeldSegments} segment(s) for {string.Join(", ", rr.HeldBy.Select(g => $"{g.Group}@{g.Committed}"))}"
                    : "-";
                Console.Out.WriteLine($"  {p.Partition}\t{p.StartOffset}\t{p.EndOffset}\t{p.EndOffset - p.StartOffset}\t{LogCommandLine.Bytes(p.SizeBytes)}\t{p.SegmentCount}\t{held}");
            }

            // Open transactions hold read_committed readers and retention at their first offset until they end or time out.
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var p in topic.Partitions)
            {
                foreach (var t in p.OpenTransactions.OrderBy(t => t.FirstOffset))
                {
                    var state = t.IsPrepared ? $"prepared under tag {t.PreparedTag}" : "open";
                    var expiry = t.ExpiresAtMs <= now
                        ? "expired: counts as aborted, the next writer marks it"
                        : $"times out at {DateTimeOffset.FromUnixTimeMilliseconds(t.ExpiresAtMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)}Z (in {(t.ExpiresAtMs - now) / 1000} s)";
                    Console.Out.WriteLine($"  partition {p.Partition}: transaction of producer {t.ProducerId} epoch {t.Epoch} from offset {t.FirstOffset}, {state}, {expiry}");
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command Retention()
    {
        var name = new Argument<string>("NAME") { Description = "Topic name." };
        var dataDir = LogCommandLine.DataDirOption();
        var command = new Command("retention", "Apply retention now: delete expired sealed segments unless a live group has not read them.") { name, dataDir };
        command.SetAction(r => LogCommandLine.Run(() =>
        {
            using var store = LogStore.Open(r.GetValue(dataDir)!, create: false);
            var topic = store.OpenTopic(r.GetValue(name)!);
            if (!topic.IsWritable)
            {
                throw new LogException($"topic '{topic.Name}' is being written by another process; run retention there or when it stops");
            }

            foreach (var (partition, result) in topic.ApplyRetention(store.Groups))
            {
                Console.Out.WriteLine($"partition {partition}: deleted {result.DeletedSegments} segment(s) ({LogCommandLine.Bytes(result.DeletedBytes)}), held back {result.HeldSegments}" +
                                      (result.HeldBy.Count > 0 ? $" for {string.Join(", ", result.HeldBy.Select(g => $"{g.Group}@{g.Committed}"))}" : "") +
                                      $", starts at offset {result.StartOffset}");
            }

            return 0;
        }));
        return command;
    }
}
