using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streams.Engine.Log;

/// <summary>When appends become durable.</summary>
public enum FsyncMode
{
    /// <summary>Acknowledge only after fdatasync; concurrent appends share one sync (group commit).</summary>
    Always,
    /// <summary>Sync in the background every <see cref="TopicConfig.FsyncIntervalMs"/> milliseconds.</summary>
    Interval,
    /// <summary>Leave it to the OS (synced on close and segment roll).</summary>
    Never,
}

/// <summary>A topic's settings, stored as topic.json in its directory.</summary>
public sealed record TopicConfig
{
    /// <summary>How many partitions.</summary>
    public int Partitions { get; init; } = 1;

    /// <summary>The durability dial.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<FsyncMode>))]
    public FsyncMode Fsync { get; init; } = FsyncMode.Always;

    /// <summary>Sync period for <see cref="FsyncMode.Interval"/>.</summary>
    public int FsyncIntervalMs { get; init; } = 100;

    /// <summary>A segment rolls when it would grow past this many bytes.</summary>
    public long SegmentBytes { get; init; } = 128L << 20;

    /// <summary>A segment rolls when its first batch is older than this (0 = never by time).</summary>
    public long SegmentMs { get; init; } = 7L * 24 * 3600 * 1000;

    /// <summary>Delete sealed segments whose newest record is older than this (-1 = keep forever).</summary>
    public long RetentionMs { get; init; } = 7L * 24 * 3600 * 1000;

    /// <summary>Delete oldest sealed segments while a partition is larger than this (-1 = no limit).</summary>
    public long RetentionBytes { get; init; } = -1;

    /// <summary>When true, retention deletes even segments that live consumer groups have not read.</summary>
    public bool RetentionForce { get; init; }

    /// <summary>A group counts as live while it committed within this window; only live groups hold retention back.</summary>
    public long GroupLiveMs { get; init; } = 7L * 24 * 3600 * 1000;

    /// <summary>How often a writer applies retention in the background (0 = only when asked, e.g. <c>streams topic retention</c>).</summary>
    public long RetentionCheckMs { get; init; } = 5 * 60 * 1000;

    /// <summary>The largest batch (and so the largest record) the topic accepts.</summary>
    public int MaxBatchBytes { get; init; } = RecordBatchBuilder.DefaultMaxBytes;

    /// <summary>Bytes between sparse offset/time index entries.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary>
    /// The longest a transaction may stay open (Kafka's transaction.max.timeout.ms, 15 min): a producer asks for its own
    /// timeout up to this, one that asks for none gets this. Past its timeout a transaction counts as aborted (read_committed
    /// readers move past it, retention is no longer held) and the log writes its abort marker and fences its producer.
    /// </summary>
    public long TransactionMaxTimeoutMs { get; init; } = DefaultTransactionMaxTimeoutMs;

    /// <summary>How often a writer writes the abort markers of expired transactions in the background (0 = only on open and on the next write to one).</summary>
    public long TransactionCheckMs { get; init; } = 10_000;

    /// <summary>The default of <see cref="TransactionMaxTimeoutMs"/>: 15 minutes.</summary>
    public const long DefaultTransactionMaxTimeoutMs = 15 * 60 * 1000;

    /// <summary>Parses a <c>fsync=</c> value: always, never, interval:&lt;ms&gt;.</summary>
    public TopicConfig WithFsync(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "always")
        {
            return this with { Fsync = FsyncMode.Always };
        }

        if (t == "never")
        {
            return this with { Fsync = FsyncMode.Never };
        }

        if (t.StartsWith("interval:", StringComparison.Ordinal) &&
            int.TryParse(t.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0)
        {
            return this with { Fsync = FsyncMode.Interval, FsyncIntervalMs = ms };
        }

        throw new LogException($"invalid fsync setting '{text}': use always, never or interval:<milliseconds>");
    }

    /// <summary>The fsync setting as written on the command line.</summary>
    public string FsyncText => Fsync switch
    {
        FsyncMode.Always => "always",
        FsyncMode.Never => "never",
        _ => $"interval:{FsyncIntervalMs}",
    };

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower };

    internal void Validate()
    {
        if (Partitions < 1)
        {
            throw new LogException($"a topic needs at least 1 partition (got {Partitions})");
        }

        if (SegmentBytes < 4096 || MaxBatchBytes < 1024 || MaxBatchBytes > int.MaxValue / 2 || IndexIntervalBytes < 1)
        {
            throw new LogException("segment-bytes must be at least 4096, max-batch-bytes between 1 KiB and 1 GiB");
        }

        if (TransactionMaxTimeoutMs < 1 || TransactionCheckMs < 0)
        {
            throw new LogException($"transaction-max-timeout-ms must be at least 1 (got {TransactionMaxTimeoutMs}) and transaction-check-ms not negative");
        }
    }
}
