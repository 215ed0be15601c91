using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Engine.Runtime;

/// <summary>Settings of one job: parallelism, batch and channel sizes, where batches and dead letters go.</summary>
public sealed class JobOptions
{
    /// <summary>Tasks per keyed (post-exchange) operator; defaults to the number of cores.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Rows per batch that operators allocate for their output.</summary>
    public int BatchSize { get; init; } = BatchPool.DefaultCapacity;

    /// <summary>Elements (batches, watermarks, ...) a channel between two tasks holds before the sender waits: the backpressure bound.</summary>
    public int ChannelCapacity { get; init; } = 8;

    /// <summary>The pool every batch of the job is rented from.</summary>
    public BatchPool Pool { get; init; } = BatchPool.Shared;

    /// <summary>Where rows that fail (bad values, operator exceptions, late rows without a consumer) go; null keeps them in <see cref="Job.DeadLetters"/>.</summary>
    public IDeadLetterSink? DeadLetters { get; init; }

    /// <summary>Checkpointing (state snapshots, source offsets, two-phase sinks); null runs without checkpoints.</summary>
    public ICheckpointHooks? Checkpoints { get; init; }

    /// <summary>A name for the job in metrics and errors.</summary>
    public string Name { get; init; } = "job";
}
