using System.CommandLine;
using System.Diagnostics;
using Streams.Engine.Log;

namespace Streams.Server.Commands.Bench;

/// <summary>
/// <c>streams bench log</c>: one partition, 100-byte values, batches of 1,000 records. Measures append with fsync=never
/// (one producer), append with fsync=always (4 concurrent producers sharing group commits) and a sequential read.
/// </summary>
internal static class BenchLogCommand
{
    private const int ValueBytes = 100;
    private const int BatchRecords = 1000;

    /// <summary>Batches a producer may have written but not yet acknowledged (like Kafka's max.in.flight); acks still wait for fsync.</summary>
    private const int InFlight = 8;

    public static Command Create()
    {
        var records = new Option<int>("--records") { Description = "Records appended with fsync=never (and read back).", DefaultValueFactory = _ => 10_000_000 };
        var syncedRecords = new Option<int>("--synced-records") { Description = "Records appended with fsync=always.", DefaultValueFactory = _ => 4_000_000 };
        var dir = new Option<string?>("--dir") { Description = "Where to write (default: a temp directory, removed afterwards)." };
        var command = new Command("log", "Benchmark the durable log: append (fsync never/always) and sequential read.") { records, syncedRecords, dir };
        command.SetAction(r =>
        {
            var root = r.GetValue(dir) ?? Path.Combine(Path.GetTempPath(), "streams-bench-log-" + Guid.NewGuid().ToString("N"));
            try
            {
                Run(root, r.GetValue(records), r.GetValue(syncedRecords));
            }
            finally
            {
                if (r.GetValue(dir) is null && Directory.Exists(root))
                {
                    Directory.Delete(root, recursive: true);
                }
            }

            return 0;
        });
        return command;
    }

    private static void Run(string root, int records, int syncedRecords)
    {
        using var store = LogStore.Open(root, report: Console.Error.WriteLine);
        Console.Out.WriteLine($"log benchmark: 1 partition, {ValueBytes}-byte values, 8-byte keys, batches of {BatchRecords}, dir {root}");

        var never = store.CreateTopic("never", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 1L << 30 }).Partitions[0];
        Append(never, records / 10, 1, 1); // warm-up: JIT and page cache
        var neverResult = Append(never, records, 1, 1);
        Print("append fsync=never  (1 producer)", records, neverResult.Seconds, neverResult.Bytes, "");
        var never4Result = Append(never, records, 4, InFlight);
        Print($"append fsync=never  (4 producers)", records, never4Result.Seconds, never4Result.Bytes, "");

        var always = store.CreateTopic("always", new TopicConfig { Fsync = FsyncMode.Always, SegmentBytes = 1L << 30 }).Partitions[0];
        Append(always, syncedRecords / 10, 4, InFlight);
        var syncsBefore = always.SyncCount;
        var alwaysResult = Append(always, syncedRecords, 4, InFlight);
        var batches = syncedRecords / BatchRecords;
        Print($"append fsync=always (4 producers, {InFlight} in flight)", syncedRecords, alwaysResult.Seconds, alwaysResult.Bytes,
            $"  {always.SyncCount - syncsBefore} fsyncs for {batches} batches");
        var neverRate = records / never4Result.Seconds;
        var alwaysRate = syncedRecords / alwaysResult.Seconds;
        Console.Out.WriteLine($"fsync=never / fsync=always throughput with 4 producers: {neverRate / alwaysRate:F2}x (target: within 3x)");

        Read(never); // warm-up
        var (readSeconds, readRecords, readBytes) = Read(never);
        Print("sequential read", readRecords, readSeconds, readBytes, "");
    }

    private static void Print(string what, long records, double seconds, long bytes, string extra) =>
        Console.Out.WriteLine($"{what,-46}: {records / seconds / 1e6,7:F2} M records/s  {bytes / seconds / 1e6,8:F1} MB/s  ({records:N0} records in {seconds:F2} s){extra}");

    private static (double Seconds, long Bytes) Append(PartitionLog log, int records, int producers, int inFlight)
    {
        var sizeBefore = log.SizeBytes;
        var perProducer = records / producers / BatchRecords;
        var start = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, producers).Select(p => Task.Factory.StartNew(() =>
        {
            using var batch = new RecordBatchBuilder(256 * 1024);
            var pending = new Queue<Task>();
            Span<byte> key = stackalloc byte[8];
            Span<byte> value = stackalloc byte[ValueBytes];
            value.Fill((byte)'v');
            long n = p * 1_000_000_000L;
            for (var b = 0; b < perProducer; b++)
            {
                batch.Clear();
                for (var i = 0; i < BatchRecords; i++, n++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(key, n);
                    System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(value, n);
                    batch.TryAdd(key, value, n);
                }

                // The batch is in the file when AppendAsync returns (the builder is free again); the task completes once durable.
                pending.Enqueue(log.AppendAsync(batch).AsTask());
                if (pending.Count >= inFlight)
                {
                    pending.Dequeue().GetAwaiter().GetResult();
                }
            }

            while (pending.Count > 0)
            {
                pending.Dequeue().GetAwaiter().GetResult();
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (seconds, log.SizeBytes - sizeBefore);
    }

    private static (double Seconds, long Records, long Bytes) Read(PartitionLog log)
    {
        var start = Stopwatch.GetTimestamp();
        long records = 0, bytes = 0, checksum = 0;
        var offset = log.StartOffset;
        while (true)
        {
            using var fetched = log.Fetch(offset, 4 << 20);
            if (fetched.IsEmpty)
            {
                break;
            }

            foreach (var record in fetched)
            {
                checksum += record.Value.Length + record.Key.Length;
                records++;
            }

            bytes += fetched.Length;
            offset = fetched.NextOffset;
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        GC.KeepAlive(checksum);
        return (seconds, records, bytes);
    }
}
