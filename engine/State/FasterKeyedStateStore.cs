using System.Runtime.CompilerServices;
using FASTER.core;

namespace Streams.Engine.State;

/// <summary>Sizing of a <see cref="FasterKeyedStateStore{TKey, TValue}"/>.</summary>
/// <param name="MemoryBytes">In-memory part of the hybrid log; older records spill to disk, so state may exceed it.</param>
/// <param name="IndexBuckets">Hash index size in 64-byte buckets (a power of two; about one bucket per 4–8 keys is good).</param>
/// <param name="PageBytes">Log page size (a power of two).</param>
public sealed record FasterStateOptions(long MemoryBytes = 64L << 20, long IndexBuckets = 1L << 20, long PageBytes = 1L << 22);

/// <summary>
/// Keyed state in Microsoft FASTER (a hybrid log: hot records in memory, cold ones on disk), for state larger than
/// memory. A checkpoint is FASTER's own: an index checkpoint the first time, then fold-over hybrid-log checkpoints
/// (the log up to the tail is flushed and becomes read-only); the snapshot stream records the tokens and the
/// checkpoint's metadata/index files are attached to the manifest. The log segments themselves are append-only and
/// shared between checkpoints.
/// </summary>
public sealed class FasterKeyedStateStore<TKey, TValue> : IKeyedStateStore<TKey, TValue>
    where TKey : unmanaged, IEquatable<TKey>
    where TValue : unmanaged
{
    private const int SnapshotVersion = 1;
    private readonly FasterStateOptions _options;
    private string _directory;
    private FasterKV<TKey, TValue>? _store;
    private IDevice? _device;
    private ClientSession<TKey, TValue, TValue, TValue, Empty, SimpleFunctions<TKey, TValue>>? _session;
    private Guid _indexToken;

    /// <summary>Creates a store that keeps its files in <paramref name="directory"/> (wiped on first use unless restored).</summary>
    public FasterKeyedStateStore(string directory, FasterStateOptions? options = null)
    {
        _directory = Path.GetFullPath(directory);
        _options = options ?? new FasterStateOptions();
    }

    private ClientSession<TKey, TValue, TValue, TValue, Empty, SimpleFunctions<TKey, TValue>> Session => _session ?? OpenFresh();

    /// <inheritdoc/>
    public bool TryGet(in TKey key, out TValue value)
    {
        var session = Session;
        var k = key;
        TValue output = default;
        var status = session.Read(ref k, ref output);
        if (status.IsPending)
        {
            return CompletePendingRead(session, out value);
        }

        value = output;
        return status.Found;
    }

    /// <inheritdoc/>
    public void Put(in TKey key, in TValue value)
    {
        var k = key;
        var v = value;
        var status = Session.Upsert(ref k, ref v);
        if (status.IsPending)
        {
            Session.CompletePending(wait: true);
        }
    }

    /// <inheritdoc/>
    public bool Remove(in TKey key)
    {
        var k = key;
        var session = Session;
        // FASTER's delete appends a tombstone without reporting whether the key was live, so look first.
        if (!TryGet(k, out _))
        {
            return false;
        }

        var status = session.Delete(ref k);
        if (status.IsPending)
        {
            session.CompletePending(wait: true);
        }

        return true;
    }

    /// <inheritdoc/>
    public void ForEach(Action<TKey, TValue> visit)
    {
        using var iterator = Session.Iterate();
        while (iterator.GetNext(out _))
        {
            visit(iterator.GetKey(), iterator.GetValue());
        }
    }

    /// <inheritdoc/>
    public void Snapshot(IStateSnapshotWriter writer)
    {
        var session = Session;
        var store = _store!;
        session.CompletePending(wait: true);
        if (_indexToken == Guid.Empty)
        {
            if (!store.TryInitiateFullCheckpoint(out var fullToken, CheckpointType.FoldOver))
            {
                ThrowCheckpointBusy();
            }

            store.CompleteCheckpointAsync().AsTask().GetAwaiter().GetResult();
            _indexToken = fullToken;
            WriteTokens(writer, fullToken, fullToken);
            return;
        }

        if (!store.TryInitiateHybridLogCheckpoint(out var logToken, CheckpointType.FoldOver))
        {
            ThrowCheckpointBusy();
        }

        store.CompleteCheckpointAsync().AsTask().GetAwaiter().GetResult();
        WriteTokens(writer, _indexToken, logToken);
    }

    /// <inheritdoc/>
    public void Restore(IStateSnapshotReader reader)
    {
        var version = reader.ReadInt32();
        if (version != SnapshotVersion)
        {
            throw new InvalidDataException($"FASTER keyed state snapshot version {version} is not supported (expected {SnapshotVersion})");
        }

        var relative = reader.ReadString() ?? throw new InvalidDataException("FASTER keyed state snapshot has no directory");
        var indexToken = Guid.Parse(reader.ReadString()!);
        var logToken = Guid.Parse(reader.ReadString()!);
        Close();
        _directory = Path.GetFullPath(Path.Combine(reader.OperatorDirectory, relative));
        Open(recover: true);
        _store!.Recover(indexToken, logToken);
        _indexToken = indexToken;
        _session = _store.For(new SimpleFunctions<TKey, TValue>()).NewSession<SimpleFunctions<TKey, TValue>>();
    }

    /// <inheritdoc/>
    public void Dispose() => Close();

    private void WriteTokens(IStateSnapshotWriter writer, Guid indexToken, Guid logToken)
    {
        writer.WriteInt32(SnapshotVersion);
        writer.WriteString(Path.GetRelativePath(writer.OperatorDirectory, _directory));
        writer.WriteString(indexToken.ToString());
        writer.WriteString(logToken.ToString());
        // The checkpoint's own files (index, log metadata) are immutable once written: checksummed into the manifest.
        foreach (var folder in new[] { Path.Combine(CheckpointDirectory, "index-checkpoints", indexToken.ToString()), Path.Combine(CheckpointDirectory, "cpr-checkpoints", logToken.ToString()) })
        {
            if (Directory.Exists(folder))
            {
                foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    writer.AttachFile(file);
                }
            }
        }
    }

    private string CheckpointDirectory => Path.Combine(_directory, "checkpoints");

    private ClientSession<TKey, TValue, TValue, TValue, Empty, SimpleFunctions<TKey, TValue>> OpenFresh()
    {
        // No restore came first: whatever an earlier, unrecovered run left here is garbage.
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        Open(recover: false);
        _session = _store!.For(new SimpleFunctions<TKey, TValue>()).NewSession<SimpleFunctions<TKey, TValue>>();
        return _session;
    }

    private void Open(bool recover)
    {
        Directory.CreateDirectory(_directory);
        _device = Devices.CreateLogDevice(Path.Combine(_directory, "hlog"), preallocateFile: false, deleteOnClose: false, recoverDevice: recover);
        var settings = new FasterKVSettings<TKey, TValue>
        {
            IndexSize = _options.IndexBuckets * 64,
            LogDevice = _device,
            MemorySize = _options.MemoryBytes,
            PageSize = _options.PageBytes,
            SegmentSize = 1L << 30,
            CheckpointDir = CheckpointDirectory,
            RemoveOutdatedCheckpoints = false,
            // One operator thread owns the store: FASTER's record locking would only cost time.
            ConcurrencyControlMode = ConcurrencyControlMode.None,
        };
        _store = new FasterKV<TKey, TValue>(settings);
    }

    private void Close()
    {
        _session?.Dispose();
        _session = null;
        _store?.Dispose();
        _store = null;
        _device?.Dispose();
        _device = null;
    }

    private static bool CompletePendingRead(ClientSession<TKey, TValue, TValue, TValue, Empty, SimpleFunctions<TKey, TValue>> session, out TValue value)
    {
        session.CompletePendingWithOutputs(out var outputs, wait: true);
        using (outputs)
        {
            if (outputs.Next())
            {
                ref var completed = ref outputs.Current;
                value = completed.Output;
                return completed.Status.Found;
            }
        }

        value = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowCheckpointBusy() =>
        throw new InvalidOperationException("a FASTER checkpoint is already in progress for this keyed state store");
}
