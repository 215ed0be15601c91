using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Server.Commands.Bench.Nexmark;

/// <summary>
/// Wraps the <c>nexmark</c> connector so the bench can show how far the generator has got (a reader's offset is its
/// next event id) and the <c>blackhole</c> connector so it can count result rows, without touching the hot path beyond
/// one field write per batch.
/// </summary>
internal sealed class NexmarkProgress
{
    private long _position;
    private readonly List<ISinkConnector> _sinks = [];

    /// <summary>The highest event id any source reader has reached.</summary>
    public long Position => Interlocked.Read(ref _position);

    /// <summary>Rows written to the blackhole sinks created through <see cref="Wrap"/>.</summary>
    public long RowsOut
    {
        get
        {
            lock (_sinks)
            {
                return _sinks.OfType<Connectors.Blackhole.BlackholeSink>().Sum(s => s.Rows);
            }
        }
    }

    /// <summary>Forgets positions and sinks before the next query.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _position, 0);
        lock (_sinks)
        {
            _sinks.Clear();
        }
    }

    /// <summary>Replaces the <c>nexmark</c> and <c>blackhole</c> factories of <paramref name="registry"/> with tracking ones.</summary>
    public ConnectorRegistry Wrap(ConnectorRegistry registry)
    {
        if (registry.TryGet("nexmark", out var source))
        {
            registry.Register(new TrackedFactory(this, source));
        }

        if (registry.TryGet("blackhole", out var sink))
        {
            registry.Register(new TrackedFactory(this, sink));
        }

        return registry;
    }

    private void Advance(long offset)
    {
        var seen = Interlocked.Read(ref _position);
        while (offset > seen)
        {
            var was = Interlocked.CompareExchange(ref _position, offset, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    private sealed class TrackedFactory(NexmarkProgress progress, IConnectorFactory inner) : IConnectorFactory
    {
        public string Name => inner.Name;

        public ISourceConnector CreateSource(ConnectorContext context) => new TrackedSource(progress, inner.CreateSource(context));

        public ISinkConnector CreateSink(ConnectorContext context)
        {
            var sink = inner.CreateSink(context);
            lock (progress._sinks)
            {
                progress._sinks.Add(sink);
            }

            return sink;
        }
    }

    private sealed class TrackedSource(NexmarkProgress progress, ISourceConnector inner) : ISourceConnector
    {
        public int PartitionCount => inner.PartitionCount;

        public bool IsBounded => inner.IsBounded;

        public ISourceReader OpenPartition(int partition, long offset) => new TrackedReader(progress, inner.OpenPartition(partition, offset));
    }

    private sealed class TrackedReader(NexmarkProgress progress, ISourceReader inner) : ISourceReader
    {
        public long Offset => inner.Offset;

        public ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
        {
            var read = inner.ReadAsync(cancellationToken);
            if (read.IsCompletedSuccessfully)
            {
                progress.Advance(inner.Offset);
                return read;
            }

            return Await(read);
        }

        public void Dispose() => inner.Dispose();

        private async ValueTask<ColumnBatch?> Await(ValueTask<ColumnBatch?> read)
        {
            var batch = await read.ConfigureAwait(false);
            progress.Advance(inner.Offset);
            return batch;
        }
    }
}
