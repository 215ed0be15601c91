namespace Streams.Engine.Checkpoints;

/// <summary>Where one source partition resumes: the reader offset captured when the barrier was injected there.</summary>
/// <param name="Source">The source's name (the stream name in the plan).</param>
/// <param name="Partition">The partition index.</param>
/// <param name="Offset">The value of <see cref="Connectors.ISourceReader.Offset"/> at the barrier.</param>
public sealed record SourceOffset(string Source, int Partition, long Offset);

/// <summary>One file that belongs to a checkpoint, with the length and XXH64 checksum it must still have on recovery.</summary>
/// <param name="Path">The path relative to the state directory, with '/' separators.</param>
/// <param name="Length">The length in bytes.</param>
/// <param name="Checksum">The XXH64 checksum as 16 hex digits.</param>
public sealed record StateFile(string Path, long Length, string Checksum);

/// <summary>The state one operator acknowledged for a checkpoint.</summary>
/// <param name="OperatorId">The operator's stable id in the physical plan.</param>
/// <param name="Files">The files holding its snapshot (the snapshot stream first, then attached store files).</param>
public sealed record OperatorState(string OperatorId, IReadOnlyList<StateFile> Files);

/// <summary>A sink transaction staged (pre-committed) for a checkpoint and published once the manifest is durable.</summary>
/// <param name="SinkId">The sink's stable id in the physical plan.</param>
/// <param name="Task">The parallel writer index.</param>
/// <param name="TransactionId">The id the writer staged under (the checkpoint id for the built-in sinks).</param>
public sealed record SinkTransaction(string SinkId, int Task, long TransactionId);

/// <summary>
/// The durable description of one complete checkpoint: it is written only after every operator and sink acknowledged,
/// so its presence (with a valid checksum) is what makes the checkpoint complete.
/// </summary>
/// <param name="Id">The checkpoint id (increases by one per checkpoint of a job).</param>
/// <param name="CreatedUtcMs">When the barrier was injected, in Unix milliseconds.</param>
/// <param name="PlanFingerprint">The hash of the physical plan the state belongs to.</param>
/// <param name="IsFinal">True for the checkpoint taken after a bounded job finished: a rerun has nothing left to do.</param>
/// <param name="Sources">Per-source-partition offsets.</param>
/// <param name="Operators">Per-operator state handles.</param>
/// <param name="Sinks">Sink transactions to publish.</param>
public sealed record CheckpointManifest(
    long Id,
    long CreatedUtcMs,
    string PlanFingerprint,
    bool IsFinal,
    IReadOnlyList<SourceOffset> Sources,
    IReadOnlyList<OperatorState> Operators,
    IReadOnlyList<SinkTransaction> Sinks)
{
    /// <summary>The saved offset of <paramref name="source"/> partition <paramref name="partition"/>, or 0 (the beginning) when none was saved.</summary>
    public long OffsetOf(string source, int partition)
    {
        foreach (var s in Sources)
        {
            if (s.Partition == partition && string.Equals(s.Source, source, StringComparison.Ordinal))
            {
                return s.Offset;
            }
        }

        return 0;
    }

    /// <summary>The state the operator <paramref name="operatorId"/> acknowledged, or null when it had none.</summary>
    public OperatorState? StateOf(string operatorId)
    {
        foreach (var o in Operators)
        {
            if (string.Equals(o.OperatorId, operatorId, StringComparison.Ordinal))
            {
                return o;
            }
        }

        return null;
    }

    /// <summary>The total size of the checkpoint's state files in bytes.</summary>
    public long StateBytes
    {
        get
        {
            long total = 0;
            foreach (var o in Operators)
            {
                foreach (var f in o.Files)
                {
                    total += f.Length;
                }
            }

            return total;
        }
    }
}
