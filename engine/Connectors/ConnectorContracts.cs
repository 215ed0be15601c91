using Streams.Engine.Data;

namespace Streams.Engine.Connectors;

/// <summary>One record that could not be read or processed, with where it came from and why.</summary>
/// <param name="Stream">The stream (or table) the record belongs to.</param>
/// <param name="Location">Where it is: <c>file:line</c> for files, <c>topic/partition@offset</c> for the log.</param>
/// <param name="Reason">Why it was rejected, in words a user can act on.</param>
/// <param name="Raw">The record's original text, kept so nothing is lost.</param>
public sealed record DeadLetter(string Stream, string Location, string Reason, string Raw);

/// <summary>Receives poison records instead of the pipeline failing or dropping them silently.</summary>
public interface IDeadLetterSink
{
    /// <summary>Stores one rejected record.</summary>
    void Report(DeadLetter letter);
}

/// <summary>Everything a connector is given to build a source or sink for one declared stream.</summary>
/// <param name="StreamName">The stream or table name from CREATE STREAM/TABLE.</param>
/// <param name="Schema">The declared columns (and event-time column).</param>
/// <param name="Options">The WITH (...) options, keys lower-cased.</param>
/// <param name="BaseDirectory">The directory relative paths resolve against (the SQL file's folder).</param>
/// <param name="AllowedRoot">When set, file paths must stay below this directory (queries submitted over HTTP).</param>
/// <param name="DeadLetters">Where poison records go.</param>
/// <param name="Pool">The batch pool to rent from.</param>
public sealed record ConnectorContext(
    string StreamName,
    Schema Schema,
    IReadOnlyDictionary<string, string> Options,
    string BaseDirectory,
    string? AllowedRoot,
    IDeadLetterSink DeadLetters,
    BatchPool Pool);

/// <summary>A readable source made of one or more partitions, each read in order.</summary>
public interface ISourceConnector
{
    /// <summary>How many partitions the source has (a file glob: one per file).</summary>
    int PartitionCount { get; }

    /// <summary>True when the input ends (files); false for sources that wait for more (log follow, CDC).</summary>
    bool IsBounded { get; }

    /// <summary>Opens partition <paramref name="partition"/>, positioned at <paramref name="offset"/> (0 = beginning; a value from <see cref="ISourceReader.Offset"/> to resume).</summary>
    ISourceReader OpenPartition(int partition, long offset);
}

/// <summary>Reads one partition of a source as batches.</summary>
public interface ISourceReader : IDisposable
{
    /// <summary>The position after the last row returned: what a checkpoint stores to resume exactly there.</summary>
    long Offset { get; }

    /// <summary>The next batch (owned by the caller), or null once a bounded input has ended.</summary>
    ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>A writable destination.</summary>
public interface ISinkConnector
{
    /// <summary>Opens a writer for one parallel task.</summary>
    ISinkWriter OpenWriter(int task);
}

/// <summary>
/// Writes batches to a destination. Transactional sinks stage writes on <see cref="PreCommit"/> and publish them on
/// <see cref="Commit"/> once the checkpoint that covers them is durable; others flush and ignore the two-phase calls.
/// </summary>
public interface ISinkWriter : IDisposable
{
    /// <summary>Writes the live rows of <paramref name="batch"/>; the caller keeps ownership.</summary>
    void Write(ColumnBatch batch);

    /// <summary>Pushes buffered output to the destination (end of input or a checkpoint).</summary>
    void Flush();

    /// <summary>Stages everything written since the last checkpoint under <paramref name="checkpointId"/>, invisible to readers.</summary>
    void PreCommit(long checkpointId) => Flush();

    /// <summary>Publishes what was staged for <paramref name="checkpointId"/> and earlier.</summary>
    void Commit(long checkpointId)
    {
    }
}

/// <summary>Builds sources and sinks for one connector name (the <c>connector='...'</c> option).</summary>
public interface IConnectorFactory
{
    /// <summary>The connector name users write in WITH (connector='name').</summary>
    string Name { get; }

    /// <summary>Creates a source for <paramref name="context"/>; throws <see cref="ConnectorException"/> on bad options.</summary>
    ISourceConnector CreateSource(ConnectorContext context);

    /// <summary>Creates a sink for <paramref name="context"/>; throws <see cref="ConnectorException"/> on bad options.</summary>
    ISinkConnector CreateSink(ConnectorContext context);
}

/// <summary>A connector could not be created or read: bad option, missing file, path outside the allowed root.</summary>
public sealed class ConnectorException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The connectors a host makes available. The query layer looks connectors up here by name, so it never references
/// the connectors assembly: the host (server, tests, an embedding app) registers what it ships.
/// </summary>
public sealed class ConnectorRegistry
{
    private readonly Dictionary<string, IConnectorFactory> _factories = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds or replaces the factory for its name.</summary>
    public ConnectorRegistry Register(IConnectorFactory factory)
    {
        _factories[factory.Name] = factory;
        return this;
    }

    /// <summary>The names registered, sorted.</summary>
    public IEnumerable<string> Names => _factories.Keys.Order(StringComparer.OrdinalIgnoreCase);

    /// <summary>Finds the factory for <paramref name="name"/>.</summary>
    public bool TryGet(string name, out IConnectorFactory factory) => _factories.TryGetValue(name, out factory!);
}
