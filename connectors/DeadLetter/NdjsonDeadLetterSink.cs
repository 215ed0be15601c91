using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Streams.Engine.Connectors;

namespace Streams.Connectors.DeadLetters;

/// <summary>
/// Keeps every rejected record: writes each as one NDJSON line (<c>stream</c>, <c>location</c>, <c>reason</c>, <c>raw</c>)
/// to a file or stream when one is given, counts them per source, and produces the summary lines a run prints on stderr
/// (<c>3 malformed lines in bids.ndjson, first at line 17: ...</c>), so nothing vanishes. Thread-safe.
/// </summary>
public sealed class NdjsonDeadLetterSink : IDeadLetterSink, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Stream? _output;
    private readonly bool _leaveOpen;
    private readonly Utf8JsonWriter? _writer;
    private readonly Dictionary<(string Stream, string Source), SourceTally> _tallies = [];
    private readonly List<(string Stream, string Source)> _order = [];
    private long _count;

    /// <summary>Creates a sink that writes letters to <paramref name="output"/> (null: count and summarise only).</summary>
    public NdjsonDeadLetterSink(Stream? output = null, bool leaveOpen = false)
    {
        _output = output;
        _leaveOpen = leaveOpen;
        if (output is not null)
        {
            _writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
        }
    }

    /// <summary>Creates a sink appending to the file at <paramref name="path"/> (created with its folder when missing).</summary>
    public static NdjsonDeadLetterSink ToFile(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        return new NdjsonDeadLetterSink(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    /// <summary>How many records were rejected.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <inheritdoc />
    public void Report(Engine.Connectors.DeadLetter letter)
    {
        lock (_lock)
        {
            _count++;
            var (source, line) = SplitLocation(letter.Location);
            var key = (letter.Stream, source);
            if (!_tallies.TryGetValue(key, out var tally))
            {
                _tallies[key] = tally = new SourceTally(line, letter.Location, letter.Reason);
                _order.Add(key);
            }

            tally.Count++;
            if (_writer is not null)
            {
                _writer.WriteStartObject();
                _writer.WriteString("stream", letter.Stream);
                _writer.WriteString("location", letter.Location);
                _writer.WriteString("reason", letter.Reason);
                _writer.WriteString("raw", letter.Raw);
                _writer.WriteEndObject();
                _writer.Flush();
                _writer.Reset();
                _output!.WriteByte((byte)'\n');
                _output.Flush();
            }
        }
    }

    /// <summary>One line per source with rejected records, in the order they first appeared.</summary>
    public IReadOnlyList<string> Summary()
    {
        lock (_lock)
        {
            var lines = new List<string>(_order.Count);
            foreach (var key in _order)
            {
                var t = _tallies[key];
                var what = t.Count == 1 ? "malformed record" : "malformed records";
                lines.Add(t.FirstLine is { } line
                    ? $"{t.Count} malformed line{(t.Count == 1 ? "" : "s")} in {key.Source}, first at line {line}: {t.FirstReason}"
                    : $"{t.Count} {what} in {key.Stream}, first at {t.FirstLocation}: {t.FirstReason}");
            }

            return lines;
        }
    }

    /// <summary>Writes <see cref="Summary"/> to <paramref name="diagnostics"/> (stderr), one line each.</summary>
    public void WriteSummary(TextWriter diagnostics)
    {
        foreach (var line in Summary())
        {
            diagnostics.WriteLine(line);
        }
    }

    // "path/file.ndjson:17" → ("path/file.ndjson", 17); anything else is its own source.
    private static (string Source, long? Line) SplitLocation(string location)
    {
        var colon = location.LastIndexOf(':');
        if (colon > 0 && long.TryParse(location.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var line))
        {
            return (location[..colon], line);
        }

        return (location, null);
    }

    /// <summary>Flushes and closes the output unless it was left open.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            if (!_leaveOpen)
            {
                _output?.Dispose();
            }
        }
    }

    private sealed class SourceTally(long? firstLine, string firstLocation, string firstReason)
    {
        public long Count { get; set; }

        public long? FirstLine { get; } = firstLine;

        public string FirstLocation { get; } = firstLocation;

        public string FirstReason { get; } = firstReason;
    }
}
