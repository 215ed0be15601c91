using System.Text;

namespace Streams.Query.Planning;

/// <summary>Prints EXPLAIN output: the optimised logical plan and the physical operators with their parallelism.</summary>
internal static class PlanPrinter
{
    public static string Explain(LogicalNode plan, int parallelism)
    {
        var sb = new StringBuilder();
        sb.Append("== Logical Plan ==\n");
        sb.Append(plan.Render());
        sb.Append("\n== Physical Plan ==\n");
        Physical(plan, 0, sb, parallelism, 1);
        return sb.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>Returns the parallelism of <paramref name="node"/>'s output.</summary>
    private static void Physical(LogicalNode node, int depth, StringBuilder sb, int parallelism, int _)
    {
        var (name, keyed) = Describe(node);
        var p = keyed ? parallelism : SourceParallelism(node, parallelism);
        sb.Append(' ', depth * 2).Append(name).Append(" (parallelism=").Append(p < 0 ? "partitions" : p.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(")\n");
        foreach (var input in node.Inputs)
        {
            if (keyed && node is AggregateNode or JoinNode or TopNNode or OverAggregateNode or TemporalJoinNode or WindowMaxPruneNode)
            {
                var keys = node switch
                {
                    AggregateNode a => string.Join(",", a.Keys.Select(k => a.Input.Schema[k].Name)),
                    TopNNode t => string.Join(",", t.PartitionKeys.Select(k => t.Input.Schema[k].Name)),
                    OverAggregateNode o => string.Join(",", o.PartitionKeys.Select(k => o.Input.Schema[k].Name)),
                    JoinNode j => ReferenceEquals(input, j.Left) ? string.Join(",", j.LeftKeys.Select(k => j.Left.Schema[k].Name)) : string.Join(",", j.RightKeys.Select(k => j.Right.Schema[k].Name)),
                    TemporalJoinNode t => ReferenceEquals(input, t.Left) ? string.Join(",", t.LeftKeys.Select(k => t.Left.Schema[k].Name)) : string.Join(",", t.RightKeys.Select(k => t.Right.Schema[k].Name)),
                    _ => "",
                };
                sb.Append(' ', (depth + 1) * 2).Append("HashExchange [keys=(").Append(keys).Append(")]\n");
                Physical(input, depth + 2, sb, parallelism, 0);
            }
            else
            {
                Physical(input, depth + 1, sb, parallelism, 0);
            }
        }
    }

    private static int SourceParallelism(LogicalNode node, int parallelism) => node switch
    {
        ScanNode => -1,
        AggregateNode or JoinNode or TopNNode or OverAggregateNode or TemporalJoinNode or WindowMaxPruneNode => parallelism,
        ValuesNode => 1,
        _ => node.Inputs.Count == 0 ? -1 : node.Inputs.Select(i => SourceParallelism(i, parallelism)).Max(),
    };

    private static (string Name, bool Keyed) Describe(LogicalNode node) => node switch
    {
        ScanNode s => ($"SourceTask {s.Describe()["Scan ".Length..]}", false),
        FilterNode f => ($"FilterOperator (compiled) {f.Describe()["Filter ".Length..]}", false),
        ProjectNode p => ($"ProjectOperator (compiled) {p.Describe()["Project ".Length..]}", false),
        AggregateNode { Window: null } a => ($"GroupAggregateOperator {a.Describe()["Aggregate ".Length..]}", true),
        AggregateNode { Window.Kind: "CUMULATE" } a => ($"WindowExpand + WindowAggregateOperator {a.Describe()["WindowAggregate ".Length..]}", true),
        AggregateNode a => ($"WindowAggregateOperator {a.Describe()["WindowAggregate ".Length..]}", true),
        TemporalJoinNode t => ($"TemporalJoinOperator {t.Describe()["TemporalJoin ".Length..]}", true),
        ValuesNode v => ($"InMemorySource {v.Describe()["Values ".Length..]}", false),
        JoinNode { Interval: not null } j => ($"IntervalJoinOperator {j.Describe()["IntervalJoin ".Length..]}", true),
        JoinNode { IsWindowJoin: true } j => ($"WindowJoinOperator {j.Describe()["WindowJoin ".Length..]}", true),
        JoinNode j => ($"EquiJoinOperator {j.Describe()["Join ".Length..]}", true),
        UnionNode u => ("UnionOperator", false),
        TopNNode t => ($"TopNOperator {t.Describe()["TopN ".Length..]}", true),
        OverAggregateNode o => ($"OverAggregateOperator {o.Describe()["OverAggregate ".Length..]}", true),
        SortLimitNode s => ($"FinalSort {s.Describe()["Sort ".Length..]}", false),
        WindowAssignNode { Window.Kind: "HOP" or "CUMULATE" } w => ($"WindowExpandOperator {w.Describe()["WindowAssign ".Length..]}", false),
        WindowAssignNode w => ($"WindowAssignOperator {w.Describe()["WindowAssign ".Length..]}", false),
        ReplicateRowsNode r => ($"ReplicateRowsOperator {r.Describe()["ReplicateRows ".Length..]}", false),
        WindowMaxPruneNode m => ($"WindowMaxPruneOperator {m.Describe()["WindowMaxPrune ".Length..]}", true),
        _ => (node.Describe(), false),
    };
}
