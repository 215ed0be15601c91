using Streams.Engine.Data;

namespace Streams.Query.Planning;

/// <summary>
/// <c>stream JOIN versioned FOR SYSTEM_TIME AS OF stream.time ON keys</c>: each left row joins the right row of its key
/// valid at the left row's event time (the engine's TemporalJoinOperator). Append-only output.
/// </summary>
internal sealed class TemporalJoinNode(
    LogicalNode left,
    LogicalNode right,
    string kind,
    IReadOnlyList<int> leftKeys,
    IReadOnlyList<int> rightKeys,
    int leftTime,
    int rightTime,
    Schema schema) : LogicalNode
{
    public LogicalNode Left { get; } = left;

    public LogicalNode Right { get; } = right;

    /// <summary>INNER or LEFT.</summary>
    public string Kind { get; } = kind;

    public IReadOnlyList<int> LeftKeys { get; } = leftKeys;

    public IReadOnlyList<int> RightKeys { get; } = rightKeys;

    /// <summary>The left (stream) event-time column: the AS OF time.</summary>
    public int LeftTime { get; } = leftTime;

    /// <summary>The right (versioned table) event-time column: when each version starts.</summary>
    public int RightTime { get; } = rightTime;

    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Left, Right];

    public override bool IsUpdating => Left.IsUpdating;

    public override string Describe()
    {
        var keys = string.Join(" AND ", LeftKeys.Select((l, i) => $"{Left.Schema[l].Name} = {Right.Schema[RightKeys[i]].Name}"));
        return $"TemporalJoin [{Kind}, keys=({keys}), as of {Left.Schema[LeftTime].Name}, version time {Right.Schema[RightTime].Name}]";
    }

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) =>
        new TemporalJoinNode(inputs[0], inputs[1], Kind, LeftKeys, RightKeys, LeftTime, RightTime, Schema);
}
