using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Engine.Runtime.Graph;

/// <summary>How rows travel over an edge from the tasks of one node to the tasks of the next.</summary>
internal enum EdgeKind : byte
{
    /// <summary>Task i feeds task i (both sides have the same parallelism).</summary>
    Forward,
    /// <summary>Batches go round-robin to the downstream tasks.</summary>
    Rebalance,
    /// <summary>Rows go to the task that owns their key (hash of the key columns).</summary>
    Hash,
}

/// <summary>A connection from an output port of one node to an input side of another.</summary>
internal sealed record GraphEdge(GraphNode From, int FromPort, GraphNode To, JoinSide Side, EdgeKind Kind, int[] KeyColumns);

/// <summary>One operator in a node's chain: its name and how to make the instance for task i.</summary>
internal sealed record ChainedOperator(string Name, Func<int, IOperator> Factory);

/// <summary>
/// A vertex of the job graph: a head (a source partition, an input channel, or a two-input operator) followed by a
/// chain of one-input operators that run in the same task with direct calls. It runs as <see cref="Parallelism"/> tasks.
/// </summary>
internal sealed class GraphNode(int id, string name, int parallelism)
{
    public int Id { get; } = id;

    public string Name { get; } = name;

    /// <summary>
    /// The node's name in checkpoints (source offsets, operator state, sink transactions): <see cref="Name"/>, or with a
    /// suffix when an earlier node has the same name, so two window aggregates or two scans of one table never share state.
    /// </summary>
    public string StateName { get; set; } = name;

    public int Parallelism { get; } = parallelism;

    public ISourceConnector? Source { get; init; }

    public WatermarkStrategy? Watermarks { get; init; }

    public Func<int, ITwoInputOperator>? TwoInput { get; init; }

    public List<ChainedOperator> Chain { get; } = [];

    public List<GraphEdge> Inputs { get; } = [];

    /// <summary>Edges leaving each port: port 0 is the end of the chain, others are side outputs.</summary>
    public List<List<GraphEdge>> Ports { get; } = [[]];

    public Dictionary<OutputTag, int> SidePorts { get; } = [];

    /// <summary>True once a sink ends the chain: nothing may be appended.</summary>
    public bool Terminated { get; set; }

    public Schema? OutputSchema { get; set; }

    public int PortOf(OutputTag tag)
    {
        if (!SidePorts.TryGetValue(tag, out var port))
        {
            port = Ports.Count;
            Ports.Add([]);
            SidePorts[tag] = port;
        }

        return port;
    }
}
