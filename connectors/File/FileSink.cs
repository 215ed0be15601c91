using System.Globalization;
using Streams.Connectors.Formats;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Connectors.Files;

/// <summary>
/// A sink writing part files into the folder named by <c>path</c>: <c>part-TTTT-NNNNNN.ndjson</c> (or <c>.csv</c>, <c>.arrow</c>),
/// one sequence per writer task. Two-phase commit: data is written to a hidden <c>.inprogress</c> file;
/// <see cref="ISinkWriter.PreCommit"/> closes it durably as a hidden <c>.pending</c> file tagged with the checkpoint;
/// <see cref="ISinkWriter.Commit"/> renames it to its visible name. A writer never used with checkpoints publishes its file when disposed.
/// After a restore, <see cref="RecoverAfterRestore"/> publishes pending files of completed checkpoints and deletes the rest.
/// Options: <c>path</c>, <c>format</c> (json | csv | arrow), <c>changelog</c> ('true': JSON rows carry <c>"op"</c>), <c>csv.field-delimiter</c>.
/// </summary>
public sealed class FileSink : ISinkConnector
{
    private readonly ConnectorContext _context;

    /// <summary>Resolves the output folder of <paramref name="context"/>; throws <see cref="ConnectorException"/> on bad options.</summary>
    public FileSink(ConnectorContext context)
    {
        _context = context;
        if (!context.Options.TryGetValue("path", out var path) || string.IsNullOrWhiteSpace(path))
        {
            throw new ConnectorException($"table '{context.StreamName}': connector 'file' needs a 'path' option");
        }

        Folder = FilePaths.Absolute(path, context.BaseDirectory);
        FilePaths.CheckAllowed(path, Folder, context.AllowedRoot);
        if (System.IO.File.Exists(Folder))
        {
            throw new ConnectorException($"path '{path}': the file sink writes part files into a folder, but '{Folder}' is a file");
        }

        Format = FileFormats.Parse(context.Options, "");
        Delimiter = FileFormats.CsvDelimiter(context.Options);
        Changelog = context.Options.TryGetValue("changelog", out var c) && bool.TryParse(c, out var b) && b;
        try
        {
            Directory.CreateDirectory(Folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConnectorException($"path '{path}': cannot create folder '{Folder}': {e.Message}", e);
        }
    }

    /// <summary>The folder part files go to.</summary>
    public string Folder { get; }

    /// <summary>The format of the part files.</summary>
    public FileFormat Format { get; }

    internal byte Delimiter { get; }

    internal bool Changelog { get; }

    internal Schema Schema => _context.Schema;

    /// <inheritdoc />
    public ISinkWriter OpenWriter(int task) => new FileSinkWriter(this, task);

    /// <summary>
    /// After restoring checkpoint <paramref name="lastCompletedCheckpoint"/>: publishes pending files of that checkpoint and
    /// earlier (their commit may have been cut off by the crash) and deletes later pending and in-progress files (their rows are replayed).
    /// </summary>
    public void RecoverAfterRestore(long lastCompletedCheckpoint)
    {
        foreach (var file in Directory.EnumerateFiles(Folder, ".part-*"))
        {
            var name = Path.GetFileName(file);
            if (PendingName.TryParse(name, out var visible, out var checkpoint) && checkpoint <= lastCompletedCheckpoint)
            {
                System.IO.File.Move(file, Path.Combine(Folder, visible), overwrite: true);
            }
            else
            {
                System.IO.File.Delete(file);
            }
        }
    }

    internal static class PendingName
    {
        // .part-0000-000001.ndjson.ckpt-7.pending → part-0000-000001.ndjson, checkpoint 7
        public static string Of(string visible, long checkpoint) => $".{visible}.ckpt-{checkpoint.ToString(CultureInfo.InvariantCulture)}.pending";

        public static bool TryParse(string name, out string visible, out long checkpoint)
        {
            visible = "";
            checkpoint = 0;
            if (!name.EndsWith(".pending", StringComparison.Ordinal))
            {
                return false;
            }

            var core = name[1..^".pending".Length];
            var at = core.LastIndexOf(".ckpt-", StringComparison.Ordinal);
            if (at < 0 || !long.TryParse(core.AsSpan(at + 6), NumberStyles.None, CultureInfo.InvariantCulture, out checkpoint))
            {
                return false;
            }

            visible = core[..at];
            return true;
        }
    }
}

/// <summary>Writes one task's part files with two-phase commit.</summary>
internal sealed class FileSinkWriter : ISinkWriter, Streams.Engine.Checkpoints.ITransactionalSinkWriter
{
    private readonly FileSink _sink;
    private readonly int _task;
    private readonly List<(long Checkpoint, string Pending, string Visible)> _pending = [];
    private int _sequence;
    private FileStream? _stream;
    private NdjsonEncoder? _json;
    private CsvEncoder? _csv;
    private Arrow.ArrowStreamEncoder? _arrow;
    private string _visibleName = "";
    private bool _hasRows;
    private bool _transactional;

