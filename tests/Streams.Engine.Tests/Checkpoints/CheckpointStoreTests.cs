using Streams.Engine.Checkpoints;

namespace Streams.Engine.Tests.Checkpoints;

public sealed class CheckpointStoreTests : IDisposable
{
    private const string Plan = "plan-A";
    private readonly TempStateDirectory _dir = new();
    private readonly List<string> _messages = [];

    public void Dispose() => _dir.Dispose();

    private CheckpointStore NewStore(int retain = 3) => new(_dir.Path, retain, _messages.Add);

    /// <summary>Writes a checkpoint with one operator state file holding <paramref name="payload"/>.</summary>
    private static CheckpointManifest WriteCheckpoint(CheckpointStore store, long id, byte[] payload, string fingerprint = Plan)
    {
        store.Begin(id);
        var (stream, relative) = store.CreateStateFile(id, "agg#1");
        using (stream)
        {
            stream.Write(payload);
        }

        var manifest = new CheckpointManifest(
            id, 1_700_000_000_000 + id, fingerprint, IsFinal: false,
            [new SourceOffset("orders", 0, id * 100), new SourceOffset("orders", 1, id * 100 + 7)],
            [new OperatorState("agg#1", [store.Describe(relative)])],
            [new SinkTransaction("out", 0, id)]);
        store.Complete(manifest);
        return manifest;
    }

    private string ManifestPath(CheckpointStore store, long id) => Path.Combine(store.DirectoryOf(id), CheckpointStore.ManifestFileName);

    [Fact]
    public void Loads_the_newest_complete_checkpoint_with_its_offsets_and_state()
    {
        var store = NewStore();
        WriteCheckpoint(store, 1, [1, 2, 3]);
        WriteCheckpoint(store, 2, [4, 5, 6, 7]);

        var loaded = NewStore().LoadLatest(Plan);

        Assert.NotNull(loaded);
        Assert.Equal(2, loaded.Id);
        Assert.Equal(207, loaded.OffsetOf("orders", 1));
        Assert.Equal(0, loaded.OffsetOf("orders", 5));
        var file = Assert.Single(loaded.StateOf("agg#1")!.Files);
        Assert.Equal(4, file.Length);
        Assert.Equal(new byte[] { 4, 5, 6, 7 }, File.ReadAllBytes(store.ToAbsolute(file.Path)));
        Assert.Equal(2, Assert.Single(loaded.Sinks).TransactionId);
        Assert.Empty(_messages);
    }

    [Fact]
    public void Keeps_only_the_last_K_complete_checkpoints()
    {
        var store = NewStore(retain: 2);
        for (var id = 1; id <= 5; id++)
        {
            WriteCheckpoint(store, id, [(byte)id]);
        }

        Assert.Equal([5L, 4L], store.List().Select(l => l.Id));
        Assert.False(Directory.Exists(store.DirectoryOf(3)));
    }

    [Fact]
    public void An_incomplete_checkpoint_without_manifest_is_skipped_for_the_previous_one()
    {
        var store = NewStore();
        WriteCheckpoint(store, 1, [1]);
        store.Begin(2);
        var (stream, _) = store.CreateStateFile(2, "agg#1");
        stream.Dispose();

        var loaded = store.LoadLatest(Plan);

        Assert.Equal(1, loaded!.Id);
        Assert.Contains(_messages, m => m.Contains("checkpoint 2 skipped", StringComparison.Ordinal) && m.Contains("no manifest", StringComparison.Ordinal));
        Assert.Equal(2, store.HighestId());
    }

