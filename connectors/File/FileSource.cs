using System.Text;
using Microsoft.Win32.SafeHandles;
using Streams.Connectors.Formats;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Connectors.Files;

/// <summary>
/// A bounded source over files: one partition per file, in file-name order. For JSON and CSV a reader's
/// <see cref="ISourceReader.Offset"/> is the byte offset of the next unread record, so a checkpoint resumes exactly there.
/// Malformed records go to the context's dead-letter sink with <c>file:line</c> and the reason; the rest is read.
/// </summary>
public sealed class FileSource : ISourceConnector
{
    private readonly ConnectorContext _context;
    private readonly byte _delimiter;

    /// <summary>Resolves the files of <paramref name="context"/>'s <c>path</c> option; throws <see cref="ConnectorException"/> naming the path when it cannot.</summary>
    public FileSource(ConnectorContext context)
    {
        _context = context;
        if (!context.Options.TryGetValue("path", out var path) || string.IsNullOrWhiteSpace(path))
        {
            throw new ConnectorException($"stream '{context.StreamName}': connector 'file' needs a 'path' option");
        }

        Format = FileFormats.Parse(context.Options, path);
        _delimiter = FileFormats.CsvDelimiter(context.Options);
        Files = FilePaths.Expand(path, context.BaseDirectory, context.AllowedRoot);
    }

    /// <summary>The files read, one per partition, sorted by name.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The data format.</summary>
    public FileFormat Format { get; }

    /// <inheritdoc />
    public int PartitionCount => Files.Count;

    /// <inheritdoc />
    public bool IsBounded => true;

    /// <inheritdoc />
    public ISourceReader OpenPartition(int partition, long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var path = Files[partition];
        if (Format == FileFormat.Arrow)
        {
            return new Arrow.ArrowFileSourceReader(path, _context, offset);
        }

        SafeFileHandle handle;
        try
        {
            handle = System.IO.File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConnectorException($"cannot open '{path}': {e.Message}", e);
        }

        return new TextFileReader(handle, FilePaths.Display(path, _context.BaseDirectory), _context, Format, _delimiter, offset);
    }
}

/// <summary>Reads one NDJSON, Debezium JSON or CSV file into batches.</summary>
internal sealed class TextFileReader : ISourceReader
{
    private readonly SafeFileHandle _handle;
    private readonly string _display;
    private readonly ConnectorContext _context;
    private readonly NdjsonDecoder? _json;
    private readonly CsvDecoder? _csv;
    private readonly DebeziumJsonDecoder? _debezium;
    private readonly int _rowsPerRecord = 1;
    private readonly RecordReader _records;
    private bool _done;

    public TextFileReader(SafeFileHandle handle, string display, ConnectorContext context, FileFormat format, byte delimiter, long offset)
    {
        _handle = handle;
        _display = display;
        _context = context;
        if (format == FileFormat.Csv)
        {
            _csv = new CsvDecoder(context.Schema, delimiter);
            using (var header = new RecordReader(handle, 0, 1, quoteAware: true, bufferSize: 64 * 1024))
            {
                if (!header.TryRead(out var record, out _))
                {
                    // An empty CSV file has no header and no rows.
                    _done = true;
                }
                else if (!_csv.TryReadHeader(record, out var error))
                {
                    handle.Dispose();
                    throw new ConnectorException($"{display}:1: {error}");
                }

                offset = Math.Max(offset, header.Offset);
            }
        }
        else if (format == FileFormat.DebeziumJson)
        {
            _debezium = new DebeziumJsonDecoder(context.Schema);
            _rowsPerRecord = DebeziumJsonDecoder.MaxRowsPerEvent;
        }
        else
        {
            _json = new NdjsonDecoder(context.Schema);
        }

        var line = offset == 0 ? 1 : RecordReader.LineNumberAt(handle, offset);
        _records = new RecordReader(handle, offset, line, quoteAware: format == FileFormat.Csv);
        Offset = _records.Offset;
    }

    /// <summary>Rows rejected so far.</summary>
    public long Rejected { get; private set; }

    public long Offset { get; private set; }

    public ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_done)
        {
            return ValueTask.FromResult<ColumnBatch?>(null);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var batch = _context.Pool.Rent(_context.Schema);
        while (batch.Count + _rowsPerRecord <= batch.Capacity && _records.TryRead(out var record, out var line))
        {
            if (record.IsWhiteSpace())
            {
                continue;
            }

            string? error;
            var ok = _json is not null ? _json.TryDecode(record, batch, out error)
                : _debezium is not null ? _debezium.TryDecode(record, batch, out error)
                : _csv!.TryDecode(record, batch, out error);
            if (!ok)
            {
                Reject(record, line, error!);
            }
        }

        Offset = _records.Offset;
        if (batch.Count == 0)
        {
            batch.Dispose();
            _done = true;
            return ValueTask.FromResult<ColumnBatch?>(null);
        }

        return ValueTask.FromResult<ColumnBatch?>(batch);
    }

    private void Reject(ReadOnlySpan<byte> record, long line, string reason)
    {
        Rejected++;
        _context.DeadLetters.Report(new DeadLetter(_context.StreamName, $"{_display}:{line}", reason, Encoding.UTF8.GetString(record)));
    }

    public void Dispose()
    {
        _records.Dispose();
        _handle.Dispose();
    }
}

internal static class ByteSpanExtensions
{
    public static bool IsWhiteSpace(this ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept(" \t\r"u8) < 0;
}
