using System.CommandLine;
using System.Globalization;
using Streams.Engine.Checkpoints;

namespace Streams.Server.Commands;

/// <summary><c>streams checkpoints --state-dir DIR</c>: lists a job's checkpoints (id, time, size, offsets) and which one a restart resumes from.</summary>
internal static class CheckpointsCommand
{
    public static Command Create()
    {
        var stateDir = new Option<string>("--state-dir")
        {
            Description = "The job's state directory (as given to `streams run --state-dir`), relative to the current directory.",
            Required = true,
        };
        var command = new Command("checkpoints", "List the checkpoints in a state directory: id, time, size, source offsets, status.");
        command.Options.Add(stateDir);
        command.Subcommands.Add(CheckpointSoak.Create());
        command.Subcommands.Add(CheckpointOverhead.Create());
        command.SetAction(parse => List(parse.GetValue(stateDir)!, Console.Out, Console.Error));
        return command;
    }

    internal static int List(string stateDirectory, TextWriter output, TextWriter errors)
    {
        var full = Path.GetFullPath(stateDirectory);
        if (!Directory.Exists(Path.Combine(full, "checkpoints")))
        {
            errors.WriteLine($"streams checkpoints: {full} is not a state directory (it has no checkpoints folder)");
            return 2;
        }

        var store = new CheckpointStore(full, retain: int.MaxValue, log: _ => { });
        var listings = store.List();
        if (listings.Count == 0)
        {
            output.WriteLine($"no checkpoints in {full}");
            return 0;
        }

        var resumeFrom = listings.FirstOrDefault(l => l.Status == CheckpointStatus.Complete)?.Id;
        var rows = new List<string[]> { new[] { "ID", "STATUS", "CREATED (UTC)", "SIZE", "OFFSETS" } };
        foreach (var listing in listings)
        {
            var manifest = listing.Manifest;
            var status = listing.Status switch
            {
                CheckpointStatus.Complete when listing.Id == resumeFrom => manifest!.IsFinal ? "final (resume)" : "complete (resume)",
                CheckpointStatus.Complete => manifest!.IsFinal ? "final" : "complete",
                CheckpointStatus.Incomplete => "incomplete",
                _ => "CORRUPT",
            };
            rows.Add(
            [
                listing.Id.ToString(CultureInfo.InvariantCulture),
                status,
                manifest is null ? "-" : DateTimeOffset.FromUnixTimeMilliseconds(manifest.CreatedUtcMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
                manifest is null ? "-" : FormatBytes(manifest.StateBytes),
                manifest is null ? "-" : FormatOffsets(manifest),
            ]);
        }

        var widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Take(4).Select((cell, c) => cell.PadRight(widths[c]))) + "  " + row[4]);
        }

        foreach (var listing in listings.Where(l => l.Status != CheckpointStatus.Complete))
        {
            output.WriteLine($"checkpoint {listing.Id}: {listing.Problem}");
        }

        if (resumeFrom is null)
        {
            output.WriteLine("no complete checkpoint: a restart begins from the start of its inputs");
        }

        return 0;
    }

    /// <summary>Parses a checkpoint interval: a positive number with unit ms, s or m (<c>200ms</c>, <c>1s</c>, <c>2m</c>).</summary>
    internal static bool TryParseInterval(string text, out TimeSpan interval)
    {
        interval = default;
        var t = text.Trim().ToLowerInvariant();
        var (digits, scale) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 1.0)
            : t.EndsWith('s') ? (t[..^1], 1000.0)
            : t.EndsWith('m') ? (t[..^1], 60_000.0)
            : (t, -1.0);
        if (scale < 0 || !double.TryParse(digits.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            return false;
        }

        interval = TimeSpan.FromMilliseconds(value * scale);
        return interval >= TimeSpan.FromMilliseconds(1);
    }

    internal static int BadInterval(string text, TextWriter errors)
    {
        errors.WriteLine($"error: --checkpoint-interval '{text}' is not a positive duration with a unit (200ms, 1s, 2m)");
        return 2;
    }

    private static string FormatOffsets(CheckpointManifest manifest) =>
        manifest.Sources.Count == 0
            ? "-"
            : string.Join(" ", manifest.Sources.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Source}[{s.Partition}]={s.Offset}")));

    private static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB"),
    };
}
