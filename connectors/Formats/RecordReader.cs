using Microsoft.Win32.SafeHandles;

namespace Streams.Connectors.Formats;

/// <summary>
/// Splits a file into records (lines; for CSV, lines outside quoted fields) from a pooled buffer, tracking the byte offset
/// of the next record (what a checkpoint stores) and its 1-based line number (what error messages name).
/// Records lose their line terminator (<c>\n</c> or <c>\r\n</c>); a UTF-8 byte-order mark at the start is skipped.
/// </summary>
internal sealed class RecordReader : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly bool _quoteAware;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private int _scan;
    private bool _inQuotes;
    private long _bufferOffset;
    private bool _eof;

    public RecordReader(SafeFileHandle file, long offset, long lineNumber, bool quoteAware, int bufferSize = 1 << 20)
    {
        _file = file;
        _quoteAware = quoteAware;
        _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(bufferSize);
        _bufferOffset = offset;
        LineNumber = lineNumber;
        if (offset == 0)
        {
            Fill();
            if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
            {
                _start = _scan = 3;
            }
        }
    }

    /// <summary>The 1-based line number of the next record.</summary>
    public long LineNumber { get; private set; }

    /// <summary>The byte offset of the next record in the file.</summary>
    public long Offset => _bufferOffset + _start;

    /// <summary>Counts the line breaks before <paramref name="offset"/>, giving the line number a resumed read starts at.</summary>
    public static long LineNumberAt(SafeFileHandle file, long offset)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long lines = 1;
            long position = 0;
            while (position < offset)
            {
                var n = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, offset - position)), position);
                if (n == 0)
                {
                    break;
                }

                lines += buffer.AsSpan(0, n).Count((byte)'\n');
                position += n;
            }

            return lines;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The next record and the line it starts on; false at the end of the file.</summary>
    public bool TryRead(out ReadOnlySpan<byte> record, out long line)
    {
        while (true)
        {
            var end = FindEnd();
            if (end >= 0 || (_eof && _start < _end))
            {
                var stop = end >= 0 ? end : _end;
                record = _buffer.AsSpan(_start, stop - _start);
                if (!record.IsEmpty && record[^1] == '\r')
                {
                    record = record[..^1];
                }

                line = LineNumber;
                LineNumber += 1 + (_quoteAware ? record.Count((byte)'\n') : 0);
                _start = _scan = end >= 0 ? end + 1 : _end;
                _inQuotes = false;
                return true;
            }

            if (_eof)
            {
                record = default;
                line = LineNumber;
                return false;
            }

            Fill();
        }
    }

    private int FindEnd()
    {
        if (!_quoteAware)
        {
            var i = _buffer.AsSpan(_scan, _end - _scan).IndexOf((byte)'\n');
            if (i < 0)
            {
                _scan = _end;
                return -1;
            }

            return _scan + i;
        }

        while (_scan < _end)
        {
            var rest = _buffer.AsSpan(_scan, _end - _scan);
            var i = _inQuotes ? rest.IndexOf((byte)'"') : rest.IndexOfAny((byte)'"', (byte)'\n');
            if (i < 0)
            {
                _scan = _end;
                return -1;
            }

            var at = _scan + i;
            _scan = at + 1;
            if (_buffer[at] == '"')
            {
                // A doubled quote inside quotes toggles twice, which leaves the state as it was: correct for RFC 4180.
                _inQuotes = !_inQuotes;
            }
            else
            {
                return at;
            }
        }

        return -1;
    }

    private void Fill()
    {
        if (_start > 0)
        {
            var pending = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            _bufferOffset += _start;
            _scan -= _start;
            _end = pending;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            // One record is longer than the buffer: grow it.
            var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var n = RandomAccess.Read(_file, _buffer.AsSpan(_end), _bufferOffset + _end);
        if (n == 0)
        {
            _eof = true;
        }

        _end += n;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
