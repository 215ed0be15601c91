using System.Text.Json;
using System.Text.RegularExpressions;

namespace Streams.Engine.Log;

/// <summary>Whether a partition's lag is growing: a large steady lag and a growing one are different alarms.</summary>
public enum LagTrend
{
    /// <summary>Too few samples to tell.</summary>
    Unknown,
    /// <summary>Lag is shrinking.</summary>
    Falling,
    /// <summary>Lag holds roughly level.</summary>
    Steady,
    /// <summary>Lag grew across the last samples: consumers are falling behind.</summary>
    Rising,
}

/// <summary>One group's position on one partition.</summary>
/// <param name="Group">The group.</param>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Committed">The next offset the group reads.</param>
/// <param name="EndOffset">The partition's last stable offset now (the log end unless a transaction is open): lag counts what a read-committed reader can read.</param>
/// <param name="LastCommitMs">When the group last committed (epoch ms).</param>
/// <param name="LagSamples">Lag seen at recent commits, oldest first.</param>
public sealed record GroupPartitionLag(string Group, string Topic, int Partition, long Committed, long EndOffset, long LastCommitMs, IReadOnlyList<long> LagSamples)
{
    /// <summary>Records the group has not read yet: last stable offset − committed.</summary>
    public long Lag => Math.Max(0, EndOffset - Committed);

    /// <summary>The direction of lag over the stored samples plus the current lag.</summary>
    public LagTrend Trend => ConsumerGroups.TrendOf([.. LagSamples, Lag]);
}

/// <summary>
/// Committed offsets of consumer groups, one JSON file per group under <c>groups/</c>, replaced atomically on every commit
/// (temp file, fsync, rename, directory fsync). Each commit also stores a lag sample so the trend can be shown.
/// </summary>
public sealed class ConsumerGroups
{
    /// <summary>Lag samples kept per partition.</summary>
    public const int SamplesKept = 10;

    private static readonly Regex ValidName = new("^[A-Za-z0-9._-]{1,200}$", RegexOptions.CultureInvariant);
    private readonly string _directory;
    private readonly Lock _gate = new();

    internal ConsumerGroups(string dataDirectory) => _directory = Path.Combine(dataDirectory, "groups");

