using Streams.Engine.Connectors;

namespace Streams.Engine.Checkpoints;

/// <summary>
/// A sink writer whose output is published only by checkpoints (two-phase commit). On a barrier (or at end of input)
/// the runtime calls <see cref="ISinkWriter.PreCommit"/>: everything written since the previous checkpoint is staged
/// durably but invisibly under that checkpoint id. When the manifest is durable the coordinator calls
/// <see cref="ISinkWriter.Commit"/>. After a crash, before anything is written, the runtime calls
/// <see cref="RecoverTransactions"/> with the id from the last complete manifest.
/// </summary>
public interface ITransactionalSinkWriter : ISinkWriter
{
    /// <summary>
    /// Resolves transactions a crashed run left behind: those staged under an id at or below
    /// <paramref name="committedCheckpointId"/> are covered by a complete manifest and are published (idempotently:
    /// a transaction already published stays as it is); later ones and unstaged output are discarded.
    /// <paramref name="committedCheckpointId"/> is 0 when no complete checkpoint exists.
    /// </summary>
    void RecoverTransactions(long committedCheckpointId);
}
