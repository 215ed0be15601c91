using System.Text;
using Streams.Engine.Data;
using Streams.Engine.Operators.OverAggregate;

namespace Streams.Query.Planning;

/// <summary>
/// Aggregates OVER (PARTITION BY keys ORDER BY time frame): every input row comes out once, in event-time order per
/// partition, followed by one column per aggregate over its frame. Output: the input columns, then the aggregates.
/// </summary>
internal sealed class OverAggregateNode(LogicalNode input, IReadOnlyList<int> partitionKeys, int timeColumn, OverFrame frame, IReadOnlyList<AggregateCall> aggregates, Schema schema) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    public IReadOnlyList<int> PartitionKeys { get; } = partitionKeys;

    /// <summary>The event-time column of the input the partition is ordered by (ascending).</summary>
    public int TimeColumn { get; } = timeColumn;

    public OverFrame Frame { get; } = frame;

    public IReadOnlyList<AggregateCall> Aggregates { get; } = aggregates;

    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    /// <summary>Every row comes out once, final: the binder admits only insert-only inputs.</summary>
    public override bool IsUpdating => false;

    public override string Describe()
    {
        var sb = new StringBuilder("OverAggregate [partition=(");
        sb.Append(string.Join(",", PartitionKeys.Select(k => Input.Schema[k].Name)));
        sb.Append("), order=").Append(Input.Schema[TimeColumn].Name).Append(" ASC");
        sb.Append(", frame=").Append(Frame);
        sb.Append(", aggs=").Append(string.Join(", ", Aggregates.Select(a => a.Render(Input.Schema))));
        return sb.Append(']').ToString();
    }

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new OverAggregateNode(inputs[0], PartitionKeys, TimeColumn, Frame, Aggregates, Schema);
}
