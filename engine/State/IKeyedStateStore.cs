namespace Streams.Engine.State;

/// <summary>
/// Per-key operator state (aggregates by group key, join buffers by key) of fixed-size unmanaged keys and values.
/// Variable-length keys are dictionary-encoded or hashed-with-collision-chain by the operator before they get here.
/// Not thread-safe: one operator instance uses it from its own thread.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public interface IKeyedStateStore<TKey, TValue> : ICheckpointableOperator, IDisposable
    where TKey : unmanaged, IEquatable<TKey>
    where TValue : unmanaged
{
    /// <summary>Reads the value of <paramref name="key"/>.</summary>
    bool TryGet(in TKey key, out TValue value);

    /// <summary>Inserts or replaces the value of <paramref name="key"/>.</summary>
    void Put(in TKey key, in TValue value);

    /// <summary>Removes <paramref name="key"/>; false when it was absent.</summary>
    bool Remove(in TKey key);

    /// <summary>Calls <paramref name="visit"/> once per live key (order unspecified); for timers and end-of-input flushes, not the per-event path.</summary>
    void ForEach(Action<TKey, TValue> visit);
}
