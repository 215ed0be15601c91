using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Streams.Server.Commands.Bench.Nexmark;

namespace Streams.Server.Commands.Bench;

/// <summary>
/// <c>streams bench nexmark [--query q5] [--events N] [--parallelism N] [--json]</c>: runs the Nexmark queries of
/// perf/nexmark in process (generator → SQL → blackhole) and prints query, events, seconds, events/s, events/s per core
/// and peak memory, with a progress bar while each query runs.
/// </summary>
internal static class BenchNexmarkCommand
{
    public static Command Create()
    {
        var query = new Option<string[]>("--query", "-q") { Description = "Queries to run (q0 .. q8, q11, q12; repeatable or comma-separated). Default: all.", AllowMultipleArgumentsPerToken = true };
        var events = new Option<long>("--events", "-n") { Description = "Events to generate over Person, Auction and Bid.", DefaultValueFactory = _ => 10_000_000 };
        var parallelism = new Option<int>("--parallelism", "-p") { Description = "Tasks per keyed operator and source partitions (default: cores)." };
        var seed = new Option<long>("--seed") { Description = "Generator seed.", DefaultValueFactory = _ => 42 };
        var rate = new Option<double>("--rate") { Description = "Events per second of event time (published Flink setup: 10,000,000).", DefaultValueFactory = _ => 10_000_000 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var allocProfile = new Option<bool>("--alloc-profile") { Description = "Sample allocations (GC AllocationTick) and print the types the queries allocate most." };
        var command = new Command("nexmark", "Run the Nexmark benchmark queries (SQL over the in-process generator, blackhole sink).")
        {
            query, events, parallelism, seed, rate, json, allocProfile,
        };
        command.SetAction((parse, ct) =>
        {
            var names = (parse.GetValue(query) ?? []).SelectMany(q => q.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var p = parse.GetValue(parallelism);
            var options = new NexmarkRunOptions
            {
                Events = parse.GetValue(events),
                Seed = parse.GetValue(seed),
                Rate = parse.GetValue(rate),
                Parallelism = p > 0 ? p : Math.Max(1, Environment.ProcessorCount),
            };
            return parse.GetValue(allocProfile)
                ? Profile(names.Count == 0 ? NexmarkQueries.All : names, options, parse.GetValue(json), ct)
                : Run(names.Count == 0 ? NexmarkQueries.All : names, options, parse.GetValue(json), ct);
        });
        return command;
    }

    /// <summary>Runs <paramref name="queries"/> and prints the table (or JSON); exit code 1 when a query failed other than by being unsupported.</summary>
    public static async Task<int> Run(IReadOnlyList<string> queries, NexmarkRunOptions options, bool json, CancellationToken ct)
    {
        var resolved = new List<string>();
        foreach (var q in queries)
        {
            if (NexmarkQueries.Resolve(q) is not { } name)
            {
                await Console.Error.WriteLineAsync($"error: unknown Nexmark query '{q}' (expected one of {string.Join(", ", NexmarkQueries.All)})").ConfigureAwait(false);
                return 2;
            }

            resolved.Add(name);
        }

        if (options.Events <= 0)
        {
            await Console.Error.WriteLineAsync("error: --events must be positive (the benchmark needs a bounded run)").ConfigureAwait(false);
            return 2;
        }

        var runner = new NexmarkRunner(options);
        var results = new List<NexmarkResult>();
        if (json)
        {
            foreach (var q in resolved)
            {
                results.Add(await runner.RunAsync(q, ct).ConfigureAwait(false));
            }

            Console.WriteLine(JsonSerializer.Serialize(results.Select(r => new
            {
                query = r.Query,
                events = r.Events,
                seconds = r.Seconds,
                eventsPerSecond = r.EventsPerSecond,
                eventsPerSecondPerCore = r.EventsPerSecondPerCore,
                cpuSeconds = r.CpuSeconds,
                eventsPerCpuSecond = r.CpuSeconds > 0 ? r.Events / r.CpuSeconds : 0,
                cores = r.Cores,
                parallelism = options.Parallelism,
                peakMemoryBytes = r.PeakMemoryBytes,
                rowsOut = r.RowsOut,
                allocatedBytesPerEvent = r.AllocatedBytesPerEvent,
                error = r.Error,
            }), new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            AnsiConsole.MarkupLine($"[bold]Nexmark[/]: {options.Events:N0} events, seed {options.Seed}, rate {options.Rate:N0}/s of event time, parallelism {options.Parallelism}, {Environment.ProcessorCount} cores");
            await AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async ctx =>
                {
                    var tasks = resolved.ToDictionary(q => q, q => ctx.AddTask(q, autoStart: false, maxValue: options.Events));
                    foreach (var q in resolved)
                    {
                        var task = tasks[q];
                        task.StartTask();
                        var run = runner.RunAsync(q, ct);
                        while (!run.IsCompleted)
                        {
                            task.Value = Math.Min(options.Events, runner.Progress.Position);
                            await Task.WhenAny(run, Task.Delay(100, ct)).ConfigureAwait(false);
                        }

                        results.Add(await run.ConfigureAwait(false));
                        task.Value = options.Events;
                        task.StopTask();
                    }
                }).ConfigureAwait(false);
            AnsiConsole.Write(Table(results));
            foreach (var r in results.Where(r => !r.Ok))
            {
                AnsiConsole.MarkupLine($"[yellow]{r.Query}[/]: {Markup.Escape(r.Error!)}");
            }
        }

        return results.All(r => r.Ok || r.Error!.StartsWith("not supported", StringComparison.Ordinal) || r.Error.Contains(": not supported", StringComparison.Ordinal)) ? 0 : 1;
    }

    private static async Task<int> Profile(IReadOnlyList<string> queries, NexmarkRunOptions options, bool json, CancellationToken ct)
    {
        using var sampler = new AllocationSampler();
        var code = await Run(queries, options, json, ct).ConfigureAwait(false);
        Console.Error.WriteLine("sampled allocations (GC AllocationTick, ~100 KB per sample), largest first:");
        foreach (var (type, bytes) in sampler.Top(15))
        {
            Console.Error.WriteLine($"  {bytes / (1024.0 * 1024.0),10:F1} MiB  {type}");
        }

        return code;
    }

    private static Table Table(IReadOnlyList<NexmarkResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("query").AddColumn(new TableColumn("events").RightAligned()).AddColumn(new TableColumn("seconds").RightAligned())
            .AddColumn(new TableColumn("events/s").RightAligned()).AddColumn(new TableColumn("events/s/core").RightAligned())
            .AddColumn(new TableColumn("events/CPU-s").RightAligned())
            .AddColumn(new TableColumn("peak memory").RightAligned()).AddColumn(new TableColumn("rows out").RightAligned());
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Redirected output has no terminal width; keep each row on one line for logs and docs.
            table.Expand = false;
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 140);
        }
        foreach (var r in results)
        {
            if (r.Ok)
            {
                table.AddRow(r.Query, r.Events.ToString("N0", CultureInfo.InvariantCulture), r.Seconds.ToString("F2", CultureInfo.InvariantCulture),
                    Rate(r.EventsPerSecond), Rate(r.EventsPerSecondPerCore), Rate(r.CpuSeconds > 0 ? r.Events / r.CpuSeconds : 0), Bytes(r.PeakMemoryBytes), r.RowsOut.ToString("N0", CultureInfo.InvariantCulture));
            }
            else
            {
                // The full message goes under the table, where it does not squeeze the numbers.
                table.AddRow(new Markup(r.Query), new Markup("[yellow]see below[/]"), Text.Empty, Text.Empty, Text.Empty, Text.Empty, Text.Empty, Text.Empty);
            }
        }

        return table;
    }

    private static string Rate(double perSecond) => perSecond >= 1e6
        ? (perSecond / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M/s"
        : (perSecond / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " K/s";

    private static string Bytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("N0", CultureInfo.InvariantCulture) + " MiB";
}
