using Streams.Engine.Data;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

internal sealed partial class Binder
{
    private static readonly HashSet<string> LegacyWindowFunctions = new(StringComparer.OrdinalIgnoreCase) { "TUMBLE", "HOP", "SESSION" };

    /// <summary>Output column resolution after GROUP BY: keys, aggregates and window bounds by their rendered form.</summary>
    private sealed class AggregateContext
    {
        public required Scope InputScope { get; init; }

        public Dictionary<string, int> KeyColumns { get; } = [];

        public Dictionary<string, int> AggColumns { get; } = [];

        public int WindowStart { get; set; } = -1;

        public int WindowEnd { get; set; } = -1;

        /// <summary>Input column indexes of window_start / window_end (window TVF) in the pre-aggregate scope.</summary>
        public HashSet<int> TvfWindowStart { get; } = [];

        public HashSet<int> TvfWindowEnd { get; } = [];

        public HashSet<int> TvfWindowTime { get; } = [];

        public required Schema OutputSchema { get; set; }

        /// <summary>The columns subqueries in SELECT and HAVING were joined in as, after the aggregate's own.</summary>
        public Dictionary<SqlExpr, BoundExpr> Subqueries { get; set; } = new(ReferenceEqualityComparer.Instance);
    }

    private (LogicalNode, Scope) BindAggregate(SelectQuery q, List<SelectItem> items, List<SqlExpr> groupBy, LogicalNode input, Scope scope)
    {
        // Find the window: a window TVF below (grouped by window_start/window_end) or a legacy TUMBLE(...) in GROUP BY.
        WindowDef? window = null;
        var tvfInput = UnwrapWindowAssign(input, out var filtersAbove);
        var keyAsts = new List<SqlExpr>();
        SqlExpr? legacyWindow = null;
        var ctx = new AggregateContext { InputScope = scope, OutputSchema = input.Schema };
        foreach (var g in groupBy)
        {
            if (g is CallExpr { Over: null } call && LegacyWindowFunctions.Contains(call.Name))
            {
                if (legacyWindow is not null)
                {
                    throw new SqlException(g.Pos, "only one group window per GROUP BY");
                }

                legacyWindow = g;
                window = BindLegacyWindow(call, scope, input);
                continue;
            }

            keyAsts.Add(g);
        }

        // Pre-aggregate projection: keys, then aggregate arguments and filters, then the time column.
        var pre = new List<BoundExpr>();
        var preNames = new List<string>();
        var keys = new List<int>();
        var keyNames = new List<string>();
        var keyIsWindowStart = -1;
        var keyIsWindowEnd = -1;
        var boundKeys = new List<BoundExpr>();
        foreach (var k in keyAsts)
        {
            BoundExpr b;
            if (k is LiteralExpr { Value: int ordinal } && ordinal >= 1 && ordinal <= items.Count && items[ordinal - 1].Expr is { } target && !ContainsAggregate(target))
            {
                b = BindExpr(target, scope);
            }
            else
            {
                b = BindExpr(k, scope);
            }

            if (tvfInput is WindowAssignNode wa && b is BoundColumn bc && bc.Index >= wa.Input.Schema.Count)
            {
                var which = bc.Index - wa.Input.Schema.Count;
                window ??= wa.Window;
                if (which == 0)
                {
                    keyIsWindowStart = bc.Index;
                    ctx.TvfWindowStart.Add(bc.Index);
                }
                else if (which == 1)
                {
                    keyIsWindowEnd = bc.Index;
                    ctx.TvfWindowEnd.Add(bc.Index);
                }
                else
                {
                    ctx.TvfWindowTime.Add(bc.Index);
                }

                continue;
            }

            RejectInterval(b, k.Pos);
            var r = b.Render(null);
            if (ctx.KeyColumns.ContainsKey(r))
            {
                continue;
            }

            ctx.KeyColumns[r] = keys.Count;
            keys.Add(pre.Count);
            pre.Add(b);
            boundKeys.Add(b);
            preNames.Add(b is BoundColumn kc ? kc.Name : "$key" + keys.Count);
            keyNames.Add(b is BoundColumn kc2 ? kc2.Name : "EXPR$" + keys.Count);
        }

        if (keys.Count == 0)
        {
            // A global aggregate still runs keyed: one constant hidden key sends every row to one task.
            keys.Add(pre.Count);
            pre.Add(new BoundLiteral(0, DataType.Int32));
            preNames.Add("$global");
            keyNames.Add("$global");
        }

        var windowed = window is not null;
        if (tvfInput is WindowAssignNode && window is not null && legacyWindow is null && (keyIsWindowStart < 0 || keyIsWindowEnd < 0) && window.Kind != "SESSION")
        {
            // Flink requires both; accept either, the other is derived.
        }

        if (tvfInput is WindowAssignNode && window is null)
        {
            throw new SqlException(q.Pos, "a query on a window TVF must GROUP BY window_start and window_end");
        }

        // With a TVF window, the aggregate reads the TVF's input (the window is the operator's job).
        var aggInput = input;
        var aggScope = scope;
        if (tvfInput is WindowAssignNode assign && window is not null && legacyWindow is null)
        {
            aggInput = RebuildWithout(input, assign, filtersAbove);
        }

        // Collect aggregate calls from SELECT and HAVING.
        var calls = new List<CallExpr>();
        foreach (var item in items)
        {
            CollectAggregates(item.Expr!, calls);
        }

        if (q.Having is not null)
        {
            CollectAggregates(q.Having, calls);
        }

        var aggs = new List<AggregateCall>();
        foreach (var call in calls)
        {
            var key = AggKey(call, scope);
            if (ctx.AggColumns.ContainsKey(key))
            {
                continue;
            }

            if (call.Over is not null)
            {
                throw new SqlException(call.Pos, "not supported: aggregate OVER windows");
            }

            var arg = -1;
            DataType argType = DataType.Null;
            if (!call.Star)
            {
                if (call.Args.Count != 1)
                {
                    throw new SqlException(call.Pos, $"{call.Name} takes one argument, not {call.Args.Count}");
                }

                if (ContainsAggregate(call.Args[0]))
                {
                    throw new SqlException(call.Args[0].Pos, "aggregate functions cannot be nested");
                }

                var b = BindExpr(call.Args[0], scope);
                argType = b.Type;
                if (call.Distinct && call.Name is "SUM" or "AVG")
                {
                    // The accumulators keep no distinct set for SUM/AVG; refusing beats a silently wrong total.
                    throw new SqlException(call.Pos, $"not supported: {call.Name}(DISTINCT ...)");
                }

                if (call.Name is "SUM" or "AVG" && !b.Type.IsNumeric())
                {
                    throw new SqlException(call.Args[0].Pos, $"{call.Name} needs a numeric argument, not {b.Type.SqlName()}");
                }

                if (call.Name == "COUNT" && b is BoundLiteral { Value: not null })
                {
                    // COUNT(1) is COUNT(*).
                }
                else
                {
                    arg = pre.Count;
                    pre.Add(b.Type == DataType.Null ? Cast(b, DataType.Int32) : b);
                    preNames.Add("$arg" + aggs.Count);
                }
            }
            else if (call.Name != "COUNT")
            {
                throw new SqlException(call.Pos, $"{call.Name}(*) is not valid; only COUNT(*)");
            }

            var filter = -1;
            if (call.Filter is not null)
            {
                filter = pre.Count;
                pre.Add(BindPredicate(call.Filter, scope, "FILTER"));
                preNames.Add("$filter" + aggs.Count);
            }

            var resultType = call.Name switch
            {
                "COUNT" => DataType.Int64,
                "SUM" => argType is DataType.Int32 or DataType.Int64 ? DataType.Int64 : argType,
                "AVG" => argType,
                _ => argType == DataType.Null ? DataType.Int32 : argType,
            };
            ctx.AggColumns[key] = keys.Count + (window is null ? 0 : 2) + aggs.Count;
            aggs.Add(new AggregateCall(call.Name, arg, call.Distinct && call.Name is not ("MIN" or "MAX"), filter, resultType, "agg" + aggs.Count));
        }

        WindowDef? preWindow = null;
        if (window is not null)
        {
            var timeIdx = pre.Count;
            var timeSource = legacyWindow is null && tvfInput is WindowAssignNode ? window.TimeColumn : window.TimeColumn;
            pre.Add(new BoundColumn(timeSource, DataType.Timestamp, aggInput.Schema[timeSource].Name));
            preNames.Add(aggInput.Schema[timeSource].Name);
            preWindow = window with { TimeColumn = timeIdx };
        }

        // Remap pre-projection expressions if the TVF node was removed (its input columns keep their indexes).
        var preFields = pre.Select((e, i) => new Field(preNames[i], e.Type)).ToList();
        var preSchema = new Schema(UniqueFields(preFields), preWindow is null ? -1 : preWindow.TimeColumn);
        var preNode = new ProjectNode(aggInput, pre, preSchema);

        var outFields = new List<Field>();
        for (var i = 0; i < keys.Count; i++)
        {
            outFields.Add(new Field(keyNames[i], pre[keys[i]].Type));
        }

        if (preWindow is not null)
        {
            ctx.WindowStart = outFields.Count;
            outFields.Add(new Field("window_start", DataType.Timestamp, false));
            ctx.WindowEnd = outFields.Count;
            outFields.Add(new Field("window_end", DataType.Timestamp, false));
        }

        foreach (var a in aggs)
        {
            outFields.Add(new Field(a.Name, a.ResultType, a.Function != "COUNT"));
        }

        // window_end is the time attribute of a window's results (they come out when the watermark passes it), so an
        // OVER aggregate downstream can order by it.
        var aggSchema = new Schema(UniqueFields(outFields), preWindow is null ? -1 : ctx.WindowEnd);
        ctx.OutputSchema = aggSchema;
        var aggNode = new AggregateNode(preNode, Enumerable.Range(0, keys.Count).ToArray(), aggs.Select(a => a).ToArray(), preWindow, aggSchema);

        LogicalNode result = aggNode;
        if (items.Select(i => i.Expr).Append(q.Having).Where(e => e is not null && HasSubquery(e)).ToList() is { Count: > 0 } withSubqueries)
        {
            // Subqueries see the aggregate's output (a group key that is a column keeps its qualifier): their values are joined to each group's row.
            var outputScope = new Scope(aggSchema.Fields.Select((f, i) => new ScopeColumn(i < boundKeys.Count && boundKeys[i] is BoundColumn kc ? scope.Columns[kc.Index].Qualifier : null, f.Name, f.Type)).ToArray());
            result = AttachSubqueries(result, outputScope, withSubqueries!, out var values);
            ctx.Subqueries = values;
        }

        if (q.Having is not null)
        {
            var h = BindAfterAggregate(q.Having, ctx, "HAVING");
            if (h.Type != DataType.Boolean)
            {
                throw new SqlException(q.Having.Pos, $"HAVING needs a BOOLEAN condition, not {h.Type.SqlName()}");
            }

            result = new FilterNode(result, h);
        }

        var exprs = new List<BoundExpr>();
        var fields = new List<Field>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var k = 0; k < items.Count; k++)
        {
            var e = BindAfterAggregate(items[k].Expr!, ctx, "SELECT");
            RejectInterval(e, items[k].Pos);
            exprs.Add(e.Type == DataType.Null ? Cast(e, DataType.String) : e);
            fields.Add(new Field(UniqueName(OutputName(items[k], k), names), exprs[^1].Type));
        }

