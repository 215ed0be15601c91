using Streams.Engine.Data;

namespace Streams.Query.Planning;

/// <summary>VALUES: constant rows (values already converted to the column types), read as a bounded one-partition source.</summary>
internal sealed class ValuesNode(IReadOnlyList<object?[]> rows, Schema schema) : LogicalNode
{
    public IReadOnlyList<object?[]> Rows { get; } = rows;

    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [];

    public override bool IsUpdating => false;

    public override string Describe() => $"Values [rows={Rows.Count}]";

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => this;
}
