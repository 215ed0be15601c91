using System.Globalization;
using Streams.Connectors.Formats;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Connectors.Nexmark;

/// <summary>
/// <c>connector='nexmark'</c>: a Nexmark table generated in process. Options: <c>table</c> (bid | auction | person, default bid),
/// <c>events</c> (total events over all tables, default 10,000,000; 0 = unbounded; alias <c>events.num</c>), <c>seed</c>,
/// <c>rate</c> (events per second of event time, default 10,000; alias <c>first-event.rate</c>), <c>max-out-of-order</c>
/// (milliseconds of bounded disorder, default 0), <c>base-time</c> (ISO-8601 or epoch millis of event 0), <c>partitions</c> (default 1).
/// The declared columns must be columns of the table (any subset, any order). A reader's offset is the next event id.
/// </summary>
public sealed class NexmarkConnectorFactory : IConnectorFactory
{
    /// <inheritdoc />
    public string Name => "nexmark";

    /// <inheritdoc />
    public ISourceConnector CreateSource(ConnectorContext context)
    {
        var o = context.Options;
        var table = Get(o, "table") is { } t
            ? t.Trim().ToLowerInvariant() switch
            {
                "bid" or "bids" => NexmarkTable.Bid,
                "auction" or "auctions" => NexmarkTable.Auction,
                "person" or "persons" or "people" => NexmarkTable.Person,
                _ => throw new ConnectorException($"nexmark: unknown table '{t}' (expected 'bid', 'auction' or 'person')"),
            }
            : NexmarkTable.Bid;
        var defaults = new NexmarkOptions();
        var options = defaults with
        {
            Events = Long(o, defaults.Events, "events", "events.num"),
            Seed = Long(o, defaults.Seed, "seed"),
            Rate = Double(o, defaults.Rate, "rate", "first-event.rate"),
            MaxOutOfOrderMillis = Long(o, defaults.MaxOutOfOrderMillis, "max-out-of-order"),
            BaseTime = Get(o, "base-time") is { } b ? Time(b) : defaults.BaseTime,
        };
        var partitions = (int)Long(o, 1, "partitions");
        if (partitions is < 1 or > 1024)
        {
            throw new ConnectorException($"nexmark: partitions must be between 1 and 1024, not {partitions}");
        }

        NexmarkGenerator generator;
        try
        {
            generator = NexmarkGenerator.For(options);
        }
        catch (ArgumentException e)
        {
            throw new ConnectorException(e.Message, e);
        }

        NexmarkGenerator.MapColumns(table, context.Schema);
        return new NexmarkSource(generator, table, partitions, context.Schema, context.Pool);
    }

    /// <inheritdoc />
    public ISinkConnector CreateSink(ConnectorContext context) =>
        throw new ConnectorException($"table '{context.StreamName}': connector 'nexmark' can only be read");

    private static string? Get(IReadOnlyDictionary<string, string> options, params string[] keys)
    {
        foreach (var k in keys)
        {
            if (options.TryGetValue(k, out var v))
            {
                return v;
            }
        }

        return null;
    }

    private static long Long(IReadOnlyDictionary<string, string> options, long fallback, params string[] keys) =>
        Get(options, keys) is not { } v ? fallback
        : long.TryParse(v.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
        : throw new ConnectorException($"nexmark: option '{keys[0]}' must be an integer, not '{v}'");

    private static double Double(IReadOnlyDictionary<string, string> options, double fallback, params string[] keys) =>
        Get(options, keys) is not { } v ? fallback
        : double.TryParse(v.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n
        : throw new ConnectorException($"nexmark: option '{keys[0]}' must be a number, not '{v}'");

    private static long Time(string value) =>
        TextValues.TryTimestamp(System.Text.Encoding.UTF8.GetBytes(value), out var millis) ? millis
        : throw new ConnectorException($"nexmark: option 'base-time' must be an ISO-8601 timestamp or epoch milliseconds, not '{value}'");
}

/// <summary>A Nexmark table as a source: partition p generates the groups of 50 events numbered p modulo the partition count.</summary>
public sealed class NexmarkSource : ISourceConnector
{
    private readonly NexmarkGenerator _generator;
    private readonly NexmarkTable _table;
    private readonly Schema _schema;
    private readonly BatchPool _pool;

    /// <summary>Creates a source of <paramref name="table"/> rows shaped as <paramref name="schema"/>.</summary>
    public NexmarkSource(NexmarkGenerator generator, NexmarkTable table, int partitions, Schema schema, BatchPool pool)
    {
        _generator = generator;
        _table = table;
        PartitionCount = partitions;
        _schema = schema;
        _pool = pool;
    }

    /// <inheritdoc />
    public int PartitionCount { get; }

    /// <inheritdoc />
    public bool IsBounded => _generator.Options.Events > 0;

    /// <inheritdoc />
    public ISourceReader OpenPartition(int partition, long offset) => new Reader(this, partition, offset);

    private sealed class Reader(NexmarkSource source, int partition, long offset) : ISourceReader
    {
        private long _cursor = offset;

        public long Offset => _cursor;

        public ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
        {
            var batch = source._pool.Rent(source._schema);
            if (source._generator.Fill(source._table, batch, ref _cursor, partition, source.PartitionCount) == 0)
            {
                batch.Dispose();
                return ValueTask.FromResult<ColumnBatch?>(null);
            }

            return ValueTask.FromResult<ColumnBatch?>(batch);
        }

        public void Dispose()
        {
        }
    }
}
