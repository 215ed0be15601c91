using Streams.Engine.Data;
using Streams.Query.Binding;
using Streams.Query.Compilation;

namespace Streams.Query.Planning;

/// <summary>
/// Rule-based rewrites of the logical plan, applied bottom-up until nothing changes: constant folding, filter merging,
/// predicate pushdown (through projections, unions and window assignment, into join inputs and into the scan),
/// implicit joins turned into keyed joins, and merging of adjacent projections.
/// </summary>
internal static class Optimizer
{
    public static LogicalNode Optimize(LogicalNode node)
    {
        for (var pass = 0; pass < 8; pass++)
        {
            var next = Rewrite(node);
            if (ReferenceEquals(next, node))
            {
                break;
            }

            node = next;
        }

        return node;
    }

    private static LogicalNode Rewrite(LogicalNode node)
    {
        var inputs = node.Inputs.Select(Rewrite).ToArray();
        if (!inputs.SequenceEqual(node.Inputs))
        {
            node = node.WithInputs(inputs);
        }

        switch (node)
        {
            case FilterNode f:
                {
                    var pred = Fold(f.Predicate);
                    if (pred is BoundLiteral { Value: true })
                    {
                        return f.Input;
                    }

                    return PushDown(f.Input, pred) ?? (ReferenceEquals(pred, f.Predicate) ? f : new FilterNode(f.Input, pred));
                }

            case ProjectNode p:
                {
                    var folded = p.Exprs.Select(Fold).ToArray();
                    var changed = !folded.SequenceEqual(p.Exprs);
                    if (p.Input is ProjectNode inner && CanMerge(p, inner))
                    {
                        var merged = folded.Select(e => BoundExprs.Remap(e, c => inner.Exprs[c.Index])).ToArray();
                        return new ProjectNode(inner.Input, merged, p.Schema);
                    }

                    return changed ? new ProjectNode(p.Input, folded, p.Schema) : p;
                }

            case AggregateNode { Input: ProjectNode pre } agg when pre.Exprs.All(e => e is BoundColumn):
                {
                    // The aggregate reads the columns where they already are: no batch copy before the exchange.
                    int Map(int i) => i < 0 ? i : ((BoundColumn)pre.Exprs[i]).Index;
                    var aggs = agg.Aggregates.Select(a => a with { ArgColumn = Map(a.ArgColumn), FilterColumn = Map(a.FilterColumn) }).ToArray();
                    var window = agg.Window is null ? null : agg.Window with { TimeColumn = Map(agg.Window.TimeColumn) };
                    return new AggregateNode(pre.Input, agg.Keys.Select(Map).ToArray(), aggs, window, agg.Schema);
                }

            default:
                return node;
        }
    }

    private static bool CanMerge(ProjectNode outer, ProjectNode inner)
    {
        var uses = new int[inner.Exprs.Count];
        foreach (var e in outer.Exprs)
        {
            CountUses(e, uses);
        }

        // Only inline a computed column used once; columns and literals are free to repeat.
        for (var i = 0; i < uses.Length; i++)
        {
            if (uses[i] > 1 && inner.Exprs[i] is not (BoundColumn or BoundLiteral))
            {
                return false;
            }
        }

        return outer.Schema.EventTimeIndex < 0 || inner.Input.Schema.EventTimeIndex >= 0;
    }

    private static void CountUses(BoundExpr e, int[] uses)
    {
        if (e is BoundColumn c)
        {
            uses[c.Index]++;
        }

        foreach (var child in e.Children)
        {
            CountUses(child, uses);
        }
    }

    /// <summary>Moves <paramref name="pred"/> below <paramref name="input"/> when it can; null when it cannot.</summary>
    private static LogicalNode? PushDown(LogicalNode input, BoundExpr pred)
    {
        switch (input)
        {
            case FilterNode below:
                return new FilterNode(below.Input, new BoundCall("AND", [below.Predicate, pred], DataType.Boolean));
            case ScanNode scan:
                return new ScanNode(scan.Source, scan.PushedFilter is null ? pred : new BoundCall("AND", [scan.PushedFilter, pred], DataType.Boolean), scan.Projection);
            case ProjectNode p when IsDeterministic(pred) && p.Exprs.All(IsDeterministic):
                {
                    var rewritten = BoundExprs.Remap(pred, c => p.Exprs[c.Index]);
                    return new ProjectNode(new FilterNode(p.Input, rewritten), p.Exprs, p.Schema);
                }

            case UnionNode u:
                return new UnionNode(u.Inputs.Select(i => (LogicalNode)new FilterNode(i, pred)).ToArray(), u.Schema);
            case WindowAssignNode w when MaxColumn(pred) < w.Input.Schema.Count:
                return new WindowAssignNode(new FilterNode(w.Input, pred), w.Window, w.Schema);
            case JoinNode j:
                return PushIntoJoin(j, pred);
            case OverAggregateNode o:
                return PushBelowOver(o, pred);
            default:
                return null;
        }
    }