    public FileSinkWriter(FileSink sink, int task)
    {
        _sink = sink;
        _task = task;
        // Continue the task's numbering after files a previous run left, so no part file is ever overwritten.
        var prefix = $"part-{task:D4}-";
        foreach (var file in Directory.EnumerateFiles(sink.Folder))
        {
            var name = Path.GetFileName(file).TrimStart('.');
            if (name.StartsWith(prefix, StringComparison.Ordinal) &&
                int.TryParse(name.AsSpan(prefix.Length, 6), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                _sequence = Math.Max(_sequence, n + 1);
            }
        }
    }

    private string InProgressPath => Path.Combine(_sink.Folder, "." + _visibleName + ".inprogress");

    public void Write(ColumnBatch batch)
    {
        if (batch.LiveCount() == 0)
        {
            return;
        }

        if (_stream is null)
        {
            Open();
        }

        _hasRows = true;
        if (_json is not null)
        {
            _json.Write(batch);
        }
        else if (_csv is not null)
        {
            _csv.Write(batch);
        }
        else
        {
            _arrow!.Write(batch);
        }
    }

    private void Open()
    {
        _visibleName = $"part-{_task:D4}-{_sequence++:D6}{_sink.Format.Extension()}";
        _stream = new FileStream(InProgressPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        switch (_sink.Format)
        {
            case FileFormat.Csv:
                _csv = new CsvEncoder(_sink.Schema, _stream, _sink.Delimiter, leaveOpen: true);
                break;
            case FileFormat.Arrow:
                _arrow = new Arrow.ArrowStreamEncoder(_sink.Schema, _stream, leaveOpen: true);
                break;
            default:
                _json = new NdjsonEncoder(_sink.Schema, _stream, new NdjsonEncoderOptions { ChangelogOp = _sink.Changelog, DebeziumEnvelope = _sink.Format == FileFormat.DebeziumJson, LeaveOpen = true });
                break;
        }

        _hasRows = false;
    }

    public void Flush()
    {
        _json?.Flush();
        _csv?.Flush();
        _arrow?.Flush();
        _stream?.Flush();
    }

    public void PreCommit(long checkpointId)
    {
        _transactional = true;
        if (_stream is null)
        {
            return;
        }

        var inProgress = InProgressPath;
        Close(durable: true);
        var pending = Path.Combine(_sink.Folder, FileSink.PendingName.Of(_visibleName, checkpointId));
        System.IO.File.Move(inProgress, pending);
        _pending.Add((checkpointId, pending, Path.Combine(_sink.Folder, _visibleName)));
    }

    // The checkpoint layer's recovery call; before any task writes, so the folder-wide cleanup cannot touch live files.
    public void RecoverTransactions(long committedCheckpointId) => _sink.RecoverAfterRestore(committedCheckpointId);

    public void Commit(long checkpointId)
    {
        for (var i = 0; i < _pending.Count; i++)
        {
            var (checkpoint, pending, visible) = _pending[i];
            if (checkpoint > checkpointId)
            {
                continue;
            }

            // Committing again after a restart is harmless: the file is already visible.
            if (System.IO.File.Exists(pending))
            {
                System.IO.File.Move(pending, visible, overwrite: true);
            }

            _pending.RemoveAt(i--);
        }
    }

    private void Close(bool durable)
    {
        _json?.Dispose();
        _csv?.Dispose();
        _arrow?.Dispose();
        _json = null;
        _csv = null;
        _arrow = null;
        if (durable)
        {
            _stream!.Flush(flushToDisk: true);
        }

        _stream!.Dispose();
        _stream = null;
    }

    public void Dispose()
    {
        if (_stream is null)
        {
            return;
        }

        var inProgress = InProgressPath;
        var hadRows = _hasRows;
        Close(durable: !_transactional);
        if (!_transactional && hadRows)
        {
            // Not driven by checkpoints: the output is final once the writer closes.
            System.IO.File.Move(inProgress, Path.Combine(_sink.Folder, _visibleName));
        }
        else if (!hadRows)
        {
            System.IO.File.Delete(inProgress);
        }
    }
}
