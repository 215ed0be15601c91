using Streams.Engine.Runtime;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>Chooses the engine operator for each stateful single-input node (aggregates, windows, Top-N).</summary>
internal static class PhysicalOperators
{
    /// <summary>Appends the operator for <paramref name="node"/> to <paramref name="input"/>.</summary>
    public static DataStream Wire(LogicalNode node, DataStream input, JobContext context) => node switch
    {
        _ => throw new NotSupportedException($"not supported yet: {node.Describe()}"),
    };
}
