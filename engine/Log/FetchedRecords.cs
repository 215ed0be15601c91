using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Streams.Engine.Log;

/// <summary>One record as read from the log: spans into the fetch buffer, valid until the fetch is disposed.</summary>
public readonly ref struct LogRecordView
{
    private readonly ReadOnlySpan<byte> _headers;

    internal LogRecordView(long offset, long timestamp, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, ReadOnlySpan<byte> headers, BatchAttributes attributes)
    {
        Offset = offset;
        Timestamp = timestamp;
        Key = key;
        HasKey = hasKey;
        Value = value;
        _headers = headers;
        Attributes = attributes;
    }

    /// <summary>The record's offset in its partition.</summary>
    public long Offset { get; }

    /// <summary>The record's timestamp (epoch milliseconds).</summary>
    public long Timestamp { get; }

    /// <summary>The key bytes (empty when <see cref="HasKey"/> is false).</summary>
    public ReadOnlySpan<byte> Key { get; }

    /// <summary>False for a record written without a key.</summary>
    public bool HasKey { get; }

    /// <summary>The value bytes.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>The flags of the batch the record came in.</summary>
    public BatchAttributes Attributes { get; }

    /// <summary>How many headers the record has.</summary>
    public int HeaderCount => _headers.IsEmpty ? 0 : BinaryPrimitives.ReadUInt16LittleEndian(_headers);

    /// <summary>Decodes the headers (allocates; for edges and tools, not hot paths).</summary>
    public LogHeader[] DecodeHeaders()
    {
        var count = HeaderCount;
        var result = new LogHeader[count];
        var at = 2;
        for (var i = 0; i < count; i++)
        {
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(_headers[at..]);
            var name = Encoding.UTF8.GetString(_headers.Slice(at + 2, nameLength));
            at += 2 + nameLength;
            var valueLength = BinaryPrimitives.ReadInt32LittleEndian(_headers[at..]);
            result[i] = new LogHeader(name, _headers.Slice(at + 4, valueLength).ToArray());
            at += 4 + valueLength;
        }

        return result;
    }
}

/// <summary>
/// Whole, CRC-checked batches read from one partition into a pooled buffer. Enumerate it for the records at or after the
/// requested offset (control batches and, for read-committed fetches, aborted transactions are skipped); dispose it to
/// return the buffer.
/// </summary>
public sealed class FetchedRecords : IDisposable
{
    private byte[]? _buffer;
    private AbortedTransaction[]? _aborted;

    internal FetchedRecords(byte[]? buffer, int length, long fromOffset, long nextOffset, int recordCount)
    {
        _buffer = buffer;
        Length = length;
        FromOffset = fromOffset;
        NextOffset = nextOffset;
        RecordCount = recordCount;
    }

    /// <summary>The base offset of the first fetched batch (at or before <see cref="FromOffset"/>).</summary>
    internal long FirstBatchOffset => _buffer is null ? FromOffset : RecordBatchFormat.BaseOffset(_buffer);

    /// <summary>Drops the batches at or past <paramref name="limit"/> (a batch boundary), keeping the buffer.</summary>
    internal FetchedRecords CutAt(long limit)
    {
        var data = RawBatches;
        var at = 0;
        while (at < data.Length && RecordBatchFormat.BaseOffset(data[at..]) < limit)
        {
            at += RecordBatchFormat.Length(data[at..]);
        }

        var buffer = _buffer;
        _buffer = null;
        if (at == 0)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return new FetchedRecords(null, 0, FromOffset, FromOffset, 0);
        }

        return new FetchedRecords(buffer, at, FromOffset, limit, (int)(limit - FromOffset));
    }

    /// <summary>Makes the enumeration skip the batches of these aborted transactions.</summary>
    internal FetchedRecords WithAborted(AbortedTransaction[] aborted)
    {
        _aborted = aborted;
        return this;
    }

    /// <summary>The offset asked for: records before it (in the first batch) are skipped.</summary>
    public long FromOffset { get; }

    /// <summary>The offset to fetch next.</summary>
    public long NextOffset { get; }

    /// <summary>Bytes of batch data fetched.</summary>
    public int Length { get; }

    /// <summary>Records in the fetched batches at or after <see cref="FromOffset"/> (control batches included).</summary>
    public int RecordCount { get; }

    /// <summary>True when nothing was fetched.</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>The raw batches (for copying to another log or a socket).</summary>
    public ReadOnlySpan<byte> RawBatches => _buffer is null ? default : _buffer.AsSpan(0, Length);

    /// <summary>Enumerates the records.</summary>
    public Enumerator GetEnumerator() => new(RawBatches, FromOffset, _aborted);

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Walks batches and the records inside them without allocating.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly long _from;
        private readonly AbortedTransaction[]? _aborted;
        private int _batchAt;
        private int _batchEnd;
        private int _recordAt;
        private long _offset;
        private int _left;
        private BatchAttributes _attributes;

        internal Enumerator(ReadOnlySpan<byte> data, long from, AbortedTransaction[]? aborted)
        {
            _data = data;
            _from = from;
            _aborted = aborted;
            _batchAt = 0;
            _batchEnd = 0;
            _left = 0;
        }

        /// <summary>The current record.</summary>
        public LogRecordView Current { get; private set; }

        private readonly bool IsAborted(ReadOnlySpan<byte> header)
        {
            if ((RecordBatchFormat.Attributes(header) & BatchAttributes.Transactional) == 0)
            {
                return false;
            }

            var producer = RecordBatchFormat.ProducerId(header);
            var offset = RecordBatchFormat.BaseOffset(header);
            foreach (var a in _aborted!)
            {
                if (a.ProducerId == producer && offset >= a.FirstOffset && offset <= a.LastOffset)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Moves to the next record.</summary>
        public bool MoveNext()
        {
            while (true)
            {
                if (_left == 0)
                {
                    if (_batchEnd >= _data.Length)
                    {
                        return false;
                    }

                    _batchAt = _batchEnd;
                    var header = _data[_batchAt..];
                    _batchEnd = _batchAt + RecordBatchFormat.Length(header);
                    _attributes = RecordBatchFormat.Attributes(header);
                    if ((_attributes & BatchAttributes.Control) != 0 || (_aborted is not null && IsAborted(header)))
                    {
                        continue;
                    }

                    _offset = RecordBatchFormat.BaseOffset(header);
                    _left = RecordBatchFormat.Count(header);
                    _recordAt = _batchAt + RecordBatchFormat.HeaderSize;
                    continue;
                }

                var r = _data[_recordAt..];
                var size = BinaryPrimitives.ReadInt32LittleEndian(r);
                var offset = _offset++;
                _left--;
                _recordAt += 4 + size;
                if (offset < _from)
                {
                    continue;
                }

                var timestamp = BinaryPrimitives.ReadInt64LittleEndian(r[4..]);
                var keyLength = BinaryPrimitives.ReadInt32LittleEndian(r[12..]);
                var at = 16;
                var key = ReadOnlySpan<byte>.Empty;
                if (keyLength >= 0)
                {
                    key = r.Slice(at, keyLength);
                    at += keyLength;
                }

                var valueLength = BinaryPrimitives.ReadInt32LittleEndian(r[at..]);
                at += 4;
                var value = valueLength >= 0 ? r.Slice(at, valueLength) : default;
                at += Math.Max(valueLength, 0);
                Current = new LogRecordView(offset, timestamp, key, keyLength >= 0, value, r[at..(4 + size)], _attributes);
                return true;
            }
        }
    }
}
