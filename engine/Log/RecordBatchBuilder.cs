using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Streams.Engine.Log;

/// <summary>A record header: a name and a byte value.</summary>
/// <param name="Name">The header name.</param>
/// <param name="Value">The header value (may be empty).</param>
public readonly record struct LogHeader(string Name, byte[] Value);

/// <summary>
/// Encodes records straight into one pooled buffer in the on-disk batch format, so appending costs one copy and one CRC
/// per batch and nothing per record. Reuse a builder with <see cref="Clear"/>; dispose it to return its buffer.
/// </summary>
public sealed class RecordBatchBuilder : IDisposable
{
    /// <summary>The default cap on one encoded batch: 8 MiB.</summary>
    public const int DefaultMaxBytes = 8 << 20;

    private byte[] _buffer;
    private int _length = RecordBatchFormat.HeaderSize;
    private long _firstTimestamp;
    private long _maxTimestamp = long.MinValue;
    private bool _sealed;

    /// <summary>Creates a builder whose batch may grow to <paramref name="maxBytes"/>.</summary>
    public RecordBatchBuilder(int initialBytes = 64 * 1024, int maxBytes = DefaultMaxBytes)
    {
        MaxBytes = maxBytes;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialBytes, RecordBatchFormat.HeaderSize + 64));
    }

    /// <summary>The most bytes the encoded batch may take.</summary>
    public int MaxBytes { get; }

    /// <summary>Records added since the last <see cref="Clear"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Encoded size in bytes, header included.</summary>
    public int SizeBytes => _length;

    /// <summary>The idempotent producer id, or -1.</summary>
    public long ProducerId { get; private set; } = -1;

    /// <summary>The producer epoch (meaningful with a producer id).</summary>
    public short ProducerEpoch { get; private set; }

    /// <summary>The sequence number of the first record, or -1.</summary>
    public int BaseSequence { get; private set; } = -1;

    /// <summary>Flags stored in the header (transactional / control).</summary>
    public BatchAttributes Attributes { get; private set; }

    /// <summary>Encoded bytes a record with these parts takes.</summary>
    public static int RecordSize(int keyLength, int valueLength, ReadOnlySpan<LogHeader> headers = default)
    {
        var size = RecordBatchFormat.MinRecordSize + Math.Max(keyLength, 0) + Math.Max(valueLength, 0);
        foreach (var h in headers)
        {
            size += 2 + Encoding.UTF8.GetByteCount(h.Name) + 4 + h.Value.Length;
        }

        return size;
    }

    /// <summary>Adds a keyed record; false (nothing added) when it would push the batch past <see cref="MaxBytes"/>.</summary>
    public bool TryAdd(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long timestamp, ReadOnlySpan<LogHeader> headers = default) =>
        TryAddCore(key, true, value, timestamp, headers);

    /// <summary>Adds a record without a key; false (nothing added) when it would push the batch past <see cref="MaxBytes"/>.</summary>
    public bool TryAddUnkeyed(ReadOnlySpan<byte> value, long timestamp, ReadOnlySpan<LogHeader> headers = default) =>
        TryAddCore(default, false, value, timestamp, headers);

    /// <summary>Sets the idempotent-producer fields (done by <see cref="IdempotentProducer"/>).</summary>
    public void SetProducer(long producerId, short epoch, int baseSequence)
    {
        ProducerId = producerId;
        ProducerEpoch = epoch;
        BaseSequence = baseSequence;
        _sealed = false;
    }

    /// <summary>Sets header flags (transactional, control).</summary>
    public void SetAttributes(BatchAttributes attributes)
    {
        Attributes = attributes;
        _sealed = false;
    }

    /// <summary>Empties the builder for the next batch (keeps its buffer).</summary>
    public void Clear()
    {
        _length = RecordBatchFormat.HeaderSize;
        Count = 0;
        _maxTimestamp = long.MinValue;
        _firstTimestamp = 0;
        ProducerId = -1;
        ProducerEpoch = 0;
        BaseSequence = -1;
        Attributes = BatchAttributes.None;
        _sealed = false;
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the header and CRC (once per content change) and hands out the encoded batch; the log patches the base offset in place.</summary>
    internal Span<byte> Seal()
    {
        var batch = _buffer.AsSpan(0, _length);
        if (!_sealed)
        {
            BinaryPrimitives.WriteInt64LittleEndian(batch, 0);
            BinaryPrimitives.WriteInt32LittleEndian(batch[RecordBatchFormat.LengthAt..], _length);
            BinaryPrimitives.WriteUInt16LittleEndian(batch[RecordBatchFormat.VersionAt..], RecordBatchFormat.Version);
            BinaryPrimitives.WriteUInt16LittleEndian(batch[RecordBatchFormat.AttributesAt..], (ushort)Attributes);
            BinaryPrimitives.WriteInt32LittleEndian(batch[RecordBatchFormat.CountAt..], Count);
            BinaryPrimitives.WriteInt64LittleEndian(batch[RecordBatchFormat.FirstTimestampAt..], _firstTimestamp);
            BinaryPrimitives.WriteInt64LittleEndian(batch[RecordBatchFormat.MaxTimestampAt..], Count == 0 ? 0 : _maxTimestamp);
            BinaryPrimitives.WriteInt64LittleEndian(batch[RecordBatchFormat.ProducerIdAt..], ProducerId);
            BinaryPrimitives.WriteInt16LittleEndian(batch[RecordBatchFormat.EpochAt..], ProducerEpoch);
            BinaryPrimitives.WriteInt16LittleEndian(batch[(RecordBatchFormat.EpochAt + 2)..], 0);
            BinaryPrimitives.WriteInt32LittleEndian(batch[RecordBatchFormat.BaseSequenceAt..], BaseSequence);
            Crc32C.Stamp(batch);
            _sealed = true;
        }

        return batch;
    }

    internal long MaxTimestamp => Count == 0 ? 0 : _maxTimestamp;

    private bool TryAddCore(ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, long timestamp, ReadOnlySpan<LogHeader> headers)
    {
        var size = headers.IsEmpty
            ? RecordBatchFormat.MinRecordSize + (hasKey ? key.Length : 0) + value.Length
            : RecordSize(hasKey ? key.Length : -1, value.Length, headers);
        if ((long)_length + size > MaxBytes)
        {
            return false;
        }

        EnsureCapacity(_length + size);
        var span = _buffer.AsSpan(_length, size);
        BinaryPrimitives.WriteInt32LittleEndian(span, size - 4);
        BinaryPrimitives.WriteInt64LittleEndian(span[4..], timestamp);
        var at = 12;
        if (hasKey)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], key.Length);
            key.CopyTo(span[(at + 4)..]);
            at += 4 + key.Length;
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], -1);
            at += 4;
        }

        BinaryPrimitives.WriteInt32LittleEndian(span[at..], value.Length);
        value.CopyTo(span[(at + 4)..]);
        at += 4 + value.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)headers.Length);
        at += 2;
        foreach (var h in headers)
        {
            var nameLength = Encoding.UTF8.GetBytes(h.Name, span[(at + 2)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)nameLength);
            at += 2 + nameLength;
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], h.Value.Length);
            h.Value.CopyTo(span[(at + 4)..]);
            at += 4 + h.Value.Length;
        }

        if (Count == 0)
        {
            _firstTimestamp = timestamp;
        }

        if (timestamp > _maxTimestamp)
        {
            _maxTimestamp = timestamp;
        }

        Count++;
        _length += size;
        _sealed = false;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureCapacity(int needed)
    {
        if (needed > _buffer.Length)
        {
            Grow(needed);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Min(_buffer.Length * 2, MaxBytes)));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
