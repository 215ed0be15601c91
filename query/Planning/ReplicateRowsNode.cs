using Streams.Engine.Data;

namespace Streams.Query.Planning;

/// <summary>
/// Writes each input row as many times as its last column says (Flink's ReplicateRows), without that column: the
/// multiset side of INTERSECT ALL / EXCEPT ALL. A retraction comes out as many times as the row it retracts.
/// </summary>
internal sealed class ReplicateRowsNode(LogicalNode input, Schema schema) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    /// <summary>The input's columns but the last (the BIGINT count).</summary>
    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    public override string Describe() => $"ReplicateRows [times={Input.Schema[^1].Name}]";

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new ReplicateRowsNode(inputs[0], Schema);
}