    [Fact]
    public void A_truncated_manifest_is_skipped_with_a_message_naming_the_file()
    {
        var store = NewStore();
        WriteCheckpoint(store, 1, [1]);
        WriteCheckpoint(store, 2, [2]);
        var path = ManifestPath(store, 2);
        using (var f = new FileStream(path, FileMode.Open))
        {
            f.SetLength(f.Length / 2);
        }

        var loaded = store.LoadLatest(Plan);

        Assert.Equal(1, loaded!.Id);
        var message = Assert.Single(_messages);
        Assert.Contains(path, message, StringComparison.Ordinal);
        Assert.Contains("truncated", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_torn_inside_its_header_is_skipped()
    {
        var store = NewStore();
        WriteCheckpoint(store, 1, [1]);
        WriteCheckpoint(store, 2, [2]);
        var path = ManifestPath(store, 2);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..10]);

        Assert.Equal(1, store.LoadLatest(Plan)!.Id);
        Assert.Contains(path, Assert.Single(_messages), StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_with_a_flipped_byte_fails_its_checksum_and_is_skipped()
    {
        var store = NewStore();
        WriteCheckpoint(store, 1, [1]);
        WriteCheckpoint(store, 2, [2]);
        var path = ManifestPath(store, 2);
        var bytes = File.ReadAllBytes(path);
        // Flip a digit of an offset in the JSON body: still valid JSON, so only the checksum can catch it.
        var at = Array.LastIndexOf(bytes, (byte)'7');
        bytes[at] = (byte)'8';
        File.WriteAllBytes(path, bytes);

        Assert.Equal(1, store.LoadLatest(Plan)!.Id);
        var message = Assert.Single(_messages);
        Assert.Contains(path, message, StringComparison.Ordinal);
        Assert.Contains("checksum mismatch", message, StringComparison.Ordinal);
        Assert.Equal(CheckpointStatus.Corrupt, store.Inspect(2).Status);
    }

    [Fact]
    public void A_state_file_with_a_flipped_bit_is_detected_and_the_previous_checkpoint_used()
    {
        var store = NewStore();
        WriteCheckpoint(store, 1, [1, 1, 1]);
        var second = WriteCheckpoint(store, 2, [9, 9, 9, 9, 9, 9]);
        var statePath = store.ToAbsolute(second.Operators[0].Files[0].Path);
        var bytes = File.ReadAllBytes(statePath);
        bytes[3] ^= 0x10;
        File.WriteAllBytes(statePath, bytes);

        var loaded = store.LoadLatest(Plan);

        Assert.Equal(1, loaded!.Id);
        var message = Assert.Single(_messages);
        Assert.Contains(statePath, message, StringComparison.Ordinal);
        Assert.Contains("checksum mismatch", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_or_missing_state_file_is_detected()
    {
        var store = NewStore();
        WriteCheckpoint(store, 1, [1]);
        var second = WriteCheckpoint(store, 2, [9, 9, 9, 9]);
        var third = WriteCheckpoint(store, 3, [8, 8, 8, 8]);
        var secondPath = store.ToAbsolute(second.Operators[0].Files[0].Path);
        using (var f = new FileStream(secondPath, FileMode.Open))
        {
            f.SetLength(2);
        }

        File.Delete(store.ToAbsolute(third.Operators[0].Files[0].Path));

        Assert.Equal(1, store.LoadLatest(Plan)!.Id);
        Assert.Equal(2, _messages.Count);
        Assert.Contains("missing", _messages[0], StringComparison.Ordinal);
        Assert.Contains(secondPath, _messages[1], StringComparison.Ordinal);
        Assert.Contains("2 bytes but the manifest says 4", _messages[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Every_checkpoint_corrupt_means_a_fresh_start()
    {
        var store = NewStore();
        WriteCheckpoint(store, 1, [1]);
        File.WriteAllText(ManifestPath(store, 1), "garbage");

        Assert.Null(store.LoadLatest(Plan));
        Assert.Single(_messages);
    }

    [Fact]
    public void A_state_directory_of_another_plan_is_refused_with_a_clear_error()
    {
        var store = NewStore();
        WriteCheckpoint(store, 4, [1], fingerprint: PlanFingerprint.Of("SELECT a FROM t"));

        var error = Assert.Throws<PlanMismatchException>(() => store.LoadLatest(PlanFingerprint.Of("SELECT b FROM t")));

        Assert.Contains(_dir.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("different query plan", error.Message, StringComparison.Ordinal);
        Assert.Contains("checkpoint 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_fingerprints_differ_for_different_plans_and_agree_for_equal_ones()
    {
        Assert.Equal(PlanFingerprint.Of("scan(orders)->agg(k)"), PlanFingerprint.Of("scan(orders)->agg(k)"));
        Assert.NotEqual(PlanFingerprint.Of("scan(orders)->agg(k)"), PlanFingerprint.Of("scan(orders)->agg(j)"));
        Assert.Equal(32, PlanFingerprint.Of("x").Length);
    }

    [Fact]
    public void Shared_files_referenced_from_old_manifests_are_deleted_once_no_kept_manifest_needs_them()
    {
        var store = NewStore(retain: 1);
        var shared = Path.Combine(_dir.Path, "state", "op");
        Directory.CreateDirectory(shared);
        CheckpointManifest Write(long id, params string[] files)
        {
            store.Begin(id);
            foreach (var f in files)
            {
                File.WriteAllText(Path.Combine(shared, f), f);
            }

            var m = new CheckpointManifest(id, 0, Plan, false, [], [new OperatorState("op", [.. files.Select(f => store.Describe("state/op/" + f))])], []);
            store.Complete(m);
            return m;
        }

        Write(1, "index-1", "log-1");
        Write(2, "index-1", "log-2");

        Assert.True(File.Exists(Path.Combine(shared, "index-1")));
        Assert.False(File.Exists(Path.Combine(shared, "log-1")));
        Assert.True(File.Exists(Path.Combine(shared, "log-2")));
        Assert.Equal(2, store.LoadLatest(Plan)!.Id);
    }

    [Fact]
    public void Atomic_write_leaves_no_temporary_file_and_survives_a_stale_one()
    {
        var store = NewStore();
        var directory = store.Begin(7);
        File.WriteAllText(Path.Combine(directory, CheckpointStore.ManifestFileName + ".tmp"), "half written by a crashed run");
        store.Complete(new CheckpointManifest(7, 0, Plan, true, [], [], []));

        Assert.False(File.Exists(Path.Combine(directory, CheckpointStore.ManifestFileName + ".tmp")));
        Assert.True(store.LoadLatest(Plan)!.IsFinal);
    }
}
