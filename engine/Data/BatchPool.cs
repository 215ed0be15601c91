using System.Collections.Concurrent;

namespace Streams.Engine.Data;

/// <summary>
/// Recycles <see cref="ColumnBatch"/>es (with their column arrays) per schema and capacity, so the steady state allocates nothing.
/// It counts batches that are out, which is how tests find leaks: a pipeline that finished has <see cref="Outstanding"/> = 0.
/// </summary>
public sealed class BatchPool
{
    /// <summary>Rows per batch unless a caller asks otherwise: 8K rows keep a few long columns inside L2.</summary>
    public const int DefaultCapacity = 8192;

    private readonly ConcurrentDictionary<(Schema Schema, int Capacity), ConcurrentQueue<ColumnBatch>> _free = new();
    private readonly int _maxFreePerShape;
    private long _outstanding;

    /// <summary>Creates a pool that keeps at most <paramref name="maxFreePerShape"/> idle batches per (schema, capacity).</summary>
    public BatchPool(int maxFreePerShape = 256) => _maxFreePerShape = maxFreePerShape;

    /// <summary>The process-wide pool used when no other is given.</summary>
    public static BatchPool Shared { get; } = new();

    /// <summary>Batches rented and not yet returned.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Rents an empty batch of <paramref name="schema"/>.</summary>
    public ColumnBatch Rent(Schema schema, int capacity = DefaultCapacity)
    {
        var queue = _free.GetOrAdd((schema, capacity), static _ => new ConcurrentQueue<ColumnBatch>());
        if (!queue.TryDequeue(out var batch))
        {
            batch = new ColumnBatch(this, schema, capacity);
        }

        batch.MarkRented();
        Interlocked.Increment(ref _outstanding);
        return batch;
    }

    internal void Return(ColumnBatch batch)
    {
        batch.MarkReturned();
        Interlocked.Decrement(ref _outstanding);
        var queue = _free.GetOrAdd((batch.Schema, batch.Capacity), static _ => new ConcurrentQueue<ColumnBatch>());
        if (queue.Count < _maxFreePerShape)
        {
            queue.Enqueue(batch);
        }
        else
        {
            batch.ReleaseArrays();
        }
    }
}
