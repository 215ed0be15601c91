using System.Text.Json;

namespace Streams.Engine.Log;

/// <summary>
/// A topic: N partitions under <c>topics/NAME/</c>. The first process to open it holds its writer lock and may append;
/// others get read-only partitions that follow the files' tails.
/// </summary>
public sealed class LogTopic : IDisposable
{
    private readonly FileStream? _writerLock;
    private readonly PartitionLog[] _partitions;
    private readonly Timer? _retention;
    private readonly Timer? _transactionTimeouts;
    private int _roundRobin = -1;

    internal LogTopic(string name, string directory, TopicConfig config, bool writable, Action<string> report, TimeProvider clock, ConsumerGroups? groups = null)
    {
        Name = name;
        Directory = directory;
        Config = config;
        if (writable)
        {
            try
            {
                _writerLock = new FileStream(Path.Combine(directory, "writer.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                // Another process writes this topic: fall back to reading (and following) it.
                _writerLock = null;
            }
        }

        _partitions = new PartitionLog[config.Partitions];
        try
        {
            for (var p = 0; p < _partitions.Length; p++)
            {
                _partitions[p] = new PartitionLog(name, p, Path.Combine(directory, p.ToString(System.Globalization.CultureInfo.InvariantCulture)), config, IsWritable, report, clock);
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        if (IsWritable && groups is not null && config.RetentionCheckMs > 0)
        {
            _retention = new Timer(_ =>
            {
                try
                {
                    ApplyRetention(groups);
                }
                catch (Exception e) when (e is IOException or LogException or ObjectDisposedException)
                {
                    report($"topic '{name}': background retention failed: {e.Message}");
                }
            }, null, config.RetentionCheckMs, config.RetentionCheckMs);
        }

        if (IsWritable && config.TransactionCheckMs > 0)
        {
            _transactionTimeouts = new Timer(_ =>
            {
                try
                {
                    AbortExpiredTransactions();
                }
                catch (Exception e) when (e is IOException or LogException or ObjectDisposedException)
                {
                    report($"topic '{name}': aborting expired transactions failed: {e.Message}");
                }
            }, null, config.TransactionCheckMs, config.TransactionCheckMs);
        }
    }

    /// <summary>Writes the abort markers of transactions past their timeout on every partition (writers only); returns how many.</summary>
    public int AbortExpiredTransactions() => _partitions.Sum(p => p.AbortExpiredTransactions());

    /// <summary>The topic name.</summary>
    public string Name { get; }

    /// <summary>The topic's directory.</summary>
    public string Directory { get; }

    /// <summary>The topic's settings.</summary>
    public TopicConfig Config { get; }

    /// <summary>True when this process holds the writer lock.</summary>
    public bool IsWritable => _writerLock is not null;

    /// <summary>The partitions, by number.</summary>
    public IReadOnlyList<PartitionLog> Partitions => _partitions;

    /// <summary>The partition a key belongs to (Kafka-compatible murmur2; stable forever for a partition count).</summary>
    public int PartitionFor(ReadOnlySpan<byte> key) => KeyPartitioner.PartitionFor(key, _partitions.Length);

    /// <summary>The partition for the next unkeyed record (round robin).</summary>
    public int NextUnkeyedPartition() => (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)_partitions.Length);

    /// <summary>Syncs every partition.</summary>
    public void Flush()
    {
        foreach (var p in _partitions)
        {
            p?.Flush();
        }
    }

    /// <summary>The last retention pass's outcome per partition (what was held back and by whom), if any ran.</summary>
    public IReadOnlyDictionary<int, RetentionResult> LastRetention()
    {
        var path = Path.Combine(Directory, "retention.json");
        if (!File.Exists(path))
        {
            return new Dictionary<int, RetentionResult>();
        }

        return JsonSerializer.Deserialize<Dictionary<int, RetentionResult>>(File.ReadAllBytes(path), TopicConfig.Json) ?? [];
    }

    /// <summary>Runs retention on every partition, holding back segments live groups have not read, and records the outcome.</summary>
    public IReadOnlyDictionary<int, RetentionResult> ApplyRetention(ConsumerGroups groups, long? nowMs = null)
    {
        if (!IsWritable)
        {
            throw new LogException($"topic '{Name}' is open read-only (another process writes it); retention runs in the writer");
        }

        var now = nowMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var results = new Dictionary<int, RetentionResult>();
        foreach (var p in _partitions)
        {
            results[p.Partition] = p.ApplyRetention(now, groups.LiveGroups(Name, p.Partition, now, Config.GroupLiveMs));
        }

        NativeFile.WriteAtomically(Path.Combine(Directory, "retention.json"), JsonSerializer.SerializeToUtf8Bytes(results, TopicConfig.Json));
        return results;
    }

    /// <summary>Closes the partitions and releases the writer lock.</summary>
    public void Dispose()
    {
        _retention?.Dispose();
        _transactionTimeouts?.Dispose();
        foreach (var p in _partitions)
        {
            p?.Dispose();
        }

        _writerLock?.Dispose();
    }
}