    private static LogicalNode? PushIntoJoin(JoinNode j, BoundExpr pred)
    {
        var n = j.Left.Schema.Count;
        var leftOnly = new List<BoundExpr>();
        var rightOnly = new List<BoundExpr>();
        var both = new List<BoundExpr>();
        foreach (var part in BoundExprs.Conjuncts(pred))
        {
            var cols = new HashSet<int>();
            BoundExprs.CollectColumns(part, cols);
            if (cols.Count > 0 && cols.All(c => c < n) && IsDeterministic(part))
            {
                leftOnly.Add(part);
            }
            else if (cols.Count > 0 && cols.All(c => c >= n) && j.Kind != "LEFT" && IsDeterministic(part))
            {
                rightOnly.Add(BoundExprs.Remap(part, c => c with { Index = c.Index - n }));
            }
            else
            {
                both.Add(part);
            }
        }

        if (leftOnly.Count == 0 && rightOnly.Count == 0 && (both.Count == 0 || j.Kind == "LEFT"))
        {
            return null;
        }

        var left = leftOnly.Count > 0 ? new FilterNode(j.Left, BoundExprs.And(leftOnly)!) : j.Left;
        var right = rightOnly.Count > 0 ? new FilterNode(j.Right, BoundExprs.And(rightOnly)!) : j.Right;
        if (j.Kind == "LEFT")
        {
            LogicalNode rebuilt = j.WithInputs([left, right]);
            return both.Count > 0 ? new FilterNode(rebuilt, BoundExprs.And(both)!) : rebuilt;
        }

        // Inner and implicit (cross) joins: conditions on both sides become part of the join condition.
        var condition = new List<BoundExpr>();
        for (var i = 0; i < j.LeftKeys.Count; i++)
        {
            var l = j.LeftKeys[i];
            var r = j.RightKeys[i];
            condition.Add(new BoundCall("=", [new BoundColumn(l, j.Left.Schema[l].Type, j.Left.Schema[l].Name), new BoundColumn(n + r, j.Right.Schema[r].Type, j.Right.Schema[r].Name)], DataType.Boolean));
        }

        if (j.Interval is { } iv)
        {
            var lt = new BoundColumn(iv.LeftTime, DataType.Timestamp, j.Left.Schema[iv.LeftTime].Name);
            var rt = new BoundColumn(n + iv.RightTime, DataType.Timestamp, j.Right.Schema[iv.RightTime].Name);
            condition.Add(new BoundCall(">=", [rt, new BoundCall("+", [lt, new BoundInterval(iv.LowerMs)], DataType.Timestamp)], DataType.Boolean));
            var ut = iv.LeftUpperTime < 0 ? lt : new BoundColumn(iv.LeftUpperTime, DataType.Timestamp, j.Left.Schema[iv.LeftUpperTime].Name);
            condition.Add(new BoundCall("<=", [rt, new BoundCall("+", [ut, new BoundInterval(iv.UpperMs)], DataType.Timestamp)], DataType.Boolean));
        }

        if (j.Residual is not null)
        {
            condition.AddRange(BoundExprs.Conjuncts(j.Residual));
        }

        condition.AddRange(both);
        return JoinPlanner.Create(left, right, j.Kind == "CROSS" ? "INNER" : j.Kind, BoundExprs.And(condition), j.Schema);
    }

    /// <summary>Conjuncts on partition keys only filter whole partitions, so they may run before the OVER aggregate; others may not.</summary>
    private static LogicalNode? PushBelowOver(OverAggregateNode over, BoundExpr pred)
    {
        var below = new List<BoundExpr>();
        var above = new List<BoundExpr>();
        foreach (var part in BoundExprs.Conjuncts(pred))
        {
            var cols = new HashSet<int>();
            BoundExprs.CollectColumns(part, cols);
            (cols.Count > 0 && cols.All(over.PartitionKeys.Contains) && IsDeterministic(part) ? below : above).Add(part);
        }

        if (below.Count == 0)
        {
            return null;
        }

        LogicalNode result = over.WithInputs([new FilterNode(over.Input, BoundExprs.And(below)!)]);
        return above.Count > 0 ? new FilterNode(result, BoundExprs.And(above)!) : result;
    }

    private static int MaxColumn(BoundExpr e)
    {
        var cols = new HashSet<int>();
        BoundExprs.CollectColumns(e, cols);
        return cols.Count == 0 ? -1 : cols.Max();
    }

    private static bool IsDeterministic(BoundExpr e) => e is not BoundCall { Name: "NOW" } && e.Children.All(IsDeterministic);

    /// <summary>Evaluates sub-expressions without column references once, at plan time.</summary>
    public static BoundExpr Fold(BoundExpr e)
    {
        switch (e)
        {
            case BoundCall call:
                {
                    var args = call.Args.Select(Fold).ToArray();
                    var c = args.SequenceEqual(call.Args) ? call : call with { Args = args };
                    if (c.Name == "AND")
                    {
                        if (args.Any(a => a is BoundLiteral { Value: false }))
                        {
                            return new BoundLiteral(false, DataType.Boolean);
                        }

                        var rest = args.Where(a => a is not BoundLiteral { Value: true }).ToArray();
                        if (rest.Length == 1)
                        {
                            return rest[0];
                        }
                    }

                    if (c.Name == "OR")
                    {
                        if (args.Any(a => a is BoundLiteral { Value: true }))
                        {
                            return new BoundLiteral(true, DataType.Boolean);
                        }

                        var rest = args.Where(a => a is not BoundLiteral { Value: false }).ToArray();
                        if (rest.Length == 1)
                        {
                            return rest[0];
                        }
                    }

                    if (c.Name != "NOW" && args.All(a => a is BoundLiteral or BoundInterval) && args.Length > 0 && c.Type != DataType.Null)
                    {
                        try
                        {
                            return new BoundLiteral(ExpressionCompiler.EvaluateConstant(c), c.Type);
                        }
                        catch (Exception ex) when (ex is SqlRuntimeException or InvalidOperationException or ArgumentException or FormatException or OverflowException or InvalidCastException)
                        {
                            return c;
                        }
                    }

                    return c;
                }

            case BoundCase cs:
                {
                    var whens = cs.Whens.Select(w => (Fold(w.When), Fold(w.Then))).ToArray();
                    return cs with { Whens = whens, Else = cs.Else is null ? null : Fold(cs.Else) };
                }

            default:
                return e;
        }
    }
}
