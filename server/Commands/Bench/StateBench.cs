using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Streams.Engine.Checkpoints;
using Streams.Engine.State;

namespace Streams.Server.Commands.Bench;

/// <summary>
/// <c>streams bench state --keys N</c>: keyed-state throughput of the FASTER store and the in-memory fast path,
/// checkpoint duration and size, and recovery time, for state of N keys (FASTER spills what exceeds its memory to disk).
/// </summary>
internal static class StateBench
{
    public static Command Create()
    {
        var keys = new Option<long>("--keys") { Description = "Number of distinct keys.", DefaultValueFactory = _ => 1_000_000 };
        var memory = new Option<int>("--faster-memory-mb") { Description = "FASTER in-memory log size; state beyond it lives on disk.", DefaultValueFactory = _ => 256 };
        var dir = new Option<string?>("--dir") { Description = "Where the state goes (default: a temp folder, deleted afterwards)." };
        var stores = new Option<string>("--store") { Description = "Which stores to measure: both, memory or faster.", DefaultValueFactory = _ => "both" };
        stores.AcceptOnlyFromAmong("both", "memory", "faster");
        var command = new Command("state", "Keyed state: FASTER vs in-memory puts/s, checkpoint time and size, recovery time.");
        command.Options.Add(keys);
        command.Options.Add(memory);
        command.Options.Add(dir);
        command.Options.Add(stores);
        command.SetAction(parse => Run(parse.GetValue(keys), parse.GetValue(memory), parse.GetValue(dir), parse.GetValue(stores)!));
        return command;
    }

    private static int Run(long keys, int memoryMb, string? directory, string stores)
    {
        var root = directory ?? Path.Combine(Path.GetTempPath(), "streams-bench-state-" + Guid.NewGuid().ToString("N"));
        try
        {
            Console.WriteLine($"keyed state bench: {keys:N0} keys (long -> long), FASTER memory {memoryMb} MiB, dir {root}");
            if (keys <= 50_000_000 && stores != "faster")
            {
                InMemory(keys, Path.Combine(root, "memory"));
            }

            if (stores != "memory")
            {
                Faster(keys, memoryMb, Path.Combine(root, "faster"));
            }
            return 0;
        }
        finally
        {
            if (directory is null && Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static void InMemory(long keys, string stateDir)
    {
        var store = new CheckpointStore(stateDir, retain: 2, log: _ => { });
        using var state = new InMemoryKeyedStateStore<long, long>((int)Math.Min(keys, int.MaxValue / 2));
        var sw = Stopwatch.StartNew();
        for (long k = 0; k < keys; k++)
        {
            state.GetOrAdd(k, out _) += k;
        }

        Report("in-memory", "insert", keys, sw.Elapsed);
        sw.Restart();
        for (long k = 0; k < keys; k++)
        {
            state.GetOrAdd(k, out _) += 1;
        }

        Report("in-memory", "update", keys, sw.Elapsed);
        var (checkpoint, size) = Checkpoint(store, 1, "mem", state);
        Console.WriteLine($"  in-memory  checkpoint: {checkpoint.TotalMilliseconds,9:N0} ms, {size / (1024.0 * 1024):N1} MiB");
        sw.Restart();
        using var restored = new InMemoryKeyedStateStore<long, long>();
        store.RestoreOperatorState(store.LoadLatest("bench")!, "mem", restored);
        Console.WriteLine($"  in-memory  recovery:   {sw.Elapsed.TotalMilliseconds,9:N0} ms ({restored.Count:N0} keys, including checksum verification)");
    }

    private static void Faster(long keys, int memoryMb, string stateDir)
    {
        var store = new CheckpointStore(stateDir, retain: 2, log: _ => { });
        var buckets = 1L << (int)Math.Ceiling(Math.Log2(Math.Max(1024, keys / 4)));
        var options = new FasterStateOptions(MemoryBytes: (long)memoryMb << 20, IndexBuckets: buckets, PageBytes: 1L << 22);
        using (var state = new FasterKeyedStateStore<long, long>(store.OperatorDirectory("faster"), options))
        {
            var sw = Stopwatch.StartNew();
            for (long k = 0; k < keys; k++)
            {
                state.Put(k, k);
            }

            Report("FASTER", "insert", keys, sw.Elapsed);
            var (first, firstSize) = Checkpoint(store, 1, "faster", state);
            Console.WriteLine($"  FASTER     checkpoint 1 (index + log): {first.TotalMilliseconds,9:N0} ms, files {firstSize / (1024.0 * 1024):N1} MiB");
            var sample = Math.Min(keys, 1_000_000);
            var random = new Random(7);
            sw.Restart();
            for (long i = 0; i < sample; i++)
            {
                var k = random.NextInt64(keys);
                state.TryGet(k, out var v);
                state.Put(k, v + 1);
            }

            Report("FASTER", "random read-modify-write", sample, sw.Elapsed);
            var (second, secondSize) = Checkpoint(store, 2, "faster", state);
            Console.WriteLine($"  FASTER     checkpoint 2 (incremental log): {second.TotalMilliseconds,9:N0} ms, files {secondSize / (1024.0 * 1024):N1} MiB");
        }

        Console.WriteLine($"  FASTER     on disk: {DirectoryBytes(store.OperatorDirectory("faster")) / (1024.0 * 1024):N0} MiB");
        var recovery = Stopwatch.StartNew();
        var manifest = store.LoadLatest("bench")!;
        var verified = recovery.Elapsed;
        using var restored = new FasterKeyedStateStore<long, long>(store.OperatorDirectory("faster"), options);
        store.RestoreOperatorState(manifest, "faster", restored);
        var restoredAt = recovery.Elapsed;
        var probe = new Random(11);
        var found = 0;
        for (var i = 0; i < 10_000; i++)
        {
            found += restored.TryGet(probe.NextInt64(keys), out _) ? 1 : 0;
        }

        Console.WriteLine($"  FASTER     recovery: {restoredAt.TotalMilliseconds,9:N0} ms (manifest + checksums {verified.TotalMilliseconds:N0} ms), {found:N0}/10,000 random keys found after");
    }

    private static (TimeSpan Duration, long Bytes) Checkpoint(CheckpointStore store, long id, string operatorId, ICheckpointableOperator state)
    {
        var sw = Stopwatch.StartNew();
        store.Begin(id);
        var operatorState = store.WriteOperatorState(id, operatorId, state);
        store.Complete(new CheckpointManifest(id, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "bench", false, [], [operatorState], []));
        return (sw.Elapsed, operatorState.Files.Sum(f => f.Length));
    }

    private static void Report(string store, string what, long count, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {store,-10} {what}: {count / elapsed.TotalSeconds / 1e6,8:N2} M ops/s ({elapsed.TotalMilliseconds:N0} ms)"));

    private static long DirectoryBytes(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
}
