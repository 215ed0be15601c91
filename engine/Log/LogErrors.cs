namespace Streams.Engine.Log;

/// <summary>A log operation failed in a way the user can act on (unknown topic, bad name, foreign data directory...).</summary>
public class LogException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Stored bytes do not check out: names topic, partition, file and byte position.</summary>
public sealed class LogCorruptionException(string topic, int partition, string file, long position, string reason)
    : LogException($"corrupt log data in topic '{topic}' partition {partition}, file {file} at byte position {position}: {reason}")
{
    /// <summary>The topic.</summary>
    public string Topic { get; } = topic;

    /// <summary>The partition.</summary>
    public int Partition { get; } = partition;

    /// <summary>The segment file (full path).</summary>
    public string File { get; } = file;

    /// <summary>The byte position of the bad batch in the file.</summary>
    public long Position { get; } = position;
}

/// <summary>A batch is larger than the topic's max.batch.bytes.</summary>
public sealed class RecordTooLargeException(string message) : LogException(message);

/// <summary>An idempotent producer skipped sequence numbers: records in between would be lost.</summary>
public sealed class OutOfOrderSequenceException(string message) : LogException(message);

/// <summary>An idempotent producer with an older epoch than one already seen tried to write.</summary>
public class ProducerFencedException(string message) : LogException(message);

/// <summary>
/// A transactional producer wrote into (or tried to prepare or commit) a transaction the log aborted because it stayed open
/// longer than its transaction timeout; the producer instance is fenced.
/// </summary>
public sealed class TransactionTimedOutException(string message) : ProducerFencedException(message);

/// <summary>A transaction asked for a timeout above the topic's transaction-max-timeout-ms.</summary>
public sealed class InvalidTransactionTimeoutException(string message) : LogException(message);

/// <summary>A transactional producer broke the protocol (data without begin, begin while open, commit with nothing open...).</summary>
public sealed class InvalidTransactionStateException(string message) : LogException(message);
