using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>Chooses the engine operator for each stateful logical node (aggregates, windows, joins, Top-N, sort).</summary>
internal static class PhysicalOperators
{
    /// <summary>An <see cref="Streams.Engine.Operators.IOperator"/> or <see cref="Streams.Engine.Operators.ITwoInputOperator"/> for <paramref name="node"/>.</summary>
    public static object Create(LogicalNode node, JobContext context) => node switch
    {
        _ => throw new NotSupportedException($"not supported yet: {node.Describe()}"),
    };
}
