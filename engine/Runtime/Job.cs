using System.Threading.Channels;
using Streams.Engine.Connectors;
using Streams.Engine.Operators;
using Streams.Engine.Runtime.Execution;
using Streams.Engine.Runtime.Graph;

namespace Streams.Engine.Runtime;

/// <summary>A job failed: names the node and task whose operator threw; the inner exception is the cause.</summary>
public sealed class JobExecutionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A runnable dataflow built by <see cref="JobGraph.Build"/>. <see cref="RunAsync"/> runs every task until all
/// bounded inputs end (or until cancelled); <see cref="Metrics"/> can be read while it runs.
/// </summary>
public sealed class Job
{
    private readonly JobGraph _graph;
    private readonly List<DeadLetter> _deadLetters = [];
    private readonly Lock _deadLetterGate = new();
    private readonly List<StreamTask> _sourceTasks = [];
    private readonly OperatorMetrics[][] _nodeMetrics;
    private int _started;

    internal Job(JobGraph graph)
    {
        _graph = graph;
        _nodeMetrics = graph.Nodes.Select(MetricsOf).ToArray();
        Metrics = new JobMetrics(_nodeMetrics.SelectMany(m => m).ToArray());
    }

    /// <summary>The job's settings.</summary>
    public JobOptions Options => _graph.Options;

    /// <summary>The job's graph nodes (the checkpoint layer reaches the sinks of a finished job through them).</summary>
    internal IReadOnlyList<GraphNode> Nodes => _graph.Nodes;

    /// <summary>Live counters per node.</summary>
    public JobMetrics Metrics { get; }

    /// <summary>Rows sent to the dead-letter output, when <see cref="JobOptions.DeadLetters"/> is not set.</summary>
    public IReadOnlyList<DeadLetter> DeadLetters
    {
        get
        {
            lock (_deadLetterGate)
            {
                return _deadLetters.ToArray();
            }
        }
    }

    /// <summary>
    /// Injects a checkpoint barrier into every source partition; it flows with the data and is aligned at every
    /// operator with several inputs. (Snapshotting state on the barrier is the checkpoint layer's part.)
    /// </summary>
    public void TriggerCheckpoint(CheckpointBarrier barrier)
    {
        foreach (var task in _sourceTasks)
        {
            task.InjectBarrier(barrier);
        }
    }

    /// <summary>Runs the job to completion: every source ended and every task drained. Throws <see cref="JobExecutionException"/> if a task failed.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("a job runs only once; build the graph again to rerun it");
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var (tasks, channels) = Instantiate();
        var running = tasks.Select(t => Task.Run(() => t.RunAsync(cts.Token), CancellationToken.None)).ToList();
        var remaining = new List<Task>(running);
        Exception? failure = null;
        while (remaining.Count > 0)
        {
            var done = await Task.WhenAny(remaining).ConfigureAwait(false);
            remaining.Remove(done);
            if (done.IsFaulted && failure is null)
            {
                failure = done.Exception!.InnerException;
                // One task failed: stop the others instead of letting them wait on a dead channel.
                await cts.CancelAsync().ConfigureAwait(false);
            }
        }

        foreach (var channel in channels)
        {
            while (channel.Reader.TryRead(out var left))
            {
                left.Batch?.Dispose();
            }
        }

        if (failure is not null)
        {
            throw failure;
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private static OperatorMetrics[] MetricsOf(GraphNode node)
    {
        // One entry per operator: the source or two-input head (when the node has one), then each chained operator.
        var metrics = new List<OperatorMetrics>();
        if (node.Source is not null || node.TwoInput is not null)
        {
            metrics.Add(new OperatorMetrics(node.Name, node.Parallelism));
        }

        foreach (var op in node.Chain)
        {
            metrics.Add(new OperatorMetrics(op.Name, node.Parallelism));
        }

        return metrics.ToArray();
    }

    internal void ReportDeadLetter(DeadLetter letter)
    {
        if (Options.DeadLetters is { } sink)
        {
            sink.Report(letter);
            return;
        }

        lock (_deadLetterGate)
        {
            _deadLetters.Add(letter);
        }
    }

    private (List<StreamTask> Tasks, List<Channel<StreamElement>> Channels) Instantiate()
    {
        var nodes = _graph.Nodes;
        var inputs = new Channel<StreamElement>[nodes.Count][];
        var senderBase = new Dictionary<GraphEdge, int>();
        var senderSides = new JoinSide[nodes.Count][];
        var channels = new List<Channel<StreamElement>>();
        foreach (var node in nodes)
        {
            if (node.Source is not null)
            {
                continue;
            }

            var sides = new List<JoinSide>();
            foreach (var edge in node.Inputs)
            {
                senderBase[edge] = sides.Count;
                var count = edge.Kind == EdgeKind.Forward ? 1 : edge.From.Parallelism;
                for (var i = 0; i < count; i++)
                {
                    sides.Add(edge.Side);
                }
            }

            senderSides[node.Id] = sides.ToArray();
            inputs[node.Id] = new Channel<StreamElement>[node.Parallelism];
            for (var t = 0; t < node.Parallelism; t++)
            {
                var channel = Channel.CreateBounded<StreamElement>(new BoundedChannelOptions(Math.Max(1, Options.ChannelCapacity))
                {
                    SingleReader = true,
                    SingleWriter = sides.Count == 1,
                    FullMode = BoundedChannelFullMode.Wait,
                });
                inputs[node.Id][t] = channel;
                channels.Add(channel);
            }
        }

        var tasks = new List<StreamTask>();
        foreach (var node in nodes)
        {
            for (var t = 0; t < node.Parallelism; t++)
            {
                var task = new StreamTask(this, node, t, _nodeMetrics[node.Id], node.Source is null ? inputs[node.Id][t] : null, senderSides[node.Id] ?? []);
                tasks.Add(task);
                if (node.Source is not null)
                {
                    _sourceTasks.Add(task);
                }
            }
        }

        var offset = 0;
        foreach (var node in nodes)
        {
            for (var t = 0; t < node.Parallelism; t++)
            {
                var task = tasks[offset + t];
                for (var port = 0; port < node.Ports.Count; port++)
                {
                    var senders = new List<EdgeSender>();
                    foreach (var edge in node.Ports[port])
                    {
                        var targets = inputs[edge.To.Id];
                        ChannelWriter<StreamElement>[] writers;
                        int senderId;
                        if (edge.Kind == EdgeKind.Forward)
                        {
                            writers = [targets[t].Writer];
                            senderId = senderBase[edge];
                        }
                        else
                        {
                            writers = targets.Select(c => c.Writer).ToArray();
                            senderId = senderBase[edge] + t;
                        }

                        senders.Add(new EdgeSender(writers, edge.Kind, edge.KeyColumns, senderId, Options.BatchSize, task.PendingQueue));
                    }

                    task.SetPort(port, senders.ToArray());
                }
            }

            offset += node.Parallelism;
        }

        return (tasks, channels);
    }
}
