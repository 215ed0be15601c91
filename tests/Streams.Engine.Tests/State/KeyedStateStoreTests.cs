using Streams.Engine.Checkpoints;
using Streams.Engine.State;
using Streams.Engine.Tests.Checkpoints;

namespace Streams.Engine.Tests.State;

public sealed class KeyedStateStoreTests : IDisposable
{
    private readonly TempStateDirectory _dir = new();
    private readonly List<string> _messages = [];

    public void Dispose() => _dir.Dispose();

    private CheckpointStore NewStore(int retain = 3) => new(_dir.Path, retain, _messages.Add);

    private static CheckpointManifest Complete(CheckpointStore store, long id, params (string Id, ICheckpointableOperator Op)[] operators)
    {
        store.Begin(id);
        var states = operators.Select(o => store.WriteOperatorState(id, o.Id, o.Op)).ToList();
        var manifest = new CheckpointManifest(id, 0, "plan", false, [], states, []);
        store.Complete(manifest);
        return manifest;
    }

    [Fact]
    public void In_memory_state_round_trips_through_a_checkpoint()
    {
        var store = NewStore();
        using var state = new InMemoryKeyedStateStore<long, double>();
        for (long k = 0; k < 10_000; k++)
        {
            state.Put(k, k * 0.5);
        }

        state.GetOrAdd(3, out var existed) += 100;
        Assert.True(existed);
        state.Remove(9_999);
        Complete(store, 1, ("sum", state));
        state.Put(1, -1); // after the checkpoint: must not be restored

        using var restored = new InMemoryKeyedStateStore<long, double>();
        Assert.True(store.RestoreOperatorState(store.LoadLatest("plan")!, "sum", restored));

        Assert.Equal(9_999, restored.Count);
        Assert.True(restored.TryGet(1, out var one));
        Assert.Equal(0.5, one);
        Assert.True(restored.TryGet(3, out var three));
        Assert.Equal(101.5, three);
        Assert.False(restored.TryGet(9_999, out _));
    }

