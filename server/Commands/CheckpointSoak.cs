using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Streams.Connectors.Files;
using Streams.Connectors.Log;
using Streams.Engine.Checkpoints;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Runtime;
using Streams.Engine.State;

namespace Streams.Server.Commands;

/// <summary>
/// <c>streams checkpoints soak</c>: the crash harness. It writes an event file per partition, then starts a worker
/// process that runs a checkpointed keyed tumbling-window aggregate from the files into a two-phase file sink, kills
/// it with SIGKILL at random moments, restarts it on the same state directory, and finally checks that the visible
/// sink rows equal the exact aggregate as a multiset (no duplicate, nothing missing).
/// </summary>
internal static class CheckpointSoak
{
    private const int KeyCount = 64;
    private const long WindowMs = 1_000;
    private const long StartMs = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    private static readonly Schema Events = new([new Field("key", DataType.Int64), new Field("value", DataType.Int64), new Field("ts", DataType.Timestamp)], 2);
    private static readonly Schema Windows = new([new Field("key", DataType.Int64), new Field("window_start", DataType.Timestamp), new Field("cnt", DataType.Int64), new Field("total", DataType.Int64)]);

    /// <summary>Harness settings.</summary>
    internal sealed record Settings(string Directory, long Events, int Kills, TimeSpan Interval, int Seed, TimeSpan MinRun, TimeSpan MaxRun, long EventsPerSecond = 0);

    /// <summary>What a soak found.</summary>
    internal sealed record Outcome(int Kills, int Restarts, long ExpectedRows, long ActualRows, long Duplicates, long Missing, long Unexpected)
    {
        public bool ExactlyOnce => Duplicates == 0 && Missing == 0 && Unexpected == 0 && ExpectedRows == ActualRows;
    }

    public static Command Create()
    {
        var dir = new Option<string>("--dir") { Description = "Work folder (input, output, state).", Required = true };
        var events = new Option<long>("--events") { Description = "Events in total (two partitions).", DefaultValueFactory = _ => 2_000_000 };
        var kills = new Option<int>("--kills") { Description = "How many times the job is killed with SIGKILL.", DefaultValueFactory = _ => 100 };
        var interval = new Option<int>("--checkpoint-interval-ms") { Description = "Checkpoint interval (0 = no checkpoints, the overhead baseline; only with --kills 0).", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { Description = "Random seed for the kill moments.", DefaultValueFactory = _ => Environment.TickCount };
        var rate = new Option<long>("--rate") { Description = "Cap on events per second read by the job (0 = unlimited), so kills land all over a long run.", DefaultValueFactory = _ => 0 };
        var worker = new Option<bool>("--worker") { Description = "Run the job once (what the harness starts and kills).", Hidden = true };
        var command = new Command("soak", "Crash harness: kill -9 a checkpointed windowed aggregate repeatedly and verify the sink is exactly-once.");
        command.Options.Add(dir);
        command.Options.Add(events);
        command.Options.Add(kills);
        command.Options.Add(interval);
        command.Options.Add(seed);
        command.Options.Add(worker);
        command.Options.Add(rate);
        command.SetAction(parse =>
        {
            var settings = new Settings(parse.GetValue(dir)!, parse.GetValue(events), parse.GetValue(kills),
                TimeSpan.FromMilliseconds(parse.GetValue(interval)), parse.GetValue(seed), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3), parse.GetValue(rate));
            if (parse.GetValue(worker))
            {
                RunWorker(settings).GetAwaiter().GetResult();
                return 0;
            }

            var outcome = Run(settings, WorkerCommand(), Console.Out);
            return outcome.ExactlyOnce ? 0 : 1;
        });
        return command;
    }

    /// <summary>How to start a worker of this very build: the host executable and the CLI assembly.</summary>
    internal static (string FileName, string[] Prefix) WorkerCommand()
    {
        var cli = typeof(CheckpointSoak).Assembly.Location;
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(host))
        {
            host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        }

