using System.Text;

namespace Streams.Query.Planning;

/// <summary>
/// Prints EXPLAIN output: the optimised logical plan and the physical operators with their parallelism. A subtree the
/// job computes once for several consumers is printed in full where it first appears, marked <c>reuse_id=N</c>, and as
/// <c>Reused [reference_id=N]</c> everywhere else (as Flink prints reused sub-plans).
/// </summary>
internal static class PlanPrinter
{
    public static string Explain(LogicalNode plan, int parallelism, bool reuseSubplans = true)
    {
        var shared = reuseSubplans ? SharedSubplans.Of(plan) : SharedSubplans.None;
        var sb = new StringBuilder();
        sb.Append("== Logical Plan ==\n");
        Logical(plan, 0, sb, shared, []);
        sb.Append("\n== Physical Plan ==\n");
        Physical(plan, 0, sb, parallelism, shared, []);
        return sb.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>Writes the reference line and returns true when <paramref name="node"/> is shared and already printed.</summary>
    private static bool PrintedBefore(LogicalNode node, int depth, StringBuilder sb, SharedSubplans shared, HashSet<int> printed, out string mark)
    {
        var id = shared.IdOf(node);
        mark = id == 0 ? "" : $"reuse_id={id}";
        if (id == 0 || printed.Add(id))
        {
            return false;
        }

        sb.Append(' ', depth * 2).Append("Reused [reference_id=").Append(id).Append("]\n");
        return true;
    }

    private static void Logical(LogicalNode node, int depth, StringBuilder sb, SharedSubplans shared, HashSet<int> printed)
    {
        if (PrintedBefore(node, depth, sb, shared, printed, out var mark))
        {
            return;
        }

        sb.Append(' ', depth * 2).Append(node.Describe()).Append(mark.Length == 0 ? "" : $" ({mark})").Append('\n');
        foreach (var input in node.Inputs)
        {
            Logical(input, depth + 1, sb, shared, printed);
        }
    }

    private static void Physical(LogicalNode node, int depth, StringBuilder sb, int parallelism, SharedSubplans shared, HashSet<int> printed)
    {
        if (PrintedBefore(node, depth, sb, shared, printed, out var mark))
        {
            return;
        }

        var (name, keyed) = Describe(node);
        var p = keyed ? parallelism : SourceParallelism(node, parallelism);
        sb.Append(' ', depth * 2).Append(name).Append(" (parallelism=").Append(p < 0 ? "partitions" : p.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Append(mark.Length == 0 ? "" : ", " + mark).Append(")\n");
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
                    WindowMaxPruneNode { PartitionColumn: >= 0 } m => m.Input.Schema[m.PartitionColumn].Name,
                    TemporalJoinNode t => ReferenceEquals(input, t.Left) ? string.Join(",", t.LeftKeys.Select(k => t.Left.Schema[k].Name)) : string.Join(",", t.RightKeys.Select(k => t.Right.Schema[k].Name)),
                    _ => "",
                };
                sb.Append(' ', (depth + 1) * 2).Append("HashExchange [keys=(").Append(keys).Append(")]\n");
                Physical(input, depth + 2, sb, parallelism, shared, printed);
            }
            else
            {
                Physical(input, depth + 1, sb, parallelism, shared, printed);
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