        var schema = new Schema(fields, aggSchema.EventTimeIndex < 0 ? -1 : exprs.FindIndex(e => e is BoundColumn c && c.Index == aggSchema.EventTimeIndex));
        return (new ProjectNode(result, exprs, schema), Scope.Of(schema, null));
    }

    private static IEnumerable<Field> UniqueFields(List<Field> fields)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return fields.Select(f => f with { Name = UniqueName(f.Name, used) }).ToArray();
    }

    private static LogicalNode? UnwrapWindowAssign(LogicalNode node, out List<FilterNode> filters)
    {
        filters = [];
        while (node is FilterNode f)
        {
            filters.Add(f);
            node = f.Input;
        }

        return node as WindowAssignNode;
    }

    private static LogicalNode RebuildWithout(LogicalNode top, WindowAssignNode assign, List<FilterNode> filters)
    {
        LogicalNode node = assign.Input;
        for (var i = filters.Count - 1; i >= 0; i--)
        {
            var cols = new HashSet<int>();
            BoundExprs.CollectColumns(filters[i].Predicate, cols);
            if (cols.Any(c => c >= assign.Input.Schema.Count))
            {
                throw new SqlException(default, "not supported: WHERE on window_start/window_end before the window aggregate; use HAVING");
            }

            node = new FilterNode(node, filters[i].Predicate);
        }

        return node;
    }

    private WindowDef BindLegacyWindow(CallExpr call, Scope scope, LogicalNode input)
    {
        if (call.Args.Count < 2)
        {
            throw new SqlException(call.Pos, $"{call.Name} needs a time column and an interval");
        }

        RefuseWindowOverChangelog(input, call.Pos, $"GROUP BY {call.Name}(...)");

        var time = BindExpr(call.Args[0], scope);
        if (time is not BoundColumn tc || time.Type != DataType.Timestamp)
        {
            throw new SqlException(call.Args[0].Pos, $"the first argument of {call.Name} must be a TIMESTAMP column, not {time.Type.SqlName()}");
        }

        return call.Name switch
        {
            "TUMBLE" => new WindowDef("TUMBLE", tc.Index, IntervalArg(call.Args[1], "the TUMBLE size"), 0, 0),
            "HOP" when call.Args.Count == 3 => new WindowDef("HOP", tc.Index, IntervalArg(call.Args[2], "the HOP size"), IntervalArg(call.Args[1], "the HOP slide"), 0),
            "SESSION" => new WindowDef("SESSION", tc.Index, 0, 0, IntervalArg(call.Args[1], "the SESSION gap")),
            _ => throw new SqlException(call.Pos, $"{call.Name} takes a time column and {(call.Name == "HOP" ? "two intervals (slide, size)" : "an interval")}"),
        };
    }

    private string AggKey(CallExpr call, Scope scope)
    {
        var arg = call.Star ? "*" : string.Join(",", call.Args.Select(a => BindExpr(a, scope).Render(null)));
        var filter = call.Filter is null ? "" : BindExpr(call.Filter, scope).Render(null);
        return $"{call.Name}({(call.Distinct ? "D " : "")}{arg})F{filter}";
    }

    /// <summary>Binds a SELECT/HAVING expression over the aggregate's output: aggregates and group keys become columns.</summary>
    private BoundExpr BindAfterAggregate(SqlExpr e, AggregateContext ctx, string clause)
    {
        var schema = ctx.OutputSchema;
        BoundExpr? Replace(SqlExpr x)
        {
            if (ctx.Subqueries.TryGetValue(x, out var subquery))
            {
                return subquery;
            }

            if (x is CallExpr c && AggregateFunctions.Contains(c.Name) && c.Over is null)
            {
                var idx = ctx.AggColumns[AggKey(c, ctx.InputScope)];
                return new BoundColumn(idx, schema[idx].Type, schema[idx].Name);
            }

            if (x is CallExpr w && ctx.WindowStart >= 0 && WindowBoundFunction(w.Name) is { } which)
            {
                var idx = which == "END" || which == "ROWTIME" ? ctx.WindowEnd : ctx.WindowStart;
                BoundExpr col = new BoundColumn(idx, DataType.Timestamp, schema[idx].Name);
                return which == "ROWTIME" ? new BoundCall("-", [col, new BoundInterval(1)], DataType.Timestamp) : col;
            }

            if (x is CallExpr or ColumnExpr or BinaryExpr or UnaryExpr or CastExpr or CaseExpr or ExtractExpr or InExpr or BetweenExpr or LikeExpr or IsExpr)
            {
                if (x is not ColumnExpr && ContainsAggregate(x))
                {
                    return null;
                }

                BoundExpr bound;
                try
                {
                    bound = BindExpr(x, ctx.InputScope);
                }
                catch (SqlException) when (x is not ColumnExpr)
                {
                    return null;
                }

                if (ctx.KeyColumns.TryGetValue(bound.Render(null), out var k))
                {
                    return new BoundColumn(k, schema[k].Type, schema[k].Name);
                }

                if (bound is BoundColumn bc)
                {
                    if (ctx.TvfWindowStart.Contains(bc.Index) || (ctx.WindowStart >= 0 && IsTvfWindowColumn(bc, ctx, 0)))
                    {
                        return new BoundColumn(ctx.WindowStart, DataType.Timestamp, "window_start");
                    }

                    if (ctx.TvfWindowEnd.Contains(bc.Index) || (ctx.WindowEnd >= 0 && IsTvfWindowColumn(bc, ctx, 1)))
                    {
                        return new BoundColumn(ctx.WindowEnd, DataType.Timestamp, "window_end");
                    }

                    if (ctx.TvfWindowTime.Contains(bc.Index) || (ctx.WindowEnd >= 0 && IsTvfWindowColumn(bc, ctx, 2)))
                    {
                        return new BoundCall("-", [new BoundColumn(ctx.WindowEnd, DataType.Timestamp, "window_end"), new BoundInterval(1)], DataType.Timestamp);
                    }

                    if (x is ColumnExpr ce)
                    {
                        throw new SqlException(ce.Pos, $"column `{ce.Name}` must appear in GROUP BY or be used in an aggregate function ({clause})");
                    }
                }
            }

            return null;
        }

        return BindExprWith(e, new Scope(schema.Fields.Select(f => new ScopeColumn(null, f.Name, f.Type)).ToArray()), Replace);
    }

    private static bool IsTvfWindowColumn(BoundColumn bc, AggregateContext ctx, int which) =>
        bc.Name.Equals(which switch { 0 => "window_start", 1 => "window_end", _ => "window_time" }, StringComparison.OrdinalIgnoreCase)
        && ctx.InputScope.Columns.Count > bc.Index
        && ctx.TvfWindowStart.Count + ctx.TvfWindowEnd.Count > 0;

    private static string? WindowBoundFunction(string name)
    {
        foreach (var prefix in new[] { "TUMBLE_", "HOP_", "SESSION_" })
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                var rest = name[prefix.Length..].ToUpperInvariant();
                return rest is "START" or "END" or "ROWTIME" or "PROCTIME" ? rest : null;
            }
        }

        return null;
    }

    private static void CollectAggregates(SqlExpr e, List<CallExpr> into)
    {
        Walk(e, x =>
        {
            if (x is CallExpr c && AggregateFunctions.Contains(c.Name) && c.Over is null)
            {
                into.Add(c);
                return false;
            }

            return true;
        });
    }

    private static bool ContainsAggregate(SqlExpr e) => FindAggregate(e) is not null;

    private static CallExpr? FindAggregate(SqlExpr e)
    {
        CallExpr? found = null;
        Walk(e, x =>
        {
            if (found is null && x is CallExpr c && c.Over is null && (AggregateFunctions.Contains(c.Name) || UnsupportedAggregates.Contains(c.Name)))
            {
                if (UnsupportedAggregates.Contains(c.Name))
                {
                    throw new SqlException(c.Pos, $"not supported: aggregate function {c.Name}");
                }

                found = c;
            }

            return found is null;
        });
        return found;
    }

    private static bool ContainsOver(SqlExpr e)
    {
        var found = false;
        Walk(e, x =>
        {
            if (x is CallExpr { Over: not null })
            {
                found = true;
            }

            return !found;
        });
        return found;
    }

    /// <summary>Visits <paramref name="e"/> and its sub-expressions while <paramref name="visit"/> returns true.</summary>
    private static void Walk(SqlExpr e, Func<SqlExpr, bool> visit)
    {
        if (!visit(e))
        {
            return;
        }

        IEnumerable<SqlExpr?> children = e switch
        {
            BinaryExpr b => [b.Left, b.Right],
            UnaryExpr u => [u.Operand],
            CallExpr c => c.Args.Append(c.Filter),
            CaseExpr cs => cs.Whens.SelectMany(w => new[] { w.When, w.Then }).Append(cs.Operand).Append(cs.Else),
            CastExpr ca => [ca.Operand],
            InExpr i => i.List.Prepend(i.Operand),
            BetweenExpr bt => [bt.Operand, bt.Low, bt.High],
            LikeExpr l => [l.Operand, l.Pattern],
            IsExpr isx => [isx.Operand],
            ExtractExpr ex => [ex.Operand],
            _ => [],
        };
        foreach (var child in children)
        {
            if (child is not null)
            {
                Walk(child, visit);
            }
        }
    }
}
