using System.Globalization;
using Streams.Engine.State;

namespace Streams.Engine.Checkpoints;

/// <summary>How a checkpoint directory looked when the store listed it.</summary>
public enum CheckpointStatus
{
    /// <summary>The manifest and every state file verify: recovery can use it.</summary>
    Complete,

    /// <summary>No manifest: the job stopped before every participant acknowledged.</summary>
    Incomplete,

    /// <summary>The manifest or a state file is torn or damaged.</summary>
    Corrupt,
}

/// <summary>An operator snapshot taken into memory at a barrier, waiting to be written by <see cref="CheckpointStore.WriteCapturedState"/>.</summary>
/// <param name="CheckpointId">The checkpoint.</param>
/// <param name="OperatorId">The operator.</param>
/// <param name="Snapshot">The snapshot stream's bytes.</param>
/// <param name="AttachedFiles">Files the operator's stores wrote themselves, absolute paths.</param>
public sealed record CapturedState(long CheckpointId, string OperatorId, MemoryStream Snapshot, IReadOnlyList<string> AttachedFiles);

/// <summary>One checkpoint directory as listed by <see cref="CheckpointStore.List"/>.</summary>
/// <param name="Id">The checkpoint id (from the directory name).</param>
/// <param name="Status">Whether it can be recovered from.</param>
/// <param name="Manifest">The manifest when it could be read (complete checkpoints, and corrupt ones whose state files are damaged).</param>
/// <param name="Problem">Why it is incomplete or corrupt, naming the file.</param>
public sealed record CheckpointListing(long Id, CheckpointStatus Status, CheckpointManifest? Manifest, string? Problem);

/// <summary>
/// The checkpoints of one job in its state directory. Layout: <c>checkpoints/chk-000000000042/</c> holds operator
/// snapshot files and, written last and atomically, <c>_manifest</c>; files of stores that checkpoint in place
/// (FASTER) live elsewhere under the state directory and are referenced from the manifest by relative path.
/// </summary>
public sealed class CheckpointStore
{
    /// <summary>The manifest's file name inside a checkpoint directory.</summary>
    public const string ManifestFileName = "_manifest";

    private const string DirectoryPrefix = "chk-";

    private readonly Action<string> _log;

