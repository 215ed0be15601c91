namespace Streams.Engine.Checkpoints;

/// <summary>A checkpoint file is torn or damaged; the message names the file and what is wrong with it.</summary>
public sealed class CorruptCheckpointException(string path, string problem)
    : Exception($"corrupt checkpoint file {path}: {problem}")
{
    /// <summary>The damaged file.</summary>
    public string FilePath { get; } = path;
}

/// <summary>
/// The state directory belongs to a different physical plan: restoring it would feed one operator's state into another,
/// so the job refuses to start instead.
/// </summary>
public sealed class PlanMismatchException(string stateDirectory, long checkpointId, string expected, string found)
    : Exception($"state directory {stateDirectory} holds checkpoint {checkpointId} of a different query plan "
        + $"(plan fingerprint {found}, this query's is {expected}); use a new --state-dir or delete the old one to start over")
{
    /// <summary>The fingerprint of the plan being started.</summary>
    public string Expected { get; } = expected;

    /// <summary>The fingerprint stored in the checkpoint.</summary>
    public string Found { get; } = found;
}
