using System.Threading.Channels;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Engine.Embedding;

/// <summary>
/// Pushes events of type <typeparamref name="T"/> into an embedded engine. Writes wait when the engine is behind
/// (bounded buffer: backpressure reaches your code). <see cref="Complete"/> ends the input, which flushes open windows.
/// </summary>
public sealed class EventInput<T>
{
    private readonly Channel<T> _channel;

    internal EventInput(StreamEngine engine, EventMapping<T> mapping, int batchSize)
    {
        _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(batchSize * 2) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        Source = new ChannelSource(this, mapping, batchSize, engine.Options.Pool);
        Query = null!;
    }

    /// <summary>The input as a query: start here to filter, key, window and aggregate.</summary>
    public Query<T> Query { get; internal set; }

    internal ISourceConnector Source { get; }

    /// <summary>Writes one event, waiting while the engine's buffer is full.</summary>
    public ValueTask WriteAsync(T item, CancellationToken cancellationToken = default) => _channel.Writer.WriteAsync(item, cancellationToken);

    /// <summary>Writes one event if there is room now.</summary>
    public bool TryWrite(T item) => _channel.Writer.TryWrite(item);

    /// <summary>Writes every event of <paramref name="items"/>, then completes the input.</summary>
    public async Task WriteAllAsync(IAsyncEnumerable<T> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await _channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }

        Complete();
    }

    /// <summary>Ends the input: event time jumps to +infinity and every open window fires.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    private sealed class ChannelSource(EventInput<T> input, EventMapping<T> mapping, int batchSize, BatchPool pool) : ISourceConnector
    {
        public int PartitionCount => 1;

        public bool IsBounded => false;

        public ISourceReader OpenPartition(int partition, long offset) => new Reader(input, mapping, batchSize, pool);
    }

    private sealed class Reader(EventInput<T> input, EventMapping<T> mapping, int batchSize, BatchPool pool) : ISourceReader
    {
        public long Offset { get; private set; }

        public async ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
        {
            var reader = input._channel.Reader;
            if (!reader.TryPeek(out _) && !await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            // Take what is there now (up to a batch) rather than wait to fill: latency stays low when events trickle.
            var batch = pool.Rent(mapping.Schema, batchSize);
            var n = 0;
            while (n < batchSize && reader.TryRead(out var item))
            {
                mapping.Write(item, batch, n++);
            }

            batch.Count = n;
            Offset += n;
            return batch;
        }

        public void Dispose()
        {
        }
    }
}