    [Fact]
    public void A_truncated_snapshot_stream_fails_with_the_file_named()
    {
        var path = Path.Combine(_dir.Path, "snap");
        using (var s = File.Create(path))
        {
            using var state = new InMemoryKeyedStateStore<int, int>();
            for (var k = 0; k < 100; k++)
            {
                state.Put(k, k);
            }

            state.Snapshot(new StateSnapshotWriter(s, _dir.Path));
            s.SetLength(s.Length - 5);
        }

        using var reader = File.OpenRead(path);
        using var restored = new InMemoryKeyedStateStore<int, int>();
        var error = Assert.Throws<InvalidDataException>(() => restored.Restore(new StateSnapshotReader(reader, path, _dir.Path)));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("ends early", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_read_as_another_layout_is_refused()
    {
        using var buffer = new MemoryStream();
        using (var state = new InMemoryKeyedStateStore<long, long>())
        {
            state.Put(1, 2);
            state.Snapshot(new StateSnapshotWriter(buffer, _dir.Path));
        }

        buffer.Position = 0;
        using var restored = new InMemoryKeyedStateStore<int, int>();
        var error = Assert.Throws<InvalidDataException>(() => restored.Restore(new StateSnapshotReader(buffer, "snap", _dir.Path)));
        Assert.Contains("layout changed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Faster_state_larger_than_its_memory_survives_a_checkpoint_and_reopen()
    {
        const long keys = 2_000_000;
        var store = NewStore();
        // 8 MiB of log memory against ~48 MiB of records: most state lives on disk.
        var options = new FasterStateOptions(MemoryBytes: 8L << 20, IndexBuckets: 1L << 18, PageBytes: 1L << 20);
        CheckpointManifest first;
        using (var state = new FasterKeyedStateStore<long, long>(store.OperatorDirectory("agg"), options))
        {
            for (long k = 0; k < keys; k++)
            {
                state.Put(k, k * 3);
            }

            first = Complete(store, 1, ("agg", state));
            for (long k = 0; k < keys; k += 2)
            {
                state.Put(k, -k); // after checkpoint 1
            }

            Assert.True(state.TryGet(0, out var cold));
            Assert.Equal(0, cold);
            Assert.True(state.TryGet(1, out var one));
            Assert.Equal(3, one);
            Assert.True(state.Remove(5));
            Assert.False(state.Remove(5));
            Complete(store, 2, ("agg", state));
            state.Put(7, 7_000_000); // after checkpoint 2: lost in the "crash"
        }

        var latest = store.LoadLatest("plan")!;
        Assert.Equal(2, latest.Id);
        Assert.True(latest.StateOf("agg")!.Files.Count > 1);

        using (var restored = new FasterKeyedStateStore<long, long>(store.OperatorDirectory("agg"), options))
        {
            Assert.True(store.RestoreOperatorState(latest, "agg", restored));
            for (long k = 0; k < keys; k += 9_973)
            {
                Assert.True(restored.TryGet(k, out var v) == (k != 5), $"key {k}");
                if (k != 5)
                {
                    Assert.Equal(k % 2 == 0 ? -k : k * 3, v);
                }
            }

            Assert.False(restored.TryGet(5, out _));
            Assert.True(restored.TryGet(7, out var seven));
            Assert.Equal(21, seven);
            Assert.True(restored.TryGet(keys - 1, out var last));
            Assert.Equal((keys - 1) * 3, last);
        }

        // Checkpoint 1 is still retained and restorable: the older state, before the even keys changed.
        using (var older = new FasterKeyedStateStore<long, long>(store.OperatorDirectory("agg"), options))
        {
            Assert.True(store.RestoreOperatorState(first, "agg", older));
            Assert.True(older.TryGet(4, out var four));
            Assert.Equal(12, four);
            Assert.True(older.TryGet(5, out var five));
            Assert.Equal(15, five);
        }
    }

    [Fact]
    public void A_damaged_faster_checkpoint_file_makes_recovery_fall_back_to_the_previous_checkpoint()
    {
        var store = NewStore();
        var options = new FasterStateOptions(MemoryBytes: 4L << 20, IndexBuckets: 1L << 14, PageBytes: 1L << 18);
        using (var state = new FasterKeyedStateStore<int, long>(store.OperatorDirectory("join"), options))
        {
            for (var k = 0; k < 50_000; k++)
            {
                state.Put(k, k);
            }

            Complete(store, 1, ("join", state));
            state.Put(1, 100);
            var second = Complete(store, 2, ("join", state));
            var attached = second.StateOf("join")!.Files[^1];
            var path = store.ToAbsolute(attached.Path);
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0xFF;
            File.WriteAllBytes(path, bytes);
        }

        var latest = store.LoadLatest("plan")!;
        Assert.Equal(1, latest.Id);
        Assert.Contains(_messages, m => m.Contains("checkpoint 2 skipped", StringComparison.Ordinal) && m.Contains("checksum mismatch", StringComparison.Ordinal));
        using var restored = new FasterKeyedStateStore<int, long>(store.OperatorDirectory("join"), options);
        store.RestoreOperatorState(latest, "join", restored);
        Assert.True(restored.TryGet(1, out var one));
        Assert.Equal(1, one);
        Assert.True(restored.TryGet(49_999, out var last));
        Assert.Equal(49_999, last);
    }

    [Fact]
    public void Faster_state_without_a_restore_starts_empty_even_over_an_old_directory()
    {
        var store = NewStore();
        var dir = store.OperatorDirectory("x");
        var options = new FasterStateOptions(MemoryBytes: 4L << 20, IndexBuckets: 1L << 12, PageBytes: 1L << 18);
        using (var state = new FasterKeyedStateStore<int, int>(dir, options))
        {
            state.Put(1, 1);
            Complete(store, 1, ("x", state));
        }

        using var fresh = new FasterKeyedStateStore<int, int>(dir, options);
        Assert.False(fresh.TryGet(1, out _));
        var seen = new List<int>();
        fresh.Put(2, 20);
        fresh.ForEach((k, v) => seen.Add(k * 1000 + v));
        Assert.Equal([2020], seen);
    }
}
