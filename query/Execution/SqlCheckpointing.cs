using Streams.Engine.Checkpoints;
using Streams.Engine.Connectors;
using Streams.Query.Binding;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>Checkpointing settings of a SQL session (<c>streams run --state-dir DIR --checkpoint-interval 1s</c>).</summary>
/// <param name="StateDirectory">The job's state directory; each INSERT INTO statement gets a sub-folder.</param>
/// <param name="Interval">Time between checkpoints.</param>
public sealed record SqlCheckpointOptions(string StateDirectory, TimeSpan Interval);

/// <summary>Runs an INSERT INTO job under checkpointing: resumes from its state directory, ends with a final checkpoint.</summary>
internal static class SqlCheckpointing
{
    public static async Task RunInsertAsync(LogicalNode plan, CatalogEntry target, ISinkConnector sink, JobContext context, SqlCheckpointOptions options, CancellationToken cancellationToken)
    {
        // The plan text names every operator, key and column: a changed query cannot restore another query's state.
        var fingerprint = PlanFingerprint.Of($"INSERT INTO {target.Name}\n{PlanPrinter.Explain(plan, context.Parallelism, context.ReuseSubplans)}");
        var checkpointing = new JobCheckpointing(options.StateDirectory, fingerprint, options.Interval);
        var job = QueryJob.BuildInsert(plan, sink, context with { Checkpoints = checkpointing });
        await checkpointing.RunAsync(job, cancellationToken).ConfigureAwait(false);
    }
}