    /// <summary>Opens (creating when missing) the checkpoint store under <paramref name="stateDirectory"/>.</summary>
    /// <param name="stateDirectory">The job's state directory.</param>
    /// <param name="retain">How many complete checkpoints to keep; older ones are deleted after each new one completes.</param>
    /// <param name="log">Where warnings go (skipped corrupt checkpoints); standard error when null.</param>
    public CheckpointStore(string stateDirectory, int retain = 3, Action<string>? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retain, 1);
        StateDirectory = Path.GetFullPath(stateDirectory);
        Retain = retain;
        _log = log ?? (message => Console.Error.WriteLine(message));
        Directory.CreateDirectory(CheckpointsDirectory);
    }

    /// <summary>The job's state directory (absolute).</summary>
    public string StateDirectory { get; }

    /// <summary>How many complete checkpoints are kept.</summary>
    public int Retain { get; }

    /// <summary>The folder holding one sub-folder per checkpoint.</summary>
    public string CheckpointsDirectory => Path.Combine(StateDirectory, "checkpoints");

    /// <summary>The folder of checkpoint <paramref name="id"/>.</summary>
    public string DirectoryOf(long id) =>
        Path.Combine(CheckpointsDirectory, DirectoryPrefix + id.ToString("D12", CultureInfo.InvariantCulture));

    /// <summary>The highest checkpoint id that has a directory (complete or not), or 0: new ids must be above it.</summary>
    public long HighestId()
    {
        long highest = 0;
        foreach (var id in ExistingIds())
        {
            highest = Math.Max(highest, id);
        }

        return highest;
    }

    /// <summary>Creates the (empty) directory of checkpoint <paramref name="id"/>, clearing leftovers of an earlier attempt.</summary>
    public string Begin(long id)
    {
        var directory = DirectoryOf(id);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>A new snapshot file for <paramref name="operatorId"/> in checkpoint <paramref name="id"/>, and its path relative to the state directory.</summary>
    public (FileStream Stream, string RelativePath) CreateStateFile(long id, string operatorId)
    {
        var name = "op-" + SafeName(operatorId) + ".state";
        var path = Path.Combine(DirectoryOf(id), name);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        return (stream, ToRelative(path));
    }

    /// <summary>The folder where operator <paramref name="operatorId"/>'s stores keep files that outlive one checkpoint (FASTER logs).</summary>
    public string OperatorDirectory(string operatorId) => Path.Combine(StateDirectory, "state", SafeName(operatorId));

    /// <summary>
    /// Snapshots <paramref name="operator"/> into checkpoint <paramref name="id"/>: its snapshot stream becomes a state
    /// file, made durable and checksummed together with the files its stores attached. The result goes in the manifest.
    /// </summary>
    public OperatorState WriteOperatorState(long id, string operatorId, ICheckpointableOperator @operator)
    {
        // Straight to the file: no in-memory copy when the caller writes on its own thread anyway.
        var (stream, relative) = CreateStateFile(id, operatorId);
        StateSnapshotWriter writer;
        using (stream)
        {
            var operatorDirectory = OperatorDirectory(operatorId);
            Directory.CreateDirectory(operatorDirectory);
            writer = new StateSnapshotWriter(stream, operatorDirectory);
            @operator.Snapshot(writer);
            stream.Flush(flushToDisk: true);
        }

        return Describe(operatorId, relative, writer.AttachedFiles);
    }

    /// <summary>
    /// The copy-on-barrier half of <see cref="WriteOperatorState"/>: snapshots <paramref name="operator"/> into memory on the
    /// calling (operator) thread, so the operator may go on changing its state while <see cref="WriteCapturedState"/>
    /// writes, syncs and checksums the copy on another thread. Files the operator's stores write themselves (FASTER
    /// checkpoints) are still written here, during the snapshot.
    /// </summary>
    public CapturedState CaptureOperatorState(long id, string operatorId, ICheckpointableOperator @operator)
    {
        var operatorDirectory = OperatorDirectory(operatorId);
        Directory.CreateDirectory(operatorDirectory);
        var buffer = new MemoryStream();
        var writer = new StateSnapshotWriter(buffer, operatorDirectory);
        @operator.Snapshot(writer);
        return new CapturedState(id, operatorId, buffer, [.. writer.AttachedFiles]);
    }

    /// <summary>Writes a <see cref="CaptureOperatorState"/> copy as the operator's state file of its checkpoint, durably, and describes it for the manifest.</summary>
    public OperatorState WriteCapturedState(CapturedState captured)
    {
        ArgumentNullException.ThrowIfNull(captured);
        var (stream, relative) = CreateStateFile(captured.CheckpointId, captured.OperatorId);
        using (stream)
        {
            captured.Snapshot.WriteTo(stream);
            stream.Flush(flushToDisk: true);
        }

        return Describe(captured.OperatorId, relative, captured.AttachedFiles);
    }

    private OperatorState Describe(string operatorId, string stateFile, IReadOnlyList<string> attachedFiles)
    {
        var files = new List<StateFile>(1 + attachedFiles.Count) { Describe(stateFile) };
        foreach (var attached in attachedFiles)
        {
            files.Add(Describe(ToRelative(attached)));
        }

        return new OperatorState(operatorId, files);
    }

    /// <summary>
    /// Snapshots an operator that processed end of input: the file lives with the operator's store files (not in a
    /// checkpoint folder) because every later checkpoint references it, and goes when no retained manifest does.
    /// </summary>
    public OperatorState WriteFinishedOperatorState(string operatorId, ICheckpointableOperator @operator)
    {
        var operatorDirectory = OperatorDirectory(operatorId);
        Directory.CreateDirectory(operatorDirectory);
        var path = Path.Combine(operatorDirectory, "finished-" + Guid.NewGuid().ToString("N") + ".state");
        StateSnapshotWriter writer;
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16))
        {
            writer = new StateSnapshotWriter(stream, operatorDirectory);
            @operator.Snapshot(writer);
            stream.Flush(flushToDisk: true);
        }

        DurableFile.SyncDirectory(operatorDirectory);
        var files = new List<StateFile>(1 + writer.AttachedFiles.Count) { Describe(ToRelative(path)) };
        foreach (var attached in writer.AttachedFiles)
        {
            files.Add(Describe(ToRelative(attached)));
        }

        return new OperatorState(operatorId, files);
    }

    /// <summary>Restores <paramref name="operator"/> from its state in <paramref name="manifest"/>; false (state untouched) when it had none.</summary>
    public bool RestoreOperatorState(CheckpointManifest manifest, string operatorId, ICheckpointableOperator @operator)
    {
        var state = manifest.StateOf(operatorId);
        if (state is null || state.Files.Count == 0)
        {
            return false;
        }

        var path = ToAbsolute(state.Files[0].Path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        @operator.Restore(new StateSnapshotReader(stream, path, OperatorDirectory(operatorId)));
        return true;
    }

    /// <summary>Checksums a file (already flushed to disk) that belongs to a checkpoint, for the manifest.</summary>
    public StateFile Describe(string relativePath)
    {
        var (checksum, length) = FileChecksum.OfFile(ToAbsolute(relativePath));
        return new StateFile(relativePath, length, checksum);
    }

    /// <summary>Makes <paramref name="manifest"/> durable (so the checkpoint is complete), then deletes checkpoints beyond the retained ones.</summary>
    public void Complete(CheckpointManifest manifest)
    {
        var directory = DirectoryOf(manifest.Id);
        Directory.CreateDirectory(directory);
        // State files must be on disk before the manifest that vouches for them.
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            if (!file.EndsWith(".tmp", StringComparison.Ordinal))
            {
                DurableFile.SyncFile(file);
            }
        }

        DurableFile.SyncDirectory(directory);
        DurableFile.SyncDirectory(CheckpointsDirectory);
        DurableFile.WriteAtomically(Path.Combine(directory, ManifestFileName), ManifestCodec.Encode(manifest));
        Prune(manifest.Id);
    }

    /// <summary>
    /// The newest checkpoint whose manifest and state files all verify, or null when there is none. Damaged or
    /// half-written ones are skipped with a message naming the file. Throws <see cref="PlanMismatchException"/> when the
    /// newest usable checkpoint belongs to a different plan.
    /// </summary>
    public CheckpointManifest? LoadLatest(string planFingerprint)
    {
        foreach (var id in ExistingIds().OrderDescending())
        {
            var listing = Inspect(id);
            if (listing.Status == CheckpointStatus.Complete)
            {
                var manifest = listing.Manifest!;
                if (!string.Equals(manifest.PlanFingerprint, planFingerprint, StringComparison.Ordinal))
                {
                    throw new PlanMismatchException(StateDirectory, id, planFingerprint, manifest.PlanFingerprint);
                }

                return manifest;
            }

            _log($"checkpoint {id} skipped, falling back to an earlier one: {listing.Problem}");
        }

        return null;
    }

    /// <summary>Every checkpoint directory, newest first, verified.</summary>
    public IReadOnlyList<CheckpointListing> List() => [.. ExistingIds().OrderDescending().Select(Inspect)];

    /// <summary>Reads and fully verifies checkpoint <paramref name="id"/>.</summary>
    public CheckpointListing Inspect(long id)
    {
        var manifestPath = Path.Combine(DirectoryOf(id), ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            return new CheckpointListing(id, CheckpointStatus.Incomplete, null, $"no manifest at {manifestPath} (not every operator acknowledged before the job stopped)");
        }

        CheckpointManifest manifest;
        try
        {
            manifest = ManifestCodec.Decode(File.ReadAllBytes(manifestPath), manifestPath);
        }
        catch (CorruptCheckpointException e)
        {
            return new CheckpointListing(id, CheckpointStatus.Corrupt, null, e.Message);
        }

        if (manifest.Id != id)
        {
            return new CheckpointListing(id, CheckpointStatus.Corrupt, manifest, $"corrupt checkpoint file {manifestPath}: it describes checkpoint {manifest.Id}, not {id}");
        }

        var problem = VerifyFiles(manifest);
        return problem is null
            ? new CheckpointListing(id, CheckpointStatus.Complete, manifest, null)
            : new CheckpointListing(id, CheckpointStatus.Corrupt, manifest, problem);
    }

    /// <summary>The absolute path of a manifest-relative path.</summary>
    public string ToAbsolute(string relativePath) => Path.Combine(StateDirectory, relativePath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The manifest form (relative to the state directory, '/' separators) of an absolute path inside it.</summary>
    public string ToRelative(string absolutePath)
    {
        var relative = Path.GetRelativePath(StateDirectory, absolutePath);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new ArgumentException($"{absolutePath} is outside the state directory {StateDirectory}", nameof(absolutePath));
        }

        return relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    private string? VerifyFiles(CheckpointManifest manifest)
    {
        foreach (var op in manifest.Operators)
        {
            foreach (var file in op.Files)
            {
                var path = ToAbsolute(file.Path);
                if (!File.Exists(path))
                {
                    return $"state file {path} of operator {op.OperatorId} is missing";
                }

                var (checksum, length) = FileChecksum.OfFile(path);
                if (length != file.Length)
                {
                    return $"corrupt checkpoint file {path}: {length} bytes but the manifest says {file.Length} (truncated or appended to)";
                }

                if (!string.Equals(checksum, file.Checksum, StringComparison.Ordinal))
                {
                    return $"corrupt checkpoint file {path}: checksum mismatch (manifest xxh64={file.Checksum}, content xxh64={checksum})";
                }
            }
        }

        return null;
    }

    private void Prune(long newestComplete)
    {
        var kept = new List<CheckpointManifest>();
        var dropped = new List<(long Id, CheckpointManifest? Manifest)>();
        foreach (var id in ExistingIds().OrderDescending())
        {
            if (id > newestComplete)
            {
                continue; // A checkpoint started after this one may still be in flight.
            }

            CheckpointManifest? manifest = null;
            var manifestPath = Path.Combine(DirectoryOf(id), ManifestFileName);
            if (File.Exists(manifestPath))
            {
                try
                {
                    manifest = ManifestCodec.Decode(File.ReadAllBytes(manifestPath), manifestPath);
                }
                catch (CorruptCheckpointException)
                {
                    manifest = null;
                }
            }

            if (manifest is not null && kept.Count < Retain)
            {
                kept.Add(manifest);
            }
            else
            {
                dropped.Add((id, manifest));
            }
        }

        var stillReferenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in kept)
        {
            foreach (var op in m.Operators)
            {
                foreach (var f in op.Files)
                {
                    stillReferenced.Add(f.Path);
                }
            }
        }

        foreach (var (id, manifest) in dropped)
        {
            // Files outside the checkpoint's own folder (in-place store checkpoints) go once no kept manifest needs them.
            foreach (var file in manifest?.Operators.SelectMany(o => o.Files) ?? [])
            {
                if (!stillReferenced.Contains(file.Path))
                {
                    TryDelete(ToAbsolute(file.Path));
                }
            }

            var directory = DirectoryOf(id);
            // The manifest goes first so a crash mid-delete leaves an "incomplete" folder, never a complete-looking one with files missing.
            TryDelete(Path.Combine(directory, ManifestFileName));
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException e)
            {
                _log($"could not delete old checkpoint {directory}: {e.Message}");
            }
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException e)
        {
            _log($"could not delete {path}: {e.Message}");
        }
    }

    private IEnumerable<long> ExistingIds()
    {
        foreach (var directory in Directory.EnumerateDirectories(CheckpointsDirectory, DirectoryPrefix + "*"))
        {
            var name = Path.GetFileName(directory);
            if (long.TryParse(name.AsSpan(DirectoryPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                yield return id;
            }
        }
    }

    private static string SafeName(string operatorId)
    {
        var chars = operatorId.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] is not ('-' or '_' or '.'))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }
}
