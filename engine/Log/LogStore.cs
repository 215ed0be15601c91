using System.Text.Json;
using System.Text.RegularExpressions;

namespace Streams.Engine.Log;

/// <summary>
/// A Streams data directory: a marker file (so a foreign directory is never written into), <c>topics/</c> and <c>groups/</c>.
/// Topics opened through one store are shared; dispose the store to close them.
/// </summary>
public sealed class LogStore : IDisposable
{
    /// <summary>The file that marks a directory as a Streams data directory.</summary>
    public const string MarkerFile = ".streams-data";

    private const string MarkerText = "streams data directory v1\n";
    private static readonly Regex ValidName = new("^[A-Za-z0-9._-]{1,200}$", RegexOptions.CultureInvariant);
    private readonly Dictionary<string, LogTopic> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Action<string> _report;
    private readonly TimeProvider _clock;

    private LogStore(string directory, Action<string> report, TimeProvider clock)
    {
        DataDirectory = directory;
        _report = report;
        _clock = clock;
        Groups = new ConsumerGroups(directory);
    }

    /// <summary>The data directory (full path).</summary>
    public string DataDirectory { get; }

    /// <summary>The consumer groups' committed offsets.</summary>
    public ConsumerGroups Groups { get; }

    private string TopicsDirectory => Path.Combine(DataDirectory, "topics");

    /// <summary>
    /// Opens (creating when <paramref name="create"/> and missing or empty) the data directory at <paramref name="path"/>.
    /// <paramref name="report"/> receives recovery and retention notes (what was cut, what was held back); default stderr.
    /// <paramref name="clock"/> is the time transaction timeouts are measured in (tests pass a manual one); default the system clock.
    /// </summary>
    public static LogStore Open(string path, bool create = true, Action<string>? report = null, TimeProvider? clock = null)
    {
        var full = Path.GetFullPath(path);
        var marker = Path.Combine(full, MarkerFile);
        if (!File.Exists(marker))
        {
            if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            {
                throw new LogException($"{full} is not a Streams data directory (it has files but no {MarkerFile} marker); refusing to use it. Pass another --data-dir.");
            }

            if (create)
            {
                Directory.CreateDirectory(full);
                NativeFile.WriteAtomically(marker, System.Text.Encoding.UTF8.GetBytes(MarkerText));
            }
        }

        return new LogStore(full, report ?? (line => Console.Error.WriteLine(line)), clock ?? TimeProvider.System);
    }

    /// <summary>Checks a topic name: 1-200 of letters, digits, '.', '_', '-'.</summary>
    public static void CheckTopicName(string name)
    {
        if (!ValidName.IsMatch(name) || name is "." or "..")
        {
            throw new LogException($"invalid topic name '{name}': use 1-200 letters, digits, '.', '_' or '-'");
        }
    }

    /// <summary>Creates a topic; fails if it exists.</summary>
    public LogTopic CreateTopic(string name, TopicConfig config)
    {
        CheckTopicName(name);
        config.Validate();
        lock (_gate)
        {
            var dir = Path.Combine(TopicsDirectory, name);
            if (Directory.Exists(dir))
            {
                throw new LogException($"topic '{name}' already exists");
            }

            var temp = Path.Combine(TopicsDirectory, "." + name + ".creating");
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            // Build the topic beside its final name and rename it in, so a crash never leaves half a topic.
            Directory.CreateDirectory(temp);
            NativeFile.WriteAtomically(Path.Combine(temp, "topic.json"), JsonSerializer.SerializeToUtf8Bytes(config, TopicConfig.Json));
            Directory.Move(temp, dir);
            NativeFile.FlushDirectory(TopicsDirectory);
            var topic = new LogTopic(name, dir, config, writable: true, _report, _clock, Groups);
            _open[name] = topic;
            return topic;
        }
    }

    /// <summary>True when the topic exists.</summary>
    public bool TopicExists(string name) => ValidName.IsMatch(name) && File.Exists(Path.Combine(TopicsDirectory, name, "topic.json"));

    /// <summary>
    /// Opens an existing topic. <paramref name="writable"/> asks for the writer lock (recovering the partitions' tails);
    /// when another process holds it, or when only reading, the topic opens read-only and never modifies files.
    /// </summary>
    public LogTopic OpenTopic(string name, bool writable = true)
    {
        CheckTopicName(name);
        lock (_gate)
        {
            if (_open.TryGetValue(name, out var writer))
            {
                return writer;
            }

            _open.TryGetValue(ReadOnlyKey(name), out var reader);
            if (reader is not null && !writable)
            {
                return reader;
            }

            var dir = Path.Combine(TopicsDirectory, name);
            var configPath = Path.Combine(dir, "topic.json");
            if (!File.Exists(configPath))
            {
                var known = TopicNames();
                throw new LogException($"unknown topic '{name}' in {DataDirectory}" + (known.Count > 0 ? $" (topics: {string.Join(", ", known)})" : " (no topics yet; create one with `streams topic create`)"));
            }

            var config = JsonSerializer.Deserialize<TopicConfig>(File.ReadAllBytes(configPath), TopicConfig.Json)
                         ?? throw new LogException($"{configPath} is empty");
            var topic = new LogTopic(name, dir, config, writable, _report, _clock, Groups);
            if (topic.IsWritable)
            {
                _open[name] = topic;
                return topic;
            }

            if (reader is not null)
            {
                // Still no writer lock: keep the read-only handle already open.
                topic.Dispose();
                return reader;
            }

            _open[ReadOnlyKey(name)] = topic;
            return topic;
        }
    }

    private static string ReadOnlyKey(string name) => "\0ro:" + name;

    /// <summary>Topic names, sorted.</summary>
    public IReadOnlyList<string> TopicNames() =>
        Directory.Exists(TopicsDirectory)
            ? [.. Directory.EnumerateDirectories(TopicsDirectory).Select(Path.GetFileName).Where(n => n is not null && !n.StartsWith('.') && File.Exists(Path.Combine(TopicsDirectory, n, "topic.json"))).Order(StringComparer.Ordinal)!]
            : [];

    /// <summary>The log end of a partition, or null when the topic or partition does not exist.</summary>
    public long? EndOffset(string topic, int partition)
    {
        if (!TopicExists(topic))
        {
            return null;
        }

        var t = OpenTopic(topic, writable: false);
        return partition < t.Partitions.Count ? t.Partitions[partition].EndOffset : null;
    }

    /// <summary>The last stable offset of a partition (what lag is measured to), or null when the topic or partition does not exist.</summary>
    public long? LastStableOffset(string topic, int partition)
    {
        if (!TopicExists(topic))
        {
            return null;
        }

        var t = OpenTopic(topic, writable: false);
        if (partition >= t.Partitions.Count)
        {
            return null;
        }

        t.Partitions[partition].RefreshFromDisk();
        return t.Partitions[partition].LastStableOffset;
    }

    /// <summary>Passes a note (recovery, retention, transaction timeouts) to the store's report, stderr by default.</summary>
    public void Report(string note) => _report(note);

    /// <summary>Closes every open topic.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var t in _open.Values)
            {
                t.Dispose();
            }

            _open.Clear();
        }
    }
}
