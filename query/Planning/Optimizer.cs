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
            case JoinNode j when WindowMaxOf(j) is { } prune:
                return prune;

            case JoinNode j when WindowTopOf(j) is { } top:
                return top;

            case JoinNode { IsWindowJoin: false, Interval: null } j when JoinPlanner.IsWindowJoin(j.Left, j.Right, j.LeftKeys, j.RightKeys):
                // An input became windowed by a rewrite below (a regrouped window aggregate): now it is a window join.
                return new JoinNode(j.Left, j.Right, j.Kind, j.LeftKeys, j.RightKeys, j.Residual, null, true, j.Schema);

            case AggregateNode { Window: null } agg when agg.Input.WindowColumns is { Window.Kind: "TUMBLE" or "HOP" } w && agg.Keys.Contains(w.Start) && agg.Keys.Contains(w.End):
                return Regroup(agg, w);

            case AggregateNode { Input: JoinNode j } agg when PruneJoin(j, AggregateColumns(agg)) is { } pruned:
                {
                    int Map(int i) => i < 0 ? i : pruned.Map[i];
                    var aggs = agg.Aggregates.Select(a => a with { ArgColumn = Map(a.ArgColumn), FilterColumn = Map(a.FilterColumn) }).ToArray();
                    var window = agg.Window is null ? null : agg.Window with { TimeColumn = Map(agg.Window.TimeColumn) };
                    return new AggregateNode(pruned.Join, agg.Keys.Select(Map).ToArray(), aggs, window, agg.Schema);
                }

            case ProjectNode { Input: JoinNode j } p when PruneJoin(j, ExprColumns(p.Exprs)) is { } pruned:
                return new ProjectNode(pruned.Join, p.Exprs.Select(e => BoundExprs.Remap(e, c => c with { Index = pruned.Map[c.Index] })).ToArray(), p.Schema);

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

    /// <summary>
    /// GROUP BY window_start, window_end (and maybe more) of rows that carry a window: a window aggregate, as in Flink,
    /// not a changelog aggregate. Windows of one size end on multiples of the slide, so a tumbling window of one slide
    /// over window_end, shifted by 1 ms, holds exactly the rows of one upstream window and fires once that window is complete.
    /// </summary>
    private static LogicalNode Regroup(AggregateNode agg, WindowAttributes w)
    {
        var unit = w.Window.Kind == "TUMBLE" ? w.Window.SizeMs : w.Window.SlideMs;
        var window = new WindowDef("TUMBLE", w.End, unit, 0, 0, OffsetMs: w.Window.OffsetMs + 1, Regroups: w.Window);
        var k = agg.Keys.Count;
        var fields = agg.Schema.Fields.Take(k)
            .Append(new Field("window_start", DataType.Timestamp, false)).Append(new Field("window_end", DataType.Timestamp, false))
            .Concat(agg.Schema.Fields.Skip(k)).ToArray();
        var regrouped = new AggregateNode(agg.Input, agg.Keys, agg.Aggregates, window, new Schema(fields));
        // The input's own window_start/window_end are among the keys; the tumbling window's bounds are dropped.
        var exprs = Enumerable.Range(0, fields.Length).Where(i => i < k || i >= k + 2).Select(i => (BoundExpr)new BoundColumn(i, fields[i].Type, fields[i].Name)).ToArray();
        return new ProjectNode(regrouped, exprs, agg.Schema);
    }

    /// <summary>
    /// <c>s JOIN (SELECT MAX(v), window_end FROM TUMBLE(s) GROUP BY window_start, window_end) m ON s.v = m.max AND
    /// s.t BETWEEN m.window_end - size AND m.window_end</c> (Nexmark q7): the rows at their window's maximum. Recognised when
    /// both sides read the same columns of the same scan; the join would otherwise buffer every row of a window.
    /// </summary>
    private static LogicalNode? WindowMaxOf(JoinNode j)
    {
        if (j is not { Kind: "INNER", Residual: null, Interval: { LeftUpperTime: < 0 } iv, LeftKeys.Count: 1, Right: ProjectNode rp }
            || rp.Input is not AggregateNode { Window: { Kind: "TUMBLE", Regroups: null, OffsetMs: 0 } window, Aggregates: [{ Function: "MAX", Distinct: false, FilterColumn: < 0 } max] } agg
            || agg.Input is not ProjectNode pre || agg.Keys.Any(k => pre.Exprs[k] is not BoundLiteral)
            || iv.LowerMs != 0 || iv.UpperMs != window.SizeMs
            || j.Left.Schema[j.LeftKeys[0]].Type is not (DataType.Int64 or DataType.Int32))
        {
            return null;
        }

        var k = agg.Keys.Count;
        if (rp.Exprs[j.RightKeys[0]] is not BoundColumn { Index: var maxColumn } || maxColumn != k + 2
            || rp.Exprs[iv.RightTime] is not BoundColumn { Index: var endColumn } || endColumn != k + 1
            || ScanColumn(j.Left, j.LeftKeys[0]) is not { } value || ScanColumn(agg.Input, max.ArgColumn) != value
            || ScanColumn(j.Left, iv.LeftTime) is not { } time || ScanColumn(agg.Input, window.TimeColumn) != time)
        {
            return null;
        }

        var prune = new WindowMaxPruneNode(j.Left, iv.LeftTime, j.LeftKeys[0], window.SizeMs);
        var n = j.Left.Schema.Count;
        var maxOut = new BoundColumn(n, DataType.Int64, "max");
        var endOut = new BoundColumn(n + 1, DataType.Timestamp, "window_end");
        var exprs = new List<BoundExpr>();
        for (var i = 0; i < n; i++)
        {
            exprs.Add(new BoundColumn(i, j.Left.Schema[i].Type, j.Left.Schema[i].Name));
        }

        foreach (var e in rp.Exprs)
        {
            BoundExpr? mapped = e switch
            {
                BoundColumn c when c.Index == k + 2 && j.Schema[exprs.Count].Type == DataType.Int64 => maxOut,
                BoundColumn c when c.Index == k + 1 => endOut,
                BoundColumn c when c.Index == k => new BoundCall("-", [endOut, new BoundInterval(window.SizeMs)], DataType.Timestamp),
                _ => null,
            };
            if (mapped is null)
            {
                return null;
            }

            exprs.Add(mapped);
        }

        return new ProjectNode(prune, exprs, j.Schema);
    }

    /// <summary>
    /// <c>x JOIN (SELECT MAX(v) AS m, window_start, window_end FROM x GROUP BY window_start, window_end) ON both window
    /// bounds AND x.v &gt;= m</c> (or <c>=</c>), where x's rows carry their window (Nexmark q5, hot items): the rows of x at
    /// their window's maximum. As a join it computes x twice (or fans it out) and holds every row of x until its window
    /// completes; a <see cref="WindowMaxPruneNode"/> over x's window_end keeps only the rows at the running maximum. Both
    /// sides must read the same x (same rows: <see cref="SharedSubplans.SameRows"/>) through column-only projections.
    /// </summary>
    private static LogicalNode? WindowTopOf(JoinNode j)
    {
        var n = j.Left.Schema.Count;
        if (j is not { Kind: "INNER", Interval: null }
            || j.Schema.Count != n + j.Right.Schema.Count
            || Trace(j.Right, 0).Node is not AggregateNode { Window: { Kind: "TUMBLE", Regroups: not null, SizeMs: > 1 } window, Keys.Count: 2, Aggregates: [{ Function: "MAX", Distinct: false, FilterColumn: < 0 } max] } agg
            || agg.Input.WindowColumns is not { } w || !agg.Keys.Contains(w.Start) || !agg.Keys.Contains(w.End) || window.TimeColumn != w.End)
        {
            return null;
        }

        // The value compared with the right's MAX: a residual v >= max (">=" and "<=" must point from v to the maximum),
        // or v = max, which the binder made a third key pair.
        var k = agg.Keys.Count;
        var keys = j.LeftKeys.Zip(j.RightKeys).ToList();
        int left, right;
        switch (j.Residual)
        {
            case BoundCall { Name: ">=" or "<=" or "=", Args: [BoundColumn a, BoundColumn b] } cmp when keys.Count == 2:
                (left, right) = a.Index < n ? (a.Index, b.Index - n) : (b.Index, a.Index - n);
                if (left >= n || right < 0 || (cmp.Name == ">=" && a.Index >= n) || (cmp.Name == "<=" && a.Index < n))
                {
                    return null;
                }

                break;
            case null when keys.Count == 3 && keys.FindIndex(p => Trace(j.Right, p.Second) == (agg, k + 2)) is var at and >= 0:
                (left, right) = keys[at];
                keys.RemoveAt(at);
                break;
            default:
                return null;
        }

        if (j.Left.Schema[left].Type is not (DataType.Int64 or DataType.Int32))
        {
            return null;
        }

        var x = Trace(j.Left, left);
        var maxArg = Trace(agg.Input, max.ArgColumn);
        var maxOfRight = Trace(j.Right, right);
        if (maxOfRight.Node != agg || maxOfRight.Column != k + 2 || maxArg.Column != x.Column || !SharedSubplans.SameRows(x.Node, maxArg.Node))
        {
            return null;
        }

        // Each key pair joins a window bound of x with the same bound as the aggregate grouped it.
        var leftOfBound = new Dictionary<int, int>();
        foreach (var (lk, rk) in keys)
        {
            var l = Trace(j.Left, lk);
            var r = Trace(j.Right, rk);
            if (!ReferenceEquals(l.Node, x.Node) || r.Node != agg || r.Column >= k)
            {
                return null;
            }

            var bound = Trace(agg.Input, agg.Keys[r.Column]);
            if (!ReferenceEquals(bound.Node, maxArg.Node) || bound.Column != l.Column)
            {
                return null;
            }

            leftOfBound[r.Column] = lk;
        }

        if (leftOfBound.Count != 2 || !leftOfBound.TryGetValue(agg.Keys[0] == w.End ? 0 : 1, out var endColumn))
        {
            return null;
        }

        var prune = new WindowMaxPruneNode(j.Left, endColumn, left, window.SizeMs, window.OffsetMs, partitionColumn: endColumn);
        var exprs = Enumerable.Range(0, n).Select(i => (BoundExpr)new BoundColumn(i, j.Left.Schema[i].Type, j.Left.Schema[i].Name)).ToList();
        for (var i = 0; i < j.Right.Schema.Count; i++)
        {
            var type = j.Schema[n + i].Type;
            var from = Trace(j.Right, i);
            BoundExpr? mapped = from.Column switch
            {
                _ when from.Node != agg => null,
                var c when c < k => new BoundColumn(leftOfBound[c], j.Left.Schema[leftOfBound[c]].Type, j.Left.Schema[leftOfBound[c]].Name),
                var c when c == k + 2 => type == DataType.Int64 ? new BoundColumn(n, DataType.Int64, "max") : new BoundCall("CAST", [new BoundColumn(n, DataType.Int64, "max")], type),
                _ => null,
            };
            if (mapped is null || mapped.Type != type)
            {
                return null;
            }

            exprs.Add(mapped);
        }

        return new ProjectNode(prune, exprs, j.Schema);
    }

    /// <summary>Where column <paramref name="column"/> of <paramref name="node"/> comes from through column-only projections.</summary>
    private static (LogicalNode Node, int Column) Trace(LogicalNode node, int column)
    {
        while (node is ProjectNode p && p.Exprs[column] is BoundColumn c)
        {
            column = c.Index;
            node = p.Input;
        }

        return (node, column);
    }

    /// <summary>The scan and column a column of <paramref name="node"/> reads unchanged (through projections), or null.</summary>
    private static (CatalogEntry Source, string? Filter, int Column)? ScanColumn(LogicalNode node, int column)
    {
        while (node is ProjectNode p)
        {
            if (p.Exprs[column] is not BoundColumn c)
            {
                return null;
            }

            column = c.Index;
            node = p.Input;
        }

        return node is ScanNode scan ? (scan.Source, scan.PushedFilter?.Render(scan.Schema), column) : null;
    }

    private static HashSet<int> AggregateColumns(AggregateNode agg)
    {
        var used = new HashSet<int>(agg.Keys);
        foreach (var a in agg.Aggregates)
        {
            used.Add(a.ArgColumn);
            used.Add(a.FilterColumn);
        }

        if (agg.Window is not null)
        {
            used.Add(agg.Window.TimeColumn);
        }

        used.Remove(-1);
        return used;
    }

    private static HashSet<int> ExprColumns(IEnumerable<BoundExpr> exprs)
    {
        var used = new HashSet<int>();
        foreach (var e in exprs)
        {
            BoundExprs.CollectColumns(e, used);
        }

        return used;
    }

    /// <summary>
    /// Join input column pruning: projects each join input down to the columns used above the join or by the join itself
    /// (keys, time bounds, residual, event time), so unused columns are neither exchanged nor kept in join state.
    /// Null when every column is used; otherwise the pruned join and the old → new column map of its output.
    /// </summary>
    private static (JoinNode Join, int[] Map)? PruneJoin(JoinNode j, HashSet<int> usedAbove)
    {
        if (j.IsWindowJoin)
        {
            // The window join is wired from the window assignments below it; it keeps its inputs as they are.
            return null;
        }

        var n = j.Left.Schema.Count;
        var used = new HashSet<int>(usedAbove);
        used.UnionWith(j.LeftKeys);
        used.UnionWith(j.RightKeys.Select(k => k + n));
        if (j.Interval is { } iv)
        {
            used.UnionWith([iv.LeftTime, iv.RightTime + n, iv.LeftUpperTime]);
        }

        if (j.Residual is not null)
        {
            BoundExprs.CollectColumns(j.Residual, used);
        }

        // Keep the event time of each side: watermarks and the output's time attribute refer to it.
        used.UnionWith([j.Left.Schema.EventTimeIndex, j.Right.Schema.EventTimeIndex < 0 ? -1 : j.Right.Schema.EventTimeIndex + n]);
        used.Remove(-1);
        var leftCols = used.Where(c => c < n).Order().ToArray();
        var rightCols = used.Where(c => c >= n).Select(c => c - n).Order().ToArray();
        if (leftCols.Length == n && rightCols.Length == j.Right.Schema.Count)
        {
            return null;
        }

        var map = new int[j.Schema.Count];
        Array.Fill(map, -1);
        for (var i = 0; i < leftCols.Length; i++)
        {
            map[leftCols[i]] = i;
        }

        for (var i = 0; i < rightCols.Length; i++)
        {
            map[n + rightCols[i]] = leftCols.Length + i;
        }

        var left = Columns(j.Left, leftCols);
        var right = Columns(j.Right, rightCols);
        var kept = leftCols.Concat(rightCols.Select(c => c + n)).ToArray();
        var schema = new Schema(kept.Select(c => j.Schema[c]), j.Schema.EventTimeIndex < 0 ? -1 : map[j.Schema.EventTimeIndex]);
        var interval = j.Interval is null ? null : j.Interval with
        {
            LeftTime = map[j.Interval.LeftTime],
            RightTime = map[j.Interval.RightTime + n] - leftCols.Length,
            LeftUpperTime = j.Interval.LeftUpperTime < 0 ? -1 : map[j.Interval.LeftUpperTime],
        };
        var residual = j.Residual is null ? null : BoundExprs.Remap(j.Residual, c => c with { Index = map[c.Index] });
        var join = new JoinNode(left, right, j.Kind, j.LeftKeys.Select(k => map[k]).ToArray(), j.RightKeys.Select(k => map[k + n] - leftCols.Length).ToArray(),
            residual, interval, false, schema);
        return (join, map);
    }

    /// <summary>The columns <paramref name="cols"/> of <paramref name="input"/> (the input itself when that is all of them).</summary>
    private static LogicalNode Columns(LogicalNode input, int[] cols)
    {
        if (cols.Length == input.Schema.Count)
        {
            return input;
        }

        var schema = new Schema(cols.Select(c => input.Schema[c]), Array.IndexOf(cols, input.Schema.EventTimeIndex));
        return new ProjectNode(input, cols.Select(c => (BoundExpr)new BoundColumn(c, input.Schema[c].Type, input.Schema[c].Name)).ToArray(), schema);
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
