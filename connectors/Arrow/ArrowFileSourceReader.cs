using Apache.Arrow;
using Apache.Arrow.Ipc;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Connectors.Arrow;

/// <summary>
/// Reads one Arrow IPC file (file form with the <c>ARROW1</c> magic, or stream form) into batches.
/// <see cref="Offset"/> counts the rows returned, so a resumed reader skips that many rows.
/// </summary>
internal sealed class ArrowFileSourceReader : ISourceReader
{
    private readonly ConnectorContext _context;
    private readonly FileStream _file;
    private readonly ArrowStreamReader _reader;
    private readonly string _path;
    private int[]? _map;
    private RecordBatch? _current;
    private int _position;
    private long _skip;

    public ArrowFileSourceReader(string path, ConnectorContext context, long offset)
    {
        _context = context;
        _path = path;
        _skip = offset;
        Offset = offset;
        try
        {
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            Span<byte> magic = stackalloc byte[6];
            var isFile = _file.Read(magic) == 6 && magic.SequenceEqual("ARROW1"u8);
            _file.Position = 0;
            _reader = isFile ? new ArrowFileReader(_file, leaveOpen: true) : new ArrowStreamReader(_file, leaveOpen: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConnectorException($"cannot open '{path}': {e.Message}", e);
        }
    }

    public long Offset { get; private set; }

    public ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
    {
        var batch = _context.Pool.Rent(_context.Schema);
        try
        {
            while (!batch.IsFull)
            {
                if (_current is null || _position >= _current.Length)
                {
                    _current?.Dispose();
                    _current = _reader.ReadNextRecordBatch();
                    _position = 0;
                    if (_current is null)
                    {
                        break;
                    }

                    _map ??= ArrowConversion.MapColumns(_context.Schema, _current.Schema, _path);
                }

                if (_skip > 0)
                {
                    var skipped = (int)Math.Min(_skip, _current.Length - _position);
                    _position += skipped;
                    _skip -= skipped;
                    continue;
                }

                var count = Math.Min(_current.Length - _position, batch.Capacity - batch.Count);
                ArrowConversion.CopyRows(_current, _map!, _position, count, batch);
                _position += count;
                Offset += count;
            }
        }
        catch (ConnectorException)
        {
            batch.Dispose();
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or OverflowException or InvalidOperationException)
        {
            batch.Dispose();
            throw new ConnectorException($"{_path}: cannot read Arrow data at row {Offset}: {e.Message}", e);
        }

        if (batch.Count == 0)
        {
            batch.Dispose();
            return ValueTask.FromResult<ColumnBatch?>(null);
        }

        return ValueTask.FromResult<ColumnBatch?>(batch);
    }

    public void Dispose()
    {
        _current?.Dispose();
        _reader.Dispose();
        _file.Dispose();
    }
}