    /// <summary>Stores <paramref name="offsets"/> (partition → next offset to read) for <paramref name="group"/> on <paramref name="topic"/>, with the lag against <paramref name="endOffsets"/>.</summary>
    public void Commit(string group, string topic, IReadOnlyDictionary<int, long> offsets, Func<int, long> endOffsets, long? nowMs = null)
    {
        CheckName(group);
        var now = nowMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (_gate)
        {
            Directory.CreateDirectory(_directory);
            var path = PathOf(group);
            // The lock file keeps two processes committing for one group from losing each other's partitions.
            using var fileLock = AcquireLock(path + ".lock");
            var state = Read(path) ?? new GroupFile { Group = group };
            state.LastCommitMs = now;
            if (!state.Topics.TryGetValue(topic, out var partitions))
            {
                partitions = [];
                state.Topics[topic] = partitions;
            }

            foreach (var (partition, offset) in offsets)
            {
                var key = partition.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (!partitions.TryGetValue(key, out var p))
                {
                    p = new PartitionFile();
                    partitions[key] = p;
                }

                p.Committed = offset;
                p.Samples.Add(Math.Max(0, endOffsets(partition) - offset));
                if (p.Samples.Count > SamplesKept)
                {
                    p.Samples.RemoveRange(0, p.Samples.Count - SamplesKept);
                }
            }

            NativeFile.WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(state, TopicConfig.Json));
        }
    }

    /// <summary>The committed offset of <paramref name="group"/> on a partition, or null when it never committed there.</summary>
    public long? Committed(string group, string topic, int partition)
    {
        CheckName(group);
        var state = Read(PathOf(group));
        return state is not null && state.Topics.TryGetValue(topic, out var ps) &&
               ps.TryGetValue(partition.ToString(System.Globalization.CultureInfo.InvariantCulture), out var p)
            ? p.Committed
            : null;
    }

    /// <summary>Group names that have committed something.</summary>
    public IReadOnlyList<string> Names() =>
        Directory.Exists(_directory)
            ? [.. Directory.EnumerateFiles(_directory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>Every group's position on every partition it committed, with lag against the current log ends.</summary>
    public IReadOnlyList<GroupPartitionLag> Describe(Func<string, int, long?> endOffset)
    {
        var result = new List<GroupPartitionLag>();
        foreach (var name in Names())
        {
            var state = Read(PathOf(name));
            if (state is null)
            {
                continue;
            }

            foreach (var (topic, partitions) in state.Topics.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                foreach (var (key, p) in partitions.OrderBy(p => int.Parse(p.Key, System.Globalization.CultureInfo.InvariantCulture)))
                {
                    var partition = int.Parse(key, System.Globalization.CultureInfo.InvariantCulture);
                    var end = endOffset(topic, partition) ?? p.Committed;
                    result.Add(new GroupPartitionLag(state.Group, topic, partition, p.Committed, end, state.LastCommitMs, p.Samples));
                }
            }
        }

        return result;
    }

    /// <summary>Groups that committed within <paramref name="liveWindowMs"/> of <paramref name="nowMs"/>, with their offsets on the partition.</summary>
    public IReadOnlyList<GroupOffset> LiveGroups(string topic, int partition, long nowMs, long liveWindowMs)
    {
        var result = new List<GroupOffset>();
        foreach (var name in Names())
        {
            var state = Read(PathOf(name));
            if (state is null || nowMs - state.LastCommitMs > liveWindowMs)
            {
                continue;
            }

            if (state.Topics.TryGetValue(topic, out var ps) &&
                ps.TryGetValue(partition.ToString(System.Globalization.CultureInfo.InvariantCulture), out var p))
            {
                result.Add(new GroupOffset(name, p.Committed));
            }
        }

        return result;
    }

    /// <summary>Rising when the samples never fall and end higher than they began; falling the other way; steady otherwise.</summary>
    public static LagTrend TrendOf(IReadOnlyList<long> samples)
    {
        if (samples.Count < 3)
        {
            return LagTrend.Unknown;
        }

        var up = true;
        var down = true;
        for (var i = 1; i < samples.Count; i++)
        {
            up &= samples[i] >= samples[i - 1];
            down &= samples[i] <= samples[i - 1];
        }

        return up && samples[^1] > samples[0] ? LagTrend.Rising
            : down && samples[^1] < samples[0] ? LagTrend.Falling
            : LagTrend.Steady;
    }

    /// <summary>Checks a group name: 1-200 of letters, digits, '.', '_', '-'.</summary>
    public static void CheckName(string group)
    {
        if (!ValidName.IsMatch(group) || group is "." or "..")
        {
            throw new LogException($"invalid group name '{group}': use 1-200 letters, digits, '.', '_' or '-'");
        }
    }

    private string PathOf(string group) => Path.Combine(_directory, group + ".json");

    private static GroupFile? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<GroupFile>(File.ReadAllBytes(path), TopicConfig.Json);
        }
        catch (JsonException e)
        {
            throw new LogException($"group file {path} is damaged: {e.Message}", e);
        }
    }

    private static FileStream AcquireLock(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 200)
            {
                Thread.Sleep(10);
            }
        }
    }

    private sealed class GroupFile
    {
        public string Group { get; set; } = "";

        public long LastCommitMs { get; set; }

        public Dictionary<string, Dictionary<string, PartitionFile>> Topics { get; set; } = [];
    }

    private sealed class PartitionFile
    {
        public long Committed { get; set; }

        public List<long> Samples { get; set; } = [];
    }
}
