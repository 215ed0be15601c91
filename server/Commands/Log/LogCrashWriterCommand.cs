using System.CommandLine;
using System.Text;
using Streams.Engine.Log;

namespace Streams.Server.Commands.Log;

/// <summary>
/// Hidden <c>streams log-crash-writer</c>: the child process of the crash test. Several producers append keyed records
/// with fsync=always and print <c>acked PARTITION OFFSET RUN SEQ</c> for each record only after its append was acknowledged,
/// so the test can SIGKILL it at any moment and check every printed record survived exactly once, in per-key order.
/// </summary>
internal static class LogCrashWriterCommand
{
    public static Command Create()
    {
        var topicName = new Option<string>("--topic") { DefaultValueFactory = _ => "crash" };
        var records = new Option<int>("--records") { DefaultValueFactory = _ => 500_000 };
        var run = new Option<int>("--run") { DefaultValueFactory = _ => 0 };
        var keys = new Option<int>("--keys") { DefaultValueFactory = _ => 64 };
        var producers = new Option<int>("--producers") { DefaultValueFactory = _ => 4 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 200 };
        var partitions = new Option<int>("--partitions") { DefaultValueFactory = _ => 3 };
        var segmentBytes = new Option<long>("--segment-bytes") { DefaultValueFactory = _ => 1L << 20 };
        var dataDir = LogCommandLine.DataDirOption();
        var command = new Command("log-crash-writer", "Crash-test producer (prints each acknowledged record).")
        {
            topicName, records, run, keys, producers, batch, partitions, segmentBytes, dataDir,
        };
        command.Hidden = true;
        command.SetAction(r => LogCommandLine.Run(() =>
        {
            using var store = LogStore.Open(r.GetValue(dataDir)!);
            var name = r.GetValue(topicName)!;
            var topic = store.TopicExists(name)
                ? store.OpenTopic(name)
                : store.CreateTopic(name, new TopicConfig { Partitions = r.GetValue(partitions), Fsync = FsyncMode.Always, SegmentBytes = r.GetValue(segmentBytes) });
            Write(topic, r.GetValue(records), r.GetValue(run), r.GetValue(keys), r.GetValue(producers), r.GetValue(batch));
            return 0;
        }));
        return command;
    }

    private static void Write(LogTopic topic, int records, int run, int keys, int producers, int batchSize)
    {
        var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
        var gate = new Lock();
        var tasks = Enumerable.Range(0, producers).Select(p => Task.Run(() =>
        {
            var builders = topic.Partitions.Select(_ => new RecordBatchBuilder()).ToArray();
            var pending = topic.Partitions.Select(_ => new List<int>()).ToArray();
            var line = new StringBuilder();
            for (var i = 0; i < records; i++)
            {
                var key = i % keys;
                if (key % producers != p)
                {
                    continue;
                }

                var keyBytes = Encoding.UTF8.GetBytes("k" + key);
                var partition = topic.PartitionFor(keyBytes);
                builders[partition].TryAdd(keyBytes, Encoding.UTF8.GetBytes($"{{\"run\":{run},\"seq\":{i},\"key\":\"k{key}\"}}"), i);
                pending[partition].Add(i);
                if (pending[partition].Count >= batchSize)
                {
                    Flush(partition);
                }
            }

            for (var partition = 0; partition < builders.Length; partition++)
            {
                Flush(partition);
            }

            void Flush(int partition)
            {
                if (pending[partition].Count == 0)
                {
                    return;
                }

                var result = topic.Partitions[partition].Append(builders[partition], FsyncMode.Always);
                line.Clear();
                for (var j = 0; j < pending[partition].Count; j++)
                {
                    line.Append("acked ").Append(partition).Append(' ').Append(result.BaseOffset + j).Append(' ').Append(run).Append(' ').Append(pending[partition][j]).Append('\n');
                }

                lock (gate)
                {
                    output.Write(line);
                    output.Flush();
                }

                builders[partition].Clear();
                pending[partition].Clear();
            }
        })).ToArray();
        Task.WaitAll(tasks);
        lock (gate)
        {
            output.WriteLine("done");
            output.Flush();
        }
    }
}