        return (host, ["exec", cli]);
    }

    /// <summary>Prepares input, kills and restarts workers, then verifies the sink.</summary>
    internal static Outcome Run(Settings settings, (string FileName, string[] Prefix) worker, TextWriter log)
    {
        var root = Path.GetFullPath(settings.Directory);
        var input = Path.Combine(root, "input");
        if (!Directory.Exists(input))
        {
            WriteInput(input, settings.Events);
        }

        var random = new Random(settings.Seed);
        var elapsed = Stopwatch.StartNew();
        var kills = 0;
        var restarts = 0;
        var finished = false;
        while (!finished)
        {
            var killThis = kills < settings.Kills;
            using var process = StartWorker(worker, settings, root);
            restarts++;
            if (killThis)
            {
                var delay = settings.MinRun + (random.NextDouble() * (settings.MaxRun - settings.MinRun));
                if (process.WaitForExit(delay))
                {
                    finished = CheckExit(process, log);
                    continue;
                }

                process.Kill(); // SIGKILL on Unix: no finally blocks, no flushes.
                process.WaitForExit();
                kills++;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kill {kills}/{settings.Kills} after {delay.TotalMilliseconds:N0} ms"));
            }
            else
            {
                process.WaitForExit();
                finished = CheckExit(process, log);
                if (!finished)
                {
                    throw new InvalidOperationException("the worker failed when it was not killed; see its output above");
                }
            }
        }

        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"elapsed {elapsed.Elapsed.TotalSeconds:N2} s for {restarts} worker runs (checkpoint interval {(settings.Interval > TimeSpan.Zero ? settings.Interval.TotalMilliseconds + " ms" : "off")})"));
        return Verify(root, settings.Events, kills, restarts, log);
    }

    private static Process StartWorker((string FileName, string[] Prefix) worker, Settings settings, string root)
    {
        var info = new ProcessStartInfo(worker.FileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in worker.Prefix)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var arg in new[] { "checkpoints", "soak", "--worker", "--dir", root, "--events", settings.Events.ToString(CultureInfo.InvariantCulture),
                     "--checkpoint-interval-ms", ((int)settings.Interval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
                     "--rate", settings.EventsPerSecond.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {worker.FileName}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static bool CheckExit(Process process, TextWriter log)
    {
        if (process.ExitCode != 0)
        {
            log.WriteLine($"worker exited with code {process.ExitCode}");
            return false;
        }

        return true;
    }

    internal static void WriteInput(string input, long events)
    {
        Directory.CreateDirectory(input);
        var perPartition = events / 2;
        for (var p = 0; p < 2; p++)
        {
            var temp = Path.Combine(input, $".part-{p}.tmp");
            using (var writer = new StreamWriter(temp, false, new UTF8Encoding(false), 1 << 20))
            {
                for (long i = 0; i < perPartition + (p == 0 ? events % 2 : 0); i++)
                {
                    var (key, value, ts) = EventAt(p, i);
                    writer.Write("{\"key\":");
                    writer.Write(key.ToString(CultureInfo.InvariantCulture));
                    writer.Write(",\"value\":");
                    writer.Write(value.ToString(CultureInfo.InvariantCulture));
                    writer.Write(",\"ts\":\"");
                    writer.Write(DateTimeOffset.FromUnixTimeMilliseconds(ts).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                    writer.Write("\"}\n");
                }
            }

            File.Move(temp, Path.Combine(input, $"part-{p}.ndjson"));
        }
    }

    private static (long Key, long Value, long Ts) EventAt(int partition, long i) =>
        ((long)((unchecked((ulong)i * 0x9E3779B97F4A7C15UL) ^ (ulong)partition) % KeyCount), ((i * 31) + partition) % 1000, StartMs + i);

    private static Outcome Verify(string root, long events, int kills, int restarts, TextWriter log)
    {
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        var windows = new Dictionary<(long Key, long Window), (long Count, long Sum)>();
        for (var p = 0; p < 2; p++)
        {
            var n = (events / 2) + (p == 0 ? events % 2 : 0);
            for (long i = 0; i < n; i++)
            {
                var (key, value, ts) = EventAt(p, i);
                var w = ts - (ts % WindowMs);
                var agg = windows.GetValueOrDefault((key, w));
                windows[(key, w)] = (agg.Count + 1, agg.Sum + value);
            }
        }

        foreach (var ((key, window), (count, sum)) in windows)
        {
            var row = Canonical(key, window, count, sum);
            expected[row] = expected.GetValueOrDefault(row) + 1;
        }

        var actual = new Dictionary<string, long>(StringComparer.Ordinal);
        long actualRows = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "output")).Where(f => !Path.GetFileName(f).StartsWith('.')))
        {
            foreach (var line in File.ReadLines(file))
            {
                using var json = JsonDocument.Parse(line);
                var r = json.RootElement;
                var window = DateTimeOffset.Parse(r.GetProperty("window_start").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
                var row = Canonical(r.GetProperty("key").GetInt64(), window, r.GetProperty("cnt").GetInt64(), r.GetProperty("total").GetInt64());
                actual[row] = actual.GetValueOrDefault(row) + 1;
                actualRows++;
            }
        }

        long duplicates = 0, missing = 0, unexpected = 0;
        foreach (var (row, count) in actual)
        {
            var want = expected.GetValueOrDefault(row);
            if (want == 0)
            {
                unexpected += count;
            }
            else if (count > want)
            {
                duplicates += count - want;
            }
        }

        foreach (var (row, want) in expected)
        {
            missing += Math.Max(0, want - actual.GetValueOrDefault(row));
        }

        var outcome = new Outcome(kills, restarts, expected.Values.Sum(), actualRows, duplicates, missing, unexpected);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"soak: {events:N0} events, {kills} kills, {restarts} starts; expected {outcome.ExpectedRows:N0} rows, got {actualRows:N0}: {duplicates} duplicates, {missing} missing, {unexpected} unexpected -> {(outcome.ExactlyOnce ? "EXACTLY ONCE" : "FAILED")}"));
        return outcome;
    }

    private static string Canonical(long key, long window, long count, long sum) =>
        string.Create(CultureInfo.InvariantCulture, $"{key}|{window}|{count}|{sum}");

    /// <summary>One worker run: resumes from the state directory, runs to the end of the files with checkpoints.</summary>
    private static Task RunWorker(Settings settings) =>
        RunJob(Path.GetFullPath(settings.Directory), "input/*.ndjson", settings.Interval, settings.EventsPerSecond, logSink: false, onCheckpoint: null);

    /// <summary>
    /// Runs the tumble job in this process over <paramref name="inputGlob"/> into <c>output</c> below <paramref name="root"/>
    /// (a file sink, or with <paramref name="logSink"/> topic <c>output</c> of the log in <c>root/data</c>). An interval of 0
    /// runs without checkpoints: the baseline for the checkpoint overhead.
    /// </summary>
    internal static async Task RunJob(string root, string inputGlob, TimeSpan interval, long eventsPerSecond, bool logSink, Action<CheckpointManifest>? onCheckpoint)
    {
        var pool = new BatchPool();
        var deadLetters = new CountingDeadLetters();
        var checkpointing = interval > TimeSpan.Zero
            ? new JobCheckpointing(Path.Combine(root, "state"), PlanFingerprint.Of("soak: file(events) -> keyBy(key) -> tumble(1s) count,sum -> file(output); parallelism 2"), interval)
            : null;
        if (checkpointing is not null && onCheckpoint is not null)
        {
            checkpointing.Coordinator.Completed += onCheckpoint;
        }

        var graph = new JobGraph(new JobOptions { Parallelism = 2, Pool = pool, Checkpoints = checkpointing, DeadLetters = deadLetters, Name = "soak" });
        var source = new FileConnectorFactory().CreateSource(new ConnectorContext("events", Events, new Dictionary<string, string> { ["path"] = inputGlob, ["format"] = "json" }, root, null, deadLetters, pool));
        using var logFactory = new LogConnectorFactory();
        var sinkFactory = logSink ? (IConnectorFactory)logFactory : new FileConnectorFactory();
        var sinkOptions = logSink
            ? new Dictionary<string, string> { ["topic"] = "output", ["data-dir"] = "data", ["partitions"] = "2", ["fsync"] = "never" }
            : new Dictionary<string, string> { ["path"] = "output", ["format"] = "json" };
        var sink = sinkFactory.CreateSink(new ConnectorContext("output", Windows, sinkOptions, root, null, deadLetters, pool));
        if (eventsPerSecond > 0)
        {
            source = new ThrottledSource(source, eventsPerSecond);
        }

        graph.Source("events", source, Events, new WatermarkStrategy(EventTimeColumn: 2))
            .KeyBy(0)
            .Apply("tumble", Windows, _ => new TumblingCountSum(pool))
            .To(sink);
        if (checkpointing is null)
        {
            await graph.Build().RunAsync().ConfigureAwait(false);
        }
        else
        {
            await checkpointing.RunAsync(graph.Build()).ConfigureAwait(false);
        }

        if (deadLetters.Count > 0)
        {
            throw new InvalidOperationException($"{deadLetters.Count} events were dead-lettered");
        }
    }

    /// <summary>Caps the read rate (split evenly over partitions) so a run lasts long enough to be killed many times.</summary>
    private sealed class ThrottledSource(ISourceConnector inner, long eventsPerSecond) : ISourceConnector
    {
        public int PartitionCount => inner.PartitionCount;

        public bool IsBounded => inner.IsBounded;

        public ISourceReader OpenPartition(int partition, long offset) =>
            new Reader(inner.OpenPartition(partition, offset), Math.Max(1, eventsPerSecond / Math.Max(1, inner.PartitionCount)));

        private sealed class Reader(ISourceReader inner, long perSecond) : ISourceReader
        {
            private readonly Stopwatch _clock = Stopwatch.StartNew();
            private long _rows;

            public long Offset => inner.Offset;

            public async ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
            {
                var due = TimeSpan.FromSeconds((double)_rows / perSecond) - _clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }

                var batch = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
                _rows += batch?.Count ?? 0;
                return batch;
            }

            public void Dispose() => inner.Dispose();
        }
    }

    private sealed class CountingDeadLetters : IDeadLetterSink
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public void Report(DeadLetter letter) => Interlocked.Increment(ref _count);
    }

    private readonly record struct WindowKey(long Start, long Key);

    private readonly record struct CountSum(long Count, long Sum);

    /// <summary>Keyed 1 s tumbling COUNT(*) and SUM(value), fired by the watermark; its state is checkpointed.</summary>
    private sealed class TumblingCountSum(BatchPool pool) : IOperator, ICheckpointableOperator
    {
        private readonly InMemoryKeyedStateStore<WindowKey, CountSum> _windows = new();
        private readonly List<WindowKey> _due = [];

        public void OnBatch(ColumnBatch batch, IOperatorOutput output)
        {
            var keys = batch.ColumnAt<long>(0).Values;
            var values = batch.ColumnAt<long>(1).Values;
            var times = batch.ColumnAt<long>(2).Values;
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch.IsLive(i))
                {
                    ref var agg = ref _windows.GetOrAdd(new WindowKey(times[i] - (times[i] % WindowMs), keys[i]), out _);
                    agg = new CountSum(agg.Count + 1, agg.Sum + values[i]);
                }
            }

            batch.Dispose();
        }

        public void OnWatermark(long watermark, IOperatorOutput output)
        {
            _due.Clear();
            _windows.ForEach((key, _) =>
            {
                if (key.Start + WindowMs - 1 <= watermark)
                {
                    _due.Add(key);
                }
            });
            if (_due.Count > 0)
            {
                var result = pool.Rent(Windows, _due.Count);
                for (var i = 0; i < _due.Count; i++)
                {
                    _windows.TryGet(_due[i], out var agg);
                    _windows.Remove(_due[i]);
                    result.ColumnAt<long>(0).Values[i] = _due[i].Key;
                    result.ColumnAt<long>(1).Values[i] = _due[i].Start;
                    result.ColumnAt<long>(2).Values[i] = agg.Count;
                    result.ColumnAt<long>(3).Values[i] = agg.Sum;
                }

                result.Count = _due.Count;
                output.Emit(result);
            }

            output.EmitWatermark(watermark);
        }

        public void Snapshot(IStateSnapshotWriter writer) => _windows.Snapshot(writer);

        public void Restore(IStateSnapshotReader reader) => _windows.Restore(reader);
    }
}
