using Streams.Connectors.Formats;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Connectors.Files;

/// <summary>
/// Writes query results as NDJSON onto a stream the caller owns (the CLI passes stdout), per the output contract.
/// With <paramref name="changelog"/> every row carries <c>"op"</c>.
/// </summary>
/// <param name="schema">The result columns.</param>
/// <param name="output">Where rows go; left open on dispose.</param>
/// <param name="changelog">Adds the <c>"op"</c> field (+I/-U/+U/-D).</param>
public sealed class NdjsonStreamSinkWriter(Schema schema, Stream output, bool changelog = false) : ISinkWriter
{
    private readonly NdjsonEncoder _encoder = new(schema, output, new NdjsonEncoderOptions { ChangelogOp = changelog, LeaveOpen = true });

    /// <summary>Rows written.</summary>
    public long RowsWritten => _encoder.RowsWritten;

    /// <summary>DOUBLE values written as null because they were NaN or infinite.</summary>
    public long NonFiniteDoubles => _encoder.NonFiniteDoubles;

    /// <inheritdoc />
    public void Write(ColumnBatch batch) => _encoder.Write(batch);

    /// <inheritdoc />
    public void Flush() => _encoder.Flush();

    /// <inheritdoc />
    public void Dispose() => _encoder.Dispose();
}

/// <summary>
/// <c>connector='print'</c> (as in Flink): a sink writing NDJSON rows to standard output, or to the stream given to the constructor.
/// Option <c>changelog='true'</c> adds <c>"op"</c>.
/// </summary>
public sealed class PrintConnectorFactory(Func<Stream>? output = null) : IConnectorFactory
{
    /// <inheritdoc />
    public string Name => "print";

    /// <inheritdoc />
    public ISourceConnector CreateSource(ConnectorContext context) =>
        throw new ConnectorException($"stream '{context.StreamName}': connector 'print' can only be written to");

    /// <inheritdoc />
    public ISinkConnector CreateSink(ConnectorContext context) => new PrintSink(context, output ?? Console.OpenStandardOutput);

    private sealed class PrintSink(ConnectorContext context, Func<Stream> output) : ISinkConnector
    {
        private readonly Lazy<Stream> _stream = new(() => Stream.Synchronized(output()));

        public ISinkWriter OpenWriter(int task) => new NdjsonStreamSinkWriter(
            context.Schema,
            _stream.Value,
            context.Options.TryGetValue("changelog", out var c) && bool.TryParse(c, out var b) && b);
    }
}
