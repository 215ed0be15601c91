using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Filter;
using Streams.Engine.Operators.Project;
using Streams.Engine.Operators.Sink;
using Streams.Engine.Runtime.Graph;

namespace Streams.Engine.Runtime;

/// <summary>
/// A stream of batches of one schema inside a <see cref="JobGraph"/>: what a source, an operator or a side output
/// produces. Operators appended to a stream run chained in the same task (direct calls) unless a
/// <see cref="KeyBy"/> or <see cref="Rebalance"/> asks for an exchange first.
/// </summary>
public sealed class DataStream
{
    private readonly GraphNode _node;
    private readonly int _port;
    private readonly int _chainLength;
    private readonly EdgeKind? _exchange;
    private readonly int[] _keys;
    private readonly bool _branch;
    private GraphNode? _lastAppended;

    internal DataStream(JobGraph graph, GraphNode node, int port, Schema schema, EdgeKind? exchange, int[]? keys = null, bool branch = false)
    {
        _branch = branch;
        Graph = graph;
        _node = node;
        _port = port;
        Schema = schema;
        _exchange = exchange;
        _keys = keys ?? [];
        _chainLength = node.Chain.Count;
    }

    /// <summary>The graph the stream belongs to.</summary>
    public JobGraph Graph { get; }

    /// <summary>The schema of the stream's batches.</summary>
    public Schema Schema { get; }

    /// <summary>The key columns set by <see cref="KeyBy"/>, empty when the stream is not keyed.</summary>
    public IReadOnlyList<int> KeyColumns => _keys;

    /// <summary>How many parallel tasks produce the stream.</summary>
    public int Parallelism => _node.Parallelism;

    /// <summary>
    /// Appends an operator. <paramref name="factory"/> makes the instance for each parallel task (argument: task index);
    /// <paramref name="outputSchema"/> is the schema of the batches it emits.
    /// </summary>
    public DataStream Apply(string name, Schema outputSchema, Func<int, IOperator> factory)
    {
        ArgumentNullException.ThrowIfNull(outputSchema);
        ArgumentNullException.ThrowIfNull(factory);
        var node = NodeToAppendTo(name);
        node.Chain.Add(new ChainedOperator(name, factory));
        node.OutputSchema = outputSchema;
        return new DataStream(Graph, node, 0, outputSchema, null, _exchange == EdgeKind.Hash ? _keys : null);
    }

    /// <summary>WHERE: keeps the rows <paramref name="filter"/> leaves live.</summary>
    public DataStream Filter(BatchFilter filter, string name = "filter") =>
        Apply(name, Schema, _ => new FilterOperator(filter));

    /// <summary>SELECT list: computes batches of <paramref name="outputSchema"/> with <paramref name="projector"/>.</summary>
    public DataStream Project(Schema outputSchema, BatchProjector projector, string name = "project") =>
        Apply(name, outputSchema, _ => new ProjectOperator(outputSchema, projector));

    /// <summary>
    /// Partitions the stream by <paramref name="keyColumns"/>: the next operator runs at the job's parallelism and sees every
    /// row of a key in one task. No key columns means one global group, so every row goes to the same task.
    /// </summary>
    public DataStream KeyBy(params int[] keyColumns)
    {
        ArgumentNullException.ThrowIfNull(keyColumns);
        foreach (var k in keyColumns)
        {
            if (k < 0 || k >= Schema.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(keyColumns), k, $"key column {k} is not a column of {Schema}");
            }
        }

        return new DataStream(Graph, _node, _port, Schema, EdgeKind.Hash, keyColumns, _branch);
    }

    /// <summary>True when the next operator runs after a hash exchange on <see cref="KeyColumns"/>.</summary>
    internal bool IsKeyed => _exchange == EdgeKind.Hash;

    /// <summary>
    /// This stream before its pending exchange: operators appended to it run in the producer's tasks (for a
    /// <see cref="Branch"/>, in tasks of their own right behind the producer's, with the same parallelism).
    /// </summary>
    internal DataStream WithoutExchange() => new(Graph, _node, _port, Schema, _branch ? EdgeKind.Forward : null, branch: _branch);

    /// <summary>
    /// This stream as one branch of a fan-out: the next operator runs in its own tasks behind a forward edge (or the
    /// consumer's exchange), never chained into the producer, so any number of consumers can read the same output
    /// (each gets every batch). Call it for every consumer of a stream that is used more than once.
    /// </summary>
    public DataStream Branch() => new(Graph, _node, _port, Schema, _exchange ?? EdgeKind.Forward, _keys, branch: true);

    /// <summary>Spreads the batches round-robin over the job's parallelism before the next operator.</summary>
    public DataStream Rebalance() => new(Graph, _node, _port, Schema, EdgeKind.Rebalance, branch: _branch);

    /// <summary>The rows the operator that produced this stream sends to side output <paramref name="tag"/> (late data, rejected rows).</summary>
    public DataStream SideOutput(OutputTag tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        return new DataStream(Graph, _node, _node.PortOf(tag), tag.Schema, null);
    }

    /// <summary>Writes the stream to <paramref name="sink"/>, one writer per task.</summary>
    public void To(ISinkConnector sink, string name = "sink")
    {
        ArgumentNullException.ThrowIfNull(sink);
        Apply(name, Schema, task => new SinkOperator(sink.OpenWriter(task)));
        _lastAppended!.Terminated = true;
    }

    /// <summary>
    /// Calls <paramref name="onBatch"/> with every batch (it is disposed after the call returns; copy what you keep).
    /// Calls from parallel tasks are serialised, so the callback needs no locking.
    /// </summary>
    public void ForEach(Action<ColumnBatch> onBatch, string name = "callback")
    {
        ArgumentNullException.ThrowIfNull(onBatch);
        var gate = new Lock();
        Apply(name, Schema, _ => new CallbackSinkOperator(onBatch, gate));
        _lastAppended!.Terminated = true;
    }

    internal void ConnectTo(GraphNode target, JoinSide side, int[]? keys)
    {
        CheckOpen();
        var kind = keys is not null ? EdgeKind.Hash
            : _exchange is { } e and not EdgeKind.Forward ? e
            : _node.Parallelism == target.Parallelism ? EdgeKind.Forward : EdgeKind.Rebalance;
        var edge = new GraphEdge(_node, _port, target, side, kind, keys ?? (kind == EdgeKind.Hash ? _keys : []));
        _node.Ports[_port].Add(edge);
        target.Inputs.Add(edge);
    }

    private GraphNode NodeToAppendTo(string name)
    {
        CheckOpen();
        if (_exchange is null && _port == 0 && _node.Ports[0].Count == 0)
        {
            // Same parallelism, no exchange: run in the producer's tasks with direct calls.
            _lastAppended = _node;
            return _node;
        }

        var parallelism = _exchange is null or EdgeKind.Forward ? _node.Parallelism : Graph.Options.Parallelism;
        var node = Graph.AddNode(name, parallelism, n => n);
        ConnectTo(node, JoinSide.Left, null);
        _lastAppended = node;
        return node;
    }

    private void CheckOpen()
    {
        if (_node.Terminated && _port == 0)
        {
            throw new InvalidOperationException($"'{_node.Name}' ends in a sink: nothing can follow it");
        }

        if (_port == 0 && _node.Chain.Count != _chainLength)
        {
            throw new InvalidOperationException(
                $"this stream of '{_node.Name}' already feeds a chained operator ('{_node.Chain[^1].Name}'); to use it twice, branch before chaining with Rebalance() or KeyBy()");
        }
    }
}
