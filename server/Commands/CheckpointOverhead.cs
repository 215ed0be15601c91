using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace Streams.Server.Commands;

/// <summary>
/// <c>streams checkpoints overhead</c>: the soak's tumble job (NDJSON files → keyed 1 s tumbling COUNT/SUM → file or
/// log sink, parallelism 2) run in this process with checkpoints every interval and with checkpoints off, alternating
/// which goes first in each round so drift on a shared machine hits both alike. Prints each run's throughput, the
/// median-based overhead, and checkpoint duration (trigger to durable manifest) p50/max and state size.
/// </summary>
internal static class CheckpointOverhead
{
    public static Command Create()
    {
        var events = new Option<long>("--events") { Description = "Events per run (two input files).", DefaultValueFactory = _ => 4_000_000 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds; each runs the job once with and once without checkpoints.", DefaultValueFactory = _ => 3 };
        var sink = new Option<string>("--sink") { Description = "file (two-phase part files) or log (log transactions).", DefaultValueFactory = _ => "file" };
        sink.AcceptOnlyFromAmong("file", "log");
        var interval = new Option<int>("--checkpoint-interval-ms") { Description = "Checkpoint interval of the runs with checkpoints.", DefaultValueFactory = _ => 1000 };
        var dir = new Option<string?>("--dir") { Description = "Work folder (default: a temp folder, deleted afterwards)." };
        var command = new Command("overhead", "Measure checkpoint overhead: the tumble job with checkpoints vs without, alternating rounds.")
        {
            events, rounds, sink, interval, dir,
        };
        command.SetAction(parse => Run(parse.GetValue(events), parse.GetValue(rounds), parse.GetValue(sink) == "log",
            TimeSpan.FromMilliseconds(parse.GetValue(interval)), parse.GetValue(dir), Console.Out));
        return command;
    }

    internal static int Run(long events, int rounds, bool logSink, TimeSpan interval, string? directory, TextWriter output)
    {
        var root = Path.GetFullPath(directory ?? Path.Combine(Path.GetTempPath(), "streams-overhead-" + Guid.NewGuid().ToString("N")));
        try
        {
            var input = Path.Combine(root, "input");
            if (!Directory.Exists(input))
            {
                CheckpointSoak.WriteInput(input, events);
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"checkpoint overhead: {events:N0} events, tumble 1 s, parallelism 2, {(logSink ? "log" : "file")} sink, interval {interval.TotalMilliseconds:N0} ms, {rounds} rounds (+1 warm-up pair), load {LoadAverage()}"));
            var on = new List<double>();
            var off = new List<double>();
            var durations = new List<double>();
            var sizes = new List<long>();
            for (var round = 0; round <= rounds; round++)
            {
                // Round 0 warms the JIT and the page cache; later rounds alternate which mode goes first.
                foreach (var checkpoints in round % 2 == 0 ? new[] { true, false } : [false, true])
                {
                    var runDir = Path.Combine(root, $"run-{round}-{(checkpoints ? "on" : "off")}");
                    var roundDurations = new List<double>();
                    var roundSizes = new List<long>();
                    var clock = Stopwatch.StartNew();
                    CheckpointSoak.RunJob(runDir, Path.Combine(input, "*.ndjson"), checkpoints ? interval : TimeSpan.Zero, 0, logSink, manifest =>
                    {
                        lock (roundDurations)
                        {
                            roundDurations.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - manifest.CreatedUtcMs);
                            roundSizes.Add(manifest.StateBytes);
                        }
                    }).GetAwaiter().GetResult();
                    var seconds = clock.Elapsed.TotalSeconds;
                    Directory.Delete(runDir, recursive: true);
                    var rate = events / seconds;
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round}{(round == 0 ? " (warm-up)" : "")}  checkpoints {(checkpoints ? "on " : "off")}  {seconds,7:N2} s  {rate / 1e6,6:N2} M events/s{(checkpoints ? $"  {roundDurations.Count} checkpoints" : "")}"));
                    if (round == 0)
                    {
                        continue;
                    }

                    (checkpoints ? on : off).Add(rate);
                    durations.AddRange(roundDurations);
                    sizes.AddRange(roundSizes);
                }
            }

            var medianOn = Median(on);
            var medianOff = Median(off);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median throughput: checkpoints on {medianOn / 1e6:N2} M events/s, off {medianOff / 1e6:N2} M events/s -> overhead {(medianOff - medianOn) / medianOff * 100:N1} %"));
            // Each round runs on and off back to back, so a per-round ratio cancels the machine's drift between rounds.
            var paired = on.Zip(off, (a, b) => (b - a) / b * 100).ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"paired per-round overhead: median {Median(paired):N1} % (rounds: {string.Join(", ", paired.Select(p => p.ToString("N1", CultureInfo.InvariantCulture)))})"));
            if (durations.Count > 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"checkpoint duration (trigger to durable manifest): p50 {Median(durations):N0} ms, max {durations.Max():N0} ms over {durations.Count}; state size p50 {Median([.. sizes.Select(s => (double)s)]) / 1024:N1} KiB, max {sizes.Max() / 1024.0:N1} KiB"));
            }

            output.WriteLine($"load {LoadAverage()}");
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

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
