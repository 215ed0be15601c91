namespace Streams.Engine.State;

/// <summary>
/// An operator (or sink, or store) with state that survives a crash. On a checkpoint barrier the runtime calls
/// <see cref="Snapshot"/> on the operator's own thread, after every input delivered the barrier (aligned) and
/// before the barrier is forwarded; on recovery it calls <see cref="Restore"/> once, before the first batch.
/// </summary>
public interface ICheckpointableOperator
{
    /// <summary>Writes the operator's complete state as of the barrier.</summary>
    void Snapshot(IStateSnapshotWriter writer);

    /// <summary>Replaces the operator's state with what <see cref="Snapshot"/> wrote.</summary>
    void Restore(IStateSnapshotReader reader);
}

/// <summary>
/// Sequential binary output for one operator's snapshot. Scalars are little-endian; arrays of unmanaged values are
/// written as one length-prefixed block so columnar state (key and value columns) goes out at memory speed.
/// </summary>
public interface IStateSnapshotWriter
{
    /// <summary>Writes a 32-bit integer.</summary>
    void WriteInt32(int value);

    /// <summary>Writes a 64-bit integer.</summary>
    void WriteInt64(long value);

    /// <summary>Writes a double.</summary>
    void WriteDouble(double value);

    /// <summary>Writes a boolean as one byte.</summary>
    void WriteBoolean(bool value);

    /// <summary>Writes a UTF-8 string (null allowed) with its length.</summary>
    void WriteString(string? value);

    /// <summary>Writes a block of unmanaged values with its element count; read back with <see cref="IStateSnapshotReader.ReadValues{T}"/>.</summary>
    void WriteValues<T>(ReadOnlySpan<T> values) where T : unmanaged;

    /// <summary>
    /// Declares a file the operator's store wrote itself (an in-place store checkpoint, below the state directory) as
    /// part of this checkpoint: it is checksummed into the manifest, verified on recovery and kept while a retained
    /// checkpoint needs it.
    /// </summary>
    void AttachFile(string absolutePath);

    /// <summary>The folder below the state directory where this operator's stores keep their own files.</summary>
    string OperatorDirectory { get; }
}

/// <summary>Reads what an <see cref="IStateSnapshotWriter"/> wrote, in the same order.</summary>
public interface IStateSnapshotReader
{
    /// <summary>Reads a 32-bit integer.</summary>
    int ReadInt32();

    /// <summary>Reads a 64-bit integer.</summary>
    long ReadInt64();

    /// <summary>Reads a double.</summary>
    double ReadDouble();

    /// <summary>Reads a boolean.</summary>
    bool ReadBoolean();

    /// <summary>Reads a string written by <see cref="IStateSnapshotWriter.WriteString"/>.</summary>
    string? ReadString();

    /// <summary>Reads a block written by <see cref="IStateSnapshotWriter.WriteValues{T}"/> into a new array.</summary>
    T[] ReadValues<T>() where T : unmanaged;

    /// <summary>The folder below the state directory where this operator's stores keep their own files.</summary>
    string OperatorDirectory { get; }
}
