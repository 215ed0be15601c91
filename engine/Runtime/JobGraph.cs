using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Runtime.Graph;

namespace Streams.Engine.Runtime;

/// <summary>
/// Builds a dataflow job: sources, chains of operators, key exchanges, two-input operators and sinks.
/// Call <see cref="Build"/> once the graph is complete, then <see cref="Job.RunAsync"/>.
/// </summary>
/// <example>
/// <code>
/// var graph = new JobGraph(new JobOptions { Parallelism = 4 });
/// graph.Source("bids", connector, schema, new WatermarkStrategy(2, 5000))
///      .KeyBy(0)
///      .WindowAggregate(new WindowAggregateSpec(2, WindowSpec.Tumble(10_000), [0], [AggregateSpec.CountStar("n")]))
///      .To(sink);
/// await graph.Build().RunAsync(ct);
/// </code>
/// </example>
public sealed class JobGraph
{
    private readonly List<GraphNode> _nodes = [];

    /// <summary>Creates an empty graph with <paramref name="options"/> (defaults when null).</summary>
    public JobGraph(JobOptions? options = null) => Options = options ?? new JobOptions();

    /// <summary>The job's settings.</summary>
    public JobOptions Options { get; }

    internal IReadOnlyList<GraphNode> Nodes => _nodes;

    /// <summary>
    /// Adds a source: one task per partition of <paramref name="source"/>, each generating its own watermarks with
    /// <paramref name="watermarks"/> (none: only end of input advances event time, to +infinity).
    /// </summary>
    public DataStream Source(string name, ISourceConnector source, Schema schema, WatermarkStrategy? watermarks = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(schema);
        if (watermarks is not null && (watermarks.EventTimeColumn < 0 || watermarks.EventTimeColumn >= schema.Count || schema[watermarks.EventTimeColumn].Type != DataType.Timestamp))
        {
            throw new ArgumentException($"source '{name}': the watermark's event-time column {watermarks.EventTimeColumn} is not a TIMESTAMP column of {schema}", nameof(watermarks));
        }

        var node = AddNode(name, Math.Max(1, source.PartitionCount), n => new GraphNode(n.Id, n.Name, n.Parallelism) { Source = source, Watermarks = watermarks });
        node.OutputSchema = schema;
        return new DataStream(this, node, 0, schema, null);
    }

    /// <summary>
    /// Joins or unites two streams with a two-input operator running at the job's parallelism. When key columns are
    /// given, each side is hash-partitioned by them (equal keys meet in the same task); otherwise both are rebalanced.
    /// The runtime aligns barriers and delivers the minimum of both inputs' watermarks.
    /// </summary>
    public DataStream Connect(string name, DataStream left, DataStream right, Schema outputSchema, Func<int, ITwoInputOperator> factory, int[]? leftKeys = null, int[]? rightKeys = null, int? parallelism = null)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        ArgumentNullException.ThrowIfNull(factory);
        if ((leftKeys is null) != (rightKeys is null) || (leftKeys is not null && leftKeys.Length != rightKeys!.Length))
        {
            throw new ArgumentException($"'{name}': both sides need the same number of key columns, or none");
        }

        var p = parallelism ?? Options.Parallelism;
        var node = AddNode(name, p, n => new GraphNode(n.Id, n.Name, n.Parallelism) { TwoInput = factory });
        node.OutputSchema = outputSchema;
        left.ConnectTo(node, JoinSide.Left, leftKeys);
        right.ConnectTo(node, JoinSide.Right, rightKeys);
        return new DataStream(this, node, 0, outputSchema, null);
    }

    /// <summary>Freezes the graph into a runnable job. The graph must not change afterwards.</summary>
    public Job Build()
    {
        foreach (var node in _nodes)
        {
            if (node.Source is null && node.Inputs.Count == 0)
            {
                throw new InvalidOperationException($"node '{node.Name}' has no input");
            }
        }

        return new Job(this);
    }

    internal GraphNode AddNode(string name, int parallelism, Func<GraphNode, GraphNode> create)
    {
        if (parallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(parallelism), parallelism, "parallelism must be at least 1");
        }

        var node = create(new GraphNode(_nodes.Count, name, parallelism));
        // Graphs build in plan order, so the k-th node of a name gets the same state name in every run of the job.
        var stateName = name;
        for (var k = 2; _nodes.Exists(n => n.StateName == stateName); k++)
        {
            stateName = $"{name}~{k}";
        }

        node.StateName = stateName;
        _nodes.Add(node);
        return node;
    }
}
