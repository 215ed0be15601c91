using System.Runtime.InteropServices;

namespace Streams.Engine.State;

/// <summary>
/// Keyed state in a managed hash table: the fast path for state that fits in memory. Snapshots write the keys and
/// values as two columnar blocks.
/// </summary>
public sealed class InMemoryKeyedStateStore<TKey, TValue> : IKeyedStateStore<TKey, TValue>
    where TKey : unmanaged, IEquatable<TKey>
    where TValue : unmanaged
{
    private const int SnapshotVersion = 1;
    private Dictionary<TKey, TValue> _entries;

    /// <summary>Creates an empty store sized for <paramref name="capacity"/> keys.</summary>
    public InMemoryKeyedStateStore(int capacity = 0) => _entries = new Dictionary<TKey, TValue>(capacity);

    /// <summary>The number of keys.</summary>
    public int Count => _entries.Count;

    /// <inheritdoc/>
    public bool TryGet(in TKey key, out TValue value) => _entries.TryGetValue(key, out value);

    /// <inheritdoc/>
    public void Put(in TKey key, in TValue value) => _entries[key] = value;

    /// <summary>A reference to the value of <paramref name="key"/>, added as default when absent: read-modify-write with one lookup.</summary>
    public ref TValue GetOrAdd(in TKey key, out bool existed) => ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, key, out existed);

    /// <inheritdoc/>
    public bool Remove(in TKey key) => _entries.Remove(key);

    /// <inheritdoc/>
    public void ForEach(Action<TKey, TValue> visit)
    {
        foreach (var (key, value) in _entries)
        {
            visit(key, value);
        }
    }

    /// <inheritdoc/>
    public void Snapshot(IStateSnapshotWriter writer)
    {
        var keys = new TKey[_entries.Count];
        var values = new TValue[_entries.Count];
        var i = 0;
        foreach (var (key, value) in _entries)
        {
            keys[i] = key;
            values[i] = value;
            i++;
        }

        writer.WriteInt32(SnapshotVersion);
        writer.WriteValues<TKey>(keys);
        writer.WriteValues<TValue>(values);
    }

    /// <inheritdoc/>
    public void Restore(IStateSnapshotReader reader)
    {
        var version = reader.ReadInt32();
        if (version != SnapshotVersion)
        {
            throw new InvalidDataException($"in-memory keyed state snapshot version {version} is not supported (expected {SnapshotVersion})");
        }

        var keys = reader.ReadValues<TKey>();
        var values = reader.ReadValues<TValue>();
        if (keys.Length != values.Length)
        {
            throw new InvalidDataException($"in-memory keyed state snapshot has {keys.Length} keys but {values.Length} values");
        }

        var entries = new Dictionary<TKey, TValue>(keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            entries.Add(keys[i], values[i]);
        }

        _entries = entries;
    }

    /// <inheritdoc/>
    public void Dispose() => _entries = [];
}
