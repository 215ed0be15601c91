using System.Globalization;
using Streams.Engine.Connectors;
using Streams.Engine.Log;

namespace Streams.Connectors.Log;

/// <summary>
/// The <c>log</c> connector: SQL streams over topics of the durable log.
/// Options: <c>topic</c> (required), <c>data-dir</c> (default <c>./streams-data</c>, relative to the SQL file),
/// source: <c>scan.bounded.mode</c> = <c>unbounded</c> (default: follow the log) or <c>latest-offset</c> (stop at the end seen at open),
/// <c>scan.idle-ms</c> (when &gt; 0 an idle follower returns an empty batch after this long; default 0: the read waits, which
/// is what the runtime's idle-partition detection expects), <c>isolation.level</c> = <c>read_committed</c> (default: only
/// committed transactional data) or <c>read_uncommitted</c>;
/// sink: <c>key.field</c> (column used as record key), <c>partitions</c> (when the sink creates the topic, default 1),
/// <c>fsync</c> (always|never|interval:ms for a created topic), <c>transactional.id</c> (default: the sink table name;
/// each writer task appends <c>#task</c>; two jobs writing one topic need different ids), <c>transaction.timeout.ms</c> (how long a
/// checkpoint's transaction may stay open, default 15 min and at most the topic's transaction-max-timeout-ms; a topic the sink
/// creates gets a maximum of at least this), <c>transaction.timeout.on-recovery</c> = <c>fail</c> (default: a restart whose last
/// checkpoint's output the log aborted on timeout fails with the reason) or <c>accept-loss</c> (it resumes and reports the loss).
/// Values are JSON objects in the shared NDJSON encoding; columns match top-level fields, and <c>_key</c>, <c>_partition</c>,
/// <c>_offset</c>, <c>_timestamp</c> columns read record metadata. A source partition is a topic partition and
/// <see cref="ISourceReader.Offset"/> is the next log offset to read, so a checkpoint stores it and resumes exactly there.
/// </summary>
public sealed class LogConnectorFactory : IConnectorFactory, IDisposable
{
    private readonly Dictionary<string, LogStore> _stores = new(StringComparer.Ordinal);
    private readonly LogStore? _shared;
    private readonly Lock _gate = new();

    /// <summary>Creates the factory; pass <paramref name="store"/> to share an already open data directory (the server does).</summary>
    public LogConnectorFactory(LogStore? store = null) => _shared = store;

    /// <inheritdoc />
    public string Name => "log";

    /// <inheritdoc />
    public ISourceConnector CreateSource(ConnectorContext context)
    {
        var (store, topicName) = Resolve(context);
        if (!store.TopicExists(topicName))
        {
            throw new ConnectorException($"stream '{context.StreamName}': unknown topic '{topicName}' in {store.DataDirectory}");
        }

        var topic = Wrap(() => store.OpenTopic(topicName, writable: false));
        var mode = context.Options.GetValueOrDefault("scan.bounded.mode", "unbounded");
        if (mode is not ("unbounded" or "latest-offset"))
        {
            throw new ConnectorException($"stream '{context.StreamName}': scan.bounded.mode must be 'unbounded' or 'latest-offset', not '{mode}'");
        }

        var idleMs = ParseInt(context, "scan.idle-ms", 0);
        var isolation = context.Options.GetValueOrDefault("isolation.level", "read_committed") switch
        {
            "read_committed" => IsolationLevel.ReadCommitted,
            "read_uncommitted" => IsolationLevel.ReadUncommitted,
            var other => throw new ConnectorException($"stream '{context.StreamName}': isolation.level must be 'read_committed' or 'read_uncommitted', not '{other}'"),
        };
        return new LogSource(topic, context, mode == "latest-offset", idleMs, isolation);
    }

