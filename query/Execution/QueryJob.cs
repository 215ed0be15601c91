using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Filter;
using Streams.Engine.Operators.Project;
using Streams.Query.Compilation;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>What a running query needs from its host.</summary>
/// <param name="Connectors">Where connector names resolve.</param>
/// <param name="BaseDirectory">The folder relative paths in WITH resolve against.</param>
/// <param name="Pool">The batch pool.</param>
/// <param name="DeadLetters">Where rejected records go.</param>
/// <param name="Errors">Counts rows that failed in operators.</param>
internal sealed record JobContext(ConnectorRegistry Connectors, string BaseDirectory, BatchPool Pool, IDeadLetterSink DeadLetters, DeadLetterCounter Errors);

/// <summary>
/// A compiled query: operators wired from the sources to one output, run on the calling thread. Sources are read
/// round-robin, one batch per partition in turn; each source's watermark is the minimum over its partitions of the
/// largest event time seen minus the declared delay.
/// </summary>
internal sealed class QueryJob
{
    private readonly List<(ScanNode Scan, IDataflowInput Target)> _sources = [];
    private readonly JobContext _context;

    private QueryJob(JobContext context) => _context = context;

    /// <summary>Wires <paramref name="root"/> into operators that deliver into <paramref name="output"/>.</summary>
    public static QueryJob Build(LogicalNode root, IDataflowInput output, JobContext context)
    {
        var job = new QueryJob(context);
        job.Wire(root, output);
        return job;
    }

    private void Wire(LogicalNode node, IDataflowInput downstream)
    {
        switch (node)
        {
            case ScanNode scan:
                {
                    var target = downstream;
                    if (scan.PushedFilter is not null)
                    {
                        target = new OperatorStep(new FilterOperator(ExpressionCompiler.CompileFilter(scan.PushedFilter, scan.Schema)), target, _context.Errors);
                    }

                    _sources.Add((scan, target));
                    break;
                }

            case FilterNode filter:
                Wire(filter.Input, new OperatorStep(new FilterOperator(ExpressionCompiler.CompileFilter(filter.Predicate, filter.Input.Schema)), downstream, _context.Errors));
                break;
            case ProjectNode project when project.IsIdentity:
                Wire(project.Input, downstream);
                break;
            case ProjectNode project:
                Wire(project.Input, new OperatorStep(new ProjectOperator(project.Schema, ExpressionCompiler.CompileProjector(project.Exprs, project.Input.Schema, project.Schema)), downstream, _context.Errors));
                break;
            case UnionNode union:
                {
                    var step = new UnionStep(union.Inputs.Count, downstream);
                    for (var i = 0; i < union.Inputs.Count; i++)
                    {
                        Wire(union.Inputs[i], step.Port(i));
                    }

                    break;
                }

            default:
                {
                    var inputs = node.Inputs;
                    var op = PhysicalOperators.Create(node, _context);
                    if (op is IOperator single)
                    {
                        Wire(inputs[0], new OperatorStep(single, downstream, _context.Errors));
                    }
                    else if (op is ITwoInputOperator two)
                    {
                        var step = new TwoInputStep(two, downstream, _context.Errors);
                        Wire(inputs[0], step.Left);
                        Wire(inputs[1], step.Right);
                    }

                    break;
                }
        }
    }

    private sealed class SourceState
    {
        public required IDataflowInput Target { get; init; }

        public required ISourceReader[] Readers { get; init; }

        public required long[] MaxTime { get; init; }

        public required bool[] Done { get; init; }

        public required int TimeColumn { get; init; }

        public required long Delay { get; init; }

        public long EmittedWatermark { get; set; } = long.MinValue;

        public bool Ended { get; set; }
    }

    /// <summary>Reads every source to its end (bounded) or until cancelled, pushing batches through the operators.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var states = new List<SourceState>();
        try
        {
            foreach (var (scan, target) in _sources)
            {
                var entry = scan.Source;
                var connectorName = entry.Option("connector") ?? throw new ConnectorException($"stream `{entry.Name}` has no 'connector' option in WITH (...)");
                if (!_context.Connectors.TryGet(connectorName, out var factory))
                {
                    throw new ConnectorException($"unknown connector '{connectorName}' for `{entry.Name}` (known: {string.Join(", ", _context.Connectors.Names)})");
                }

                var options = entry.Options.GroupBy(o => o.Key, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key.ToLowerInvariant(), g => g.Last().Value);
                var source = factory.CreateSource(new ConnectorContext(entry.Name, entry.Schema, options, _context.BaseDirectory, null, _context.DeadLetters, _context.Pool));
                var readers = new ISourceReader[source.PartitionCount];
                for (var p = 0; p < readers.Length; p++)
                {
                    readers[p] = source.OpenPartition(p, 0);
                }

                states.Add(new SourceState
                {
                    Target = target,
                    Readers = readers,
                    MaxTime = Enumerable.Repeat(long.MinValue, readers.Length).ToArray(),
                    Done = new bool[readers.Length],
                    TimeColumn = entry.Schema.EventTimeIndex,
                    Delay = entry.WatermarkDelayMs,
                });
            }

            var active = true;
            while (active)
            {
                cancellationToken.ThrowIfCancellationRequested();
                active = false;
                foreach (var s in states)
                {
                    if (s.Ended)
                    {
                        continue;
                    }

                    for (var p = 0; p < s.Readers.Length; p++)
                    {
                        if (s.Done[p])
                        {
                            continue;
                        }

                        var batch = await s.Readers[p].ReadAsync(cancellationToken).ConfigureAwait(false);
                        if (batch is null)
                        {
                            s.Done[p] = true;
                            s.MaxTime[p] = long.MaxValue;
                            continue;
                        }

                        active = true;
                        if (s.TimeColumn >= 0)
                        {
                            s.MaxTime[p] = Math.Max(s.MaxTime[p], MaxEventTime(batch, s.TimeColumn));
                        }

                        if (batch.Count == 0)
                        {
                            batch.Dispose();
                        }
                        else
                        {
                            s.Target.OnBatch(batch);
                        }
                    }

                    if (s.TimeColumn >= 0)
                    {
                        var min = s.MaxTime.Min();
                        if (min != long.MinValue && min != long.MaxValue)
                        {
                            var wm = min - s.Delay - 1;
                            if (wm > s.EmittedWatermark)
                            {
                                s.EmittedWatermark = wm;
                                s.Target.OnWatermark(wm);
                            }
                        }
                    }

                    if (s.Done.All(d => d))
                    {
                        s.Ended = true;
                        s.Target.OnWatermark(long.MaxValue);
                        s.Target.OnEnd();
                    }
                }
            }
        }
        finally
        {
            foreach (var s in states)
            {
                foreach (var r in s.Readers)
                {
                    r.Dispose();
                }
            }
        }
    }

    private static long MaxEventTime(ColumnBatch batch, int column)
    {
        var col = batch.ColumnAt<long>(column);
        var values = col.Values;
        var max = long.MinValue;
        for (var i = 0; i < batch.Count; i++)
        {
            if (values[i] > max && !col.IsNull(i) && batch.IsLive(i))
            {
                max = values[i];
            }
        }

        return max;
    }
}
