using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Streams.Engine.Log;

/// <summary>Visits one batch found while scanning a segment; return false to stop.</summary>
internal delegate bool BatchVisitor(long position, ReadOnlySpan<byte> batch);

/// <summary>
/// One segment file (<c>{base offset:D20}.log</c>) with its sparse offset index (<c>.index</c>: relative offset, position)
/// and time index (<c>.timeindex</c>: max timestamp so far, relative offset). The indexes live in memory while the segment
/// is active and are written next to it when it is sealed; a missing or damaged index file is rebuilt from the data.
/// </summary>
internal sealed class LogSegment : IDisposable
{
    private const int ScanBufferBytes = 1 << 20;

    private int[] _indexOffsets = new int[64];
    private int[] _indexPositions = new int[64];
    private int _indexCount;
    private long[] _timeStamps = new long[64];
    private int[] _timeOffsets = new int[64];
    private int _timeCount;
    private long _size;
    private long _nextOffset;
    private long _bytesSinceIndex;

    private LogSegment(string path, long baseOffset, SafeFileHandle handle)
    {
        FilePath = path;
        BaseOffset = baseOffset;
        Handle = handle;
        _nextOffset = baseOffset;
        CreatedAtMs = Environment.TickCount64;
    }

    public string FilePath { get; }

    public long BaseOffset { get; }

    public SafeFileHandle Handle { get; }

    /// <summary>Bytes of valid batches (what readers may see).</summary>
    public long Size => Volatile.Read(ref _size);

    /// <summary>The offset after the last record.</summary>
    public long NextOffset => Volatile.Read(ref _nextOffset);

    /// <summary>The largest record timestamp, or long.MinValue when empty.</summary>
    public long MaxTimestamp { get; private set; } = long.MinValue;

    public bool IsSealed { get; private set; }

    /// <summary>Set when a sealed segment's headers do not check out: readers reaching it get a named error.</summary>
    public (long Position, string Reason)? Problem { get; set; }

    public bool IsDeleted { get; private set; }

    /// <summary>Monotonic ms when the segment was opened as active (drives time-based rolls).</summary>
    public long CreatedAtMs { get; }

    public static string FileName(long baseOffset) => $"{baseOffset:D20}.log";

    public static LogSegment Create(string directory, long baseOffset)
    {
        var path = Path.Combine(directory, FileName(baseOffset));
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        // The new file's directory entry must be durable before anything in it is acknowledged.
        NativeFile.FlushDirectory(directory);
        return new LogSegment(path, baseOffset, handle);
    }

