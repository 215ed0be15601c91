using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Streams.Engine.State;

/// <summary>An <see cref="IStateSnapshotWriter"/> over a stream (a checkpoint's snapshot file).</summary>
public sealed class StateSnapshotWriter : IStateSnapshotWriter
{
    private readonly Stream _stream;
    private readonly List<string> _attached = [];

    /// <summary>Writes to <paramref name="stream"/>; <paramref name="operatorDirectory"/> is where the operator's stores keep their own files.</summary>
    public StateSnapshotWriter(Stream stream, string operatorDirectory)
    {
        _stream = stream;
        OperatorDirectory = operatorDirectory;
    }

    /// <inheritdoc/>
    public string OperatorDirectory { get; }

    /// <summary>The files declared with <see cref="AttachFile"/>, absolute paths in declaration order.</summary>
    public IReadOnlyList<string> AttachedFiles => _attached;

    /// <inheritdoc/>
    public void WriteInt32(int value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, value);
        _stream.Write(buffer);
    }

    /// <inheritdoc/>
    public void WriteInt64(long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        _stream.Write(buffer);
    }

    /// <inheritdoc/>
    public void WriteDouble(double value) => WriteInt64(BitConverter.DoubleToInt64Bits(value));

    /// <inheritdoc/>
    public void WriteBoolean(bool value) => _stream.WriteByte(value ? (byte)1 : (byte)0);

    /// <inheritdoc/>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        WriteInt32(bytes.Length);
        _stream.Write(bytes);
    }

    /// <inheritdoc/>
    public void WriteValues<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        WriteInt32(Unsafe.SizeOf<T>());
        WriteInt64(values.Length);
        // Blittable values go out as their in-memory bytes (little-endian hosts only, which .NET on x64/arm64 is).
        _stream.Write(MemoryMarshal.AsBytes(values));
    }

    /// <inheritdoc/>
    public void AttachFile(string absolutePath) => _attached.Add(Path.GetFullPath(absolutePath));
}

/// <summary>An <see cref="IStateSnapshotReader"/> over a stream; a short read means the snapshot is damaged and says so.</summary>
public sealed class StateSnapshotReader : IStateSnapshotReader
{
    private readonly Stream _stream;
    private readonly string _name;

    /// <summary>Reads from <paramref name="stream"/>; <paramref name="name"/> (the file) appears in errors.</summary>
    public StateSnapshotReader(Stream stream, string name, string operatorDirectory)
    {
        _stream = stream;
        _name = name;
        OperatorDirectory = operatorDirectory;
    }

    /// <inheritdoc/>
    public string OperatorDirectory { get; }

    /// <inheritdoc/>
    public int ReadInt32()
    {
        Span<byte> buffer = stackalloc byte[4];
        Fill(buffer);
        return BinaryPrimitives.ReadInt32LittleEndian(buffer);
    }

    /// <inheritdoc/>
    public long ReadInt64()
    {
        Span<byte> buffer = stackalloc byte[8];
        Fill(buffer);
        return BinaryPrimitives.ReadInt64LittleEndian(buffer);
    }

    /// <inheritdoc/>
    public double ReadDouble() => BitConverter.Int64BitsToDouble(ReadInt64());

    /// <inheritdoc/>
    public bool ReadBoolean()
    {
        Span<byte> buffer = stackalloc byte[1];
        Fill(buffer);
        return buffer[0] != 0;
    }

    /// <inheritdoc/>
    public string? ReadString()
    {
        var length = ReadInt32();
        if (length < 0)
        {
            return null;
        }

        var bytes = new byte[length];
        Fill(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <inheritdoc/>
    public T[] ReadValues<T>() where T : unmanaged
    {
        var size = ReadInt32();
        if (size != Unsafe.SizeOf<T>())
        {
            ThrowLayout(typeof(T), size);
        }

        var count = ReadInt64();
        if (count < 0 || count > Array.MaxLength)
        {
            ThrowLayout(typeof(T), size);
        }

        var values = GC.AllocateUninitializedArray<T>((int)count);
        Fill(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    private void Fill(Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var read = _stream.Read(buffer);
            if (read == 0)
            {
                ThrowShort();
            }

            buffer = buffer[read..];
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowShort() =>
        throw new InvalidDataException($"state snapshot {_name} ends early at byte {_stream.Position}: it is truncated or was written by a different operator version");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowLayout(Type type, int size) =>
        throw new InvalidDataException($"state snapshot {_name} at byte {_stream.Position}: block of {size}-byte values does not match {type.Name} (the operator's state layout changed)");
}
