using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Connectors.Blackhole;

/// <summary><c>connector='blackhole'</c> (as in Flink): a sink that discards rows and counts them, for benchmarks.</summary>
public sealed class BlackholeConnectorFactory : IConnectorFactory
{
    /// <inheritdoc />
    public string Name => "blackhole";

    /// <inheritdoc />
    public ISourceConnector CreateSource(ConnectorContext context) =>
        throw new ConnectorException($"stream '{context.StreamName}': connector 'blackhole' can only be written to");

    /// <inheritdoc />
    public ISinkConnector CreateSink(ConnectorContext context) => new BlackholeSink();
}

/// <summary>Discards rows, counting the live ones and the batches over all writers.</summary>
public sealed class BlackholeSink : ISinkConnector
{
    private long _rows;
    private long _batches;

    /// <summary>Live rows written to all writers.</summary>
    public long Rows => Interlocked.Read(ref _rows);

    /// <summary>Batches written to all writers.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <inheritdoc />
    public ISinkWriter OpenWriter(int task) => new Writer(this);

    private sealed class Writer(BlackholeSink sink) : ISinkWriter
    {
        private long _rows;
        private long _batches;

        public void Write(ColumnBatch batch)
        {
            _rows += batch.LiveCount();
            _batches++;
        }

        public void Flush()
        {
            Interlocked.Add(ref sink._rows, _rows);
            Interlocked.Add(ref sink._batches, _batches);
            _rows = 0;
            _batches = 0;
        }

        public void Dispose() => Flush();
    }
}