    public static LogSegment Open(string path, long baseOffset, bool writable) =>
        new(path, baseOffset, File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));

    /// <summary>Writes an already-stamped batch at the end. Called under the partition's append lock.</summary>
    public void Append(ReadOnlySpan<byte> batch, long baseOffset, int count, long maxTimestamp, int indexInterval)
    {
        var position = _size;
        RandomAccess.Write(Handle, batch, position);
        Track(position, baseOffset, batch.Length, count, maxTimestamp, indexInterval);
        Volatile.Write(ref _size, position + batch.Length);
        Volatile.Write(ref _nextOffset, baseOffset + count);
    }

    private void Track(long position, long baseOffset, int length, int count, long maxTimestamp, int indexInterval)
    {
        if (_indexCount == 0 || _bytesSinceIndex >= indexInterval)
        {
            AddIndex((int)(baseOffset - BaseOffset), (int)position);
            _bytesSinceIndex = 0;
        }

        _bytesSinceIndex += length;
        if (count > 0 && maxTimestamp > MaxTimestamp)
        {
            MaxTimestamp = maxTimestamp;
            AddTime(maxTimestamp, (int)(baseOffset - BaseOffset));
        }
    }

    private void AddIndex(int relativeOffset, int position)
    {
        if (_indexCount == _indexOffsets.Length)
        {
            Array.Resize(ref _indexOffsets, _indexCount * 2);
            Array.Resize(ref _indexPositions, _indexCount * 2);
        }

        // Publish the entry before the count so lock-free readers never see a half-written one.
        _indexOffsets[_indexCount] = relativeOffset;
        _indexPositions[_indexCount] = position;
        Volatile.Write(ref _indexCount, _indexCount + 1);
    }

    private void AddTime(long timestamp, int relativeOffset)
    {
        if (_timeCount == _timeStamps.Length)
        {
            Array.Resize(ref _timeStamps, _timeCount * 2);
            Array.Resize(ref _timeOffsets, _timeCount * 2);
        }

        _timeStamps[_timeCount] = timestamp;
        _timeOffsets[_timeCount] = relativeOffset;
        Volatile.Write(ref _timeCount, _timeCount + 1);
    }

    /// <summary>The file position of the batch holding <paramref name="offset"/> or an earlier one (sparse index floor), and that batch's base offset.</summary>
    public (long Position, long BatchBase) FloorPosition(long offset)
    {
        var offsets = _indexOffsets;
        var positions = _indexPositions;
        var count = Math.Min(Volatile.Read(ref _indexCount), Math.Min(offsets.Length, positions.Length));
        var rel = offset - BaseOffset;
        int lo = 0, hi = count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (offsets[mid] <= rel)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? (0, BaseOffset) : (positions[found], BaseOffset + offsets[found]);
    }

    /// <summary>The earliest relative offset whose batch may hold a timestamp ≥ <paramref name="timestamp"/> (time index floor), or null if none.</summary>
    public long? OffsetForTimestamp(long timestamp)
    {
        var count = Volatile.Read(ref _timeCount);
        for (var i = 0; i < count; i++)
        {
            if (_timeStamps[i] >= timestamp)
            {
                // The entry says "max timestamp reached by the batch at this offset", so earlier batches are all older.
                return BaseOffset + _timeOffsets[i];
            }
        }

        return null;
    }

    /// <summary>
    /// Reads and checks every batch from the start. Stops at the first batch that is torn, fails its CRC or breaks offset
    /// continuity and returns where and why; rebuilds the in-memory indexes from what is valid.
    /// </summary>
    public (long ValidBytes, string? Problem) Rebuild(int indexInterval, bool checkCrc, BatchVisitor? visit)
    {
        _indexCount = 0;
        _timeCount = 0;
        _bytesSinceIndex = 0;
        MaxTimestamp = long.MinValue;
        var next = BaseOffset;
        var (valid, problem) = Scan(0, RandomAccess.GetLength(Handle), BaseOffset, checkCrc, (position, batch) =>
        {
            var b = RecordBatchFormat.BaseOffset(batch);
            var count = RecordBatchFormat.Count(batch);
            Track(position, b, batch.Length, count, RecordBatchFormat.MaxTimestamp(batch), indexInterval);
            next = b + count;
            return visit?.Invoke(position, batch) ?? true;
        });
        Volatile.Write(ref _size, valid);
        Volatile.Write(ref _nextOffset, next);
        return (valid, problem);
    }

    /// <summary>Picks up complete, valid batches another process appended after <see cref="Size"/> (read-only followers).</summary>
    public void Extend(int indexInterval, BatchVisitor? visit = null)
    {
        var next = NextOffset;
        var (valid, _) = Scan(Size, RandomAccess.GetLength(Handle), next, checkCrc: true, (position, batch) =>
        {
            var b = RecordBatchFormat.BaseOffset(batch);
            var count = RecordBatchFormat.Count(batch);
            Track(position, b, batch.Length, count, RecordBatchFormat.MaxTimestamp(batch), indexInterval);
            next = b + count;
            return visit?.Invoke(position, batch) ?? true;
        });
        Volatile.Write(ref _size, valid);
        Volatile.Write(ref _nextOffset, next);
    }

    /// <summary>Walks batches in [start, end) starting at base offset <paramref name="expectedBase"/>.</summary>
    public (long ValidEnd, string? Problem) Scan(long start, long end, long expectedBase, bool checkCrc, BatchVisitor visit)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ScanBufferBytes);
        try
        {
            var bufferStart = start;
            var filled = 0;
            var position = start;
            while (position < end)
            {
                var at = (int)(position - bufferStart);
                if (filled - at < RecordBatchFormat.HeaderSize)
                {
                    (buffer, bufferStart, filled) = Refill(buffer, position, RecordBatchFormat.HeaderSize, end);
                    at = 0;
                    if (filled < RecordBatchFormat.HeaderSize)
                    {
                        return (position, $"torn batch header ({filled} of {RecordBatchFormat.HeaderSize} bytes)");
                    }
                }

                var length = RecordBatchFormat.Length(buffer.AsSpan(at));
                if (length < RecordBatchFormat.HeaderSize || length > end - position)
                {
                    return (position, length < RecordBatchFormat.HeaderSize
                        ? $"impossible batch length {length}"
                        : $"torn batch: header says {length} bytes, {end - position} remain");
                }

                if (filled - at < length)
                {
                    (buffer, bufferStart, filled) = Refill(buffer, position, length, end);
                    at = 0;
                }

                var batch = buffer.AsSpan(at, length);
                var problem = checkCrc
                    ? RecordBatchFormat.Validate(batch, expectedBase)
                    : RecordBatchFormat.BaseOffset(batch) != expectedBase ? $"base offset {RecordBatchFormat.BaseOffset(batch)} where {expectedBase} was expected" : null;
                if (problem is not null)
                {
                    return (position, problem);
                }

                if (!visit(position, batch))
                {
                    return (position + length, null);
                }

                expectedBase += RecordBatchFormat.Count(batch);
                position += length;
            }

            return (position, null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private (byte[] Buffer, long Start, int Filled) Refill(byte[] buffer, long position, int needed, long end)
    {
        if (needed > buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(needed);
        }

        var want = (int)Math.Min(buffer.Length, end - position);
        var filled = 0;
        while (filled < want)
        {
            var n = RandomAccess.Read(Handle, buffer.AsSpan(filled, want - filled), position + filled);
            if (n == 0)
            {
                break;
            }

            filled += n;
        }

        return (buffer, position, filled);
    }

    /// <summary>Cuts the file back to <paramref name="validBytes"/> and syncs it.</summary>
    public void Truncate(long validBytes)
    {
        RandomAccess.SetLength(Handle, validBytes);
        NativeFile.FlushData(Handle);
        Volatile.Write(ref _size, validBytes);
    }

    /// <summary>
    /// Reads whole batches starting at <paramref name="position"/> (where the batch with base <paramref name="expectedBase"/> starts)
    /// into a pooled buffer: at least one batch, then as many as fit in <paramref name="maxBytes"/>. Checks each CRC.
    /// </summary>
    public (byte[]? Buffer, int Length, long NextOffset, string? Problem, long ProblemAt) ReadBatches(long position, long expectedBase, int maxBytes)
    {
        var end = Size;
        if (position >= end)
        {
            return (null, 0, expectedBase, null, 0);
        }

        var want = (int)Math.Min(Math.Max(maxBytes, RecordBatchFormat.HeaderSize), end - position);
        var buffer = ArrayPool<byte>.Shared.Rent(want);
        var filled = ReadFully(buffer.AsSpan(0, want), position);
        var at = 0;
        var next = expectedBase;
        while (true)
        {
            if (filled - at < RecordBatchFormat.HeaderSize)
            {
                break;
            }

            var length = RecordBatchFormat.Length(buffer.AsSpan(at));
            if (length < RecordBatchFormat.HeaderSize || length > end - position - at)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, 0, next, $"impossible batch length {length}", position + at);
            }

            if (filled - at < length)
            {
                if (at > 0)
                {
                    break;
                }

                // The first batch is larger than maxBytes: read all of it anyway so the reader makes progress.
                var bigger = ArrayPool<byte>.Shared.Rent(length);
                buffer.AsSpan(0, filled).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = bigger;
                filled += ReadFully(buffer.AsSpan(filled, length - filled), position + filled);
            }

            var problem = RecordBatchFormat.Validate(buffer.AsSpan(at, length), next);
            if (problem is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, 0, next, problem, position + at);
            }

            next += RecordBatchFormat.Count(buffer.AsSpan(at));
            at += length;
        }

        return (buffer, at, next, null, 0);
    }

    private int ReadFully(Span<byte> target, long position)
    {
        var filled = 0;
        while (filled < target.Length)
        {
            var n = RandomAccess.Read(Handle, target[filled..], position + filled);
            if (n == 0)
            {
                break;
            }

            filled += n;
        }

        return filled;
    }

    /// <summary>Syncs the data and writes the index files; the segment takes no more appends.</summary>
    public void Seal()
    {
        NativeFile.FlushData(Handle);
        WriteIndexFiles();
        IsSealed = true;
    }

    /// <summary>Marks a segment found sealed on disk.</summary>
    public void MarkSealed() => IsSealed = true;

    private string IndexPath => Path.ChangeExtension(FilePath, ".index");

    private string TimeIndexPath => Path.ChangeExtension(FilePath, ".timeindex");

    private void WriteIndexFiles()
    {
        var index = new byte[4 + _indexCount * 8];
        var dataEnd = Size;
        BinaryPrimitives.WriteInt32LittleEndian(index, (int)(NextOffset - BaseOffset));
        for (var i = 0; i < _indexCount; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(index.AsSpan(4 + i * 8), _indexOffsets[i]);
            BinaryPrimitives.WriteInt32LittleEndian(index.AsSpan(8 + i * 8), _indexPositions[i]);
        }

        var time = new byte[8 + _timeCount * 12];
        BinaryPrimitives.WriteInt64LittleEndian(time, dataEnd);
        for (var i = 0; i < _timeCount; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(time.AsSpan(8 + i * 12), _timeStamps[i]);
            BinaryPrimitives.WriteInt32LittleEndian(time.AsSpan(16 + i * 12), _timeOffsets[i]);
        }

        NativeFile.WriteAtomically(IndexPath, index);
        NativeFile.WriteAtomically(TimeIndexPath, time);
    }

    /// <summary>Loads the index files of a sealed segment; false when they are missing or do not match the data (then rebuild).</summary>
    public bool TryLoadIndexFiles()
    {
        try
        {
            if (!File.Exists(IndexPath) || !File.Exists(TimeIndexPath))
            {
                return false;
            }

            var index = File.ReadAllBytes(IndexPath);
            var time = File.ReadAllBytes(TimeIndexPath);
            var dataLength = RandomAccess.GetLength(Handle);
            if (index.Length < 4 || (index.Length - 4) % 8 != 0 || time.Length < 8 || (time.Length - 8) % 12 != 0 ||
                BinaryPrimitives.ReadInt64LittleEndian(time) != dataLength)
            {
                return false;
            }

            var entries = MemoryMarshal.Cast<byte, int>(index.AsSpan(4));
            _indexCount = 0;
            for (var i = 0; i + 1 < entries.Length; i += 2)
            {
                if (entries[i + 1] < 0 || entries[i + 1] >= dataLength)
                {
                    return false;
                }

                AddIndex(entries[i], entries[i + 1]);
            }

            _timeCount = 0;
            for (var i = 0; i < (time.Length - 8) / 12; i++)
            {
                var ts = BinaryPrimitives.ReadInt64LittleEndian(time.AsSpan(8 + i * 12));
                AddTime(ts, BinaryPrimitives.ReadInt32LittleEndian(time.AsSpan(16 + i * 12)));
                MaxTimestamp = Math.Max(MaxTimestamp, ts);
            }

            _size = dataLength;
            _nextOffset = BaseOffset + BinaryPrimitives.ReadInt32LittleEndian(index);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose() => Handle.Dispose();

    /// <summary>Closes and removes the segment and its index files.</summary>
    public void Delete()
    {
        IsDeleted = true;
        Handle.Dispose();
        File.Delete(FilePath);
        File.Delete(IndexPath);
        File.Delete(TimeIndexPath);
    }
}