    /// <inheritdoc />
    public ISinkConnector CreateSink(ConnectorContext context)
    {
        var (store, topicName) = Resolve(context);
        var timeoutMs = TransactionalProducer.DefaultTimeoutMs;
        if (context.Options.TryGetValue("transaction.timeout.ms", out var timeoutText) &&
            (!long.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out timeoutMs) || timeoutMs < 1))
        {
            throw new ConnectorException($"stream '{context.StreamName}': option 'transaction.timeout.ms' must be a positive number of milliseconds, not '{timeoutText}'");
        }

        var acceptLoss = context.Options.GetValueOrDefault("transaction.timeout.on-recovery", "fail") switch
        {
            "fail" => false,
            "accept-loss" => true,
            var other => throw new ConnectorException($"stream '{context.StreamName}': transaction.timeout.on-recovery must be 'fail' or 'accept-loss', not '{other}'"),
        };
        var topic = Wrap(() =>
        {
            if (store.TopicExists(topicName))
            {
                return store.OpenTopic(topicName);
            }

            var config = new TopicConfig { Partitions = ParseInt(context, "partitions", 1), TransactionMaxTimeoutMs = Math.Max(timeoutMs, TopicConfig.DefaultTransactionMaxTimeoutMs) };
            if (context.Options.TryGetValue("fsync", out var fsync))
            {
                config = config.WithFsync(fsync);
            }

            return store.CreateTopic(topicName, config);
        });
        if (!topic.IsWritable)
        {
            throw new ConnectorException($"stream '{context.StreamName}': topic '{topicName}' is being written by another process");
        }

        if (timeoutMs > topic.Config.TransactionMaxTimeoutMs)
        {
            throw new ConnectorException($"stream '{context.StreamName}': transaction.timeout.ms {timeoutMs} exceeds topic '{topicName}' transaction-max-timeout-ms {topic.Config.TransactionMaxTimeoutMs}");
        }

        string? keyField = null;
        if (context.Options.TryGetValue("key.field", out var k))
        {
            if (context.Schema.IndexOf(k) < 0)
            {
                throw new ConnectorException($"stream '{context.StreamName}': key.field '{k}' is not a column of {context.Schema}");
            }

            keyField = k;
        }

        var transactionalId = context.Options.GetValueOrDefault("transactional.id", context.StreamName);
        return new LogSink(topic, context.Schema, keyField, new LogSinkTransactions(transactionalId, timeoutMs, acceptLoss, store.Report));
    }

    /// <summary>Closes the data directories the factory opened itself.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var s in _stores.Values)
            {
                s.Dispose();
            }

            _stores.Clear();
        }
    }

    private (LogStore Store, string Topic) Resolve(ConnectorContext context)
    {
        if (!context.Options.TryGetValue("topic", out var topic) || string.IsNullOrWhiteSpace(topic))
        {
            throw new ConnectorException($"stream '{context.StreamName}': the log connector needs a 'topic' option");
        }

        Wrap(() =>
        {
            LogStore.CheckTopicName(topic);
            return 0;
        });
        if (_shared is not null && !context.Options.ContainsKey("data-dir"))
        {
            return (_shared, topic);
        }

        var dir = context.Options.GetValueOrDefault("data-dir", "./streams-data");
        var full = Path.GetFullPath(Path.Combine(context.BaseDirectory, dir));
        if (context.AllowedRoot is { } root && !full.StartsWith(Path.GetFullPath(root), StringComparison.Ordinal))
        {
            throw new ConnectorException($"stream '{context.StreamName}': data-dir {full} is outside the allowed root {root}");
        }

        if (_shared is not null && _shared.DataDirectory == full)
        {
            return (_shared, topic);
        }

        lock (_gate)
        {
            if (!_stores.TryGetValue(full, out var store))
            {
                store = Wrap(() => LogStore.Open(full));
                _stores[full] = store;
            }

            return (store, topic);
        }
    }

    private static int ParseInt(ConnectorContext context, string option, int fallback)
    {
        if (!context.Options.TryGetValue(option, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v
            : throw new ConnectorException($"stream '{context.StreamName}': option '{option}' must be a non-negative integer, not '{text}'");
    }

    private static T Wrap<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (LogException e)
        {
            throw new ConnectorException(e.Message, e);
        }
    }
}
