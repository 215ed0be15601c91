using Streams.Engine.Data;
using Streams.Engine.Operators.OverAggregate;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

/// <summary>
/// Aggregates OVER windows (Flink's OVER aggregation): every OVER aggregate of the select list is computed by one
/// <see cref="OverAggregateNode"/> and replaced by a reference to its column, so it may sit inside any expression.
/// Flink's streaming rules apply: one window for all of them, ordered by the ascending time attribute, frames ending
/// at CURRENT ROW.
/// </summary>
internal sealed partial class Binder
{
    private static bool IsOverAggregate(SqlExpr e) => e is CallExpr { Over: not null } c && AggregateFunctions.Contains(c.Name);

    private static bool HasOverAggregate(List<SelectItem> items) =>
        items.Any(i => i.Expr is not null && FindAll(i.Expr, IsOverAggregate).Count > 0);

    private (LogicalNode, Scope) BindOverAggregate(SelectQuery q, List<SelectItem> items, Dictionary<SelectItem, int> starIndexes, bool hasAggregates, LogicalNode node, Scope scope)
    {
        var calls = items.Where(i => i.Expr is not null).SelectMany(i => FindAll(i.Expr!, IsOverAggregate)).Cast<CallExpr>().ToList();
        if (q.GroupBy.Count > 0 || hasAggregates || q.Distinct || q.Having is not null)
        {
            throw new SqlException(calls[0].Pos, "not supported: OVER aggregates together with GROUP BY, DISTINCT or other aggregates");
        }

        if (items.Where(i => i.Expr is not null).SelectMany(i => FindAll(i.Expr!, x => x is CallExpr { Over: not null } && !IsOverAggregate(x))).FirstOrDefault() is CallExpr other)
        {
            throw new SqlException(other.Pos, $"not supported: {other.Name}() OVER together with OVER aggregates");
        }

        if (!IsInsertOnly(node))
        {
            throw new SqlException(calls[0].Pos, "not supported: OVER aggregates over an updating input (GROUP BY without a window, regular joins, Top-N); they need an append-only stream");
        }

        var windows = (q.Windows ?? []).ToDictionary(w => w.Name, w => w.Spec, StringComparer.OrdinalIgnoreCase);
        WindowSpecExpr Resolve(WindowSpecExpr over)
        {
            if (over.Name is null)
            {
                return over;
            }

            return windows.TryGetValue(over.Name, out var spec)
                ? spec with { Pos = over.Pos }
                : throw new SqlException(over.Pos, $"unknown window `{over.Name}`" + NameSuggestion.Hint(over.Name, windows.Keys));
        }

        // Input columns stay where they are; computed partition keys, arguments and filters are appended.
        var pre = Enumerable.Range(0, node.Schema.Count).Select(i => (BoundExpr)new BoundColumn(i, node.Schema[i].Type, node.Schema[i].Name)).ToList();
        var preFields = node.Schema.Fields.ToList();
        int Column(BoundExpr e, string name)
        {
            if (e is BoundColumn c)
            {
                return c.Index;
            }

            var found = pre.FindIndex(x => x.Render(null) == e.Render(null));
            if (found >= 0)
            {
                return found;
            }

            pre.Add(e);
            preFields.Add(new Field(name + (pre.Count - 1), e.Type));
            return pre.Count - 1;
        }

        var first = Resolve(calls[0].Over!);
        var window = BindOverWindow(first, node, scope, Column);
        var aggs = new List<AggregateCall>();
        foreach (var call in calls)
        {
            var spec = Resolve(call.Over!);
            if (!ReferenceEquals(spec, first) && BindOverWindow(spec, node, scope, Column) != window)
            {
                throw new SqlException(call.Over!.Pos, "not supported: OVER aggregates over different windows in one SELECT (Flink computes all of them over the same window)");
            }

            aggs.Add(BindOverCall(call, scope, aggs.Count, Column));
        }

        var preSchema = new Schema(UniqueFields(preFields), node.Schema.EventTimeIndex);
        var input = pre.Count == node.Schema.Count ? node : new ProjectNode(node, pre, preSchema);
        var overFields = input.Schema.Fields.ToList();
        overFields.AddRange(aggs.Select(a => new Field(a.Name, a.ResultType, a.Function != "COUNT")));
        var overSchema = new Schema(overFields, input.Schema.EventTimeIndex);
        var over = new OverAggregateNode(input, window.Keys, window.Time, window.Frame, aggs, overSchema);

        // The select list over the input scope plus one hidden column per OVER aggregate.
        var overScope = new Scope(scope.Columns
            .Concat(pre.Skip(node.Schema.Count).Select((e, i) => new ScopeColumn(null, "$pre" + i, e.Type)))
            .Concat(aggs.Select(a => new ScopeColumn(null, a.Name, a.ResultType))).ToArray());
        var callIndex = new Dictionary<CallExpr, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < calls.Count; i++)
        {
            callIndex[calls[i]] = i;
        }

        var exprs = new List<BoundExpr>();
        var fields = new List<Field>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var k = 0; k < items.Count; k++)
        {
            var item = items[k];
            var e = starIndexes.TryGetValue(item, out var idx)
                ? new BoundColumn(idx, scope.Columns[idx].Type, scope.Columns[idx].Name)
                : BindExpr(ReplaceOverCalls(item.Expr!, c => new ColumnExpr(c.Pos, null, aggs[callIndex[c]].Name)), overScope);
            RejectInterval(e, item.Pos);
            exprs.Add(e.Type == DataType.Null ? Cast(e, DataType.String) : e);
            fields.Add(new Field(UniqueName(OutputName(item, k), names), exprs[^1].Type));
        }

        var timeIndex = exprs.FindIndex(e => e is BoundColumn c && c.Index == window.Time);
        var schema = new Schema(fields, timeIndex);
        return (new ProjectNode(over, exprs, schema), Scope.Of(schema, null));
    }

    /// <summary>
    /// True when the plan only ever emits new rows: sources, row-wise operators, windows, and inner joins of such inputs
    /// (a regular inner join's result changes only by growing; <see cref="LogicalNode.IsUpdating"/> also counts it as
    /// changing because its final result is printed at the end).
    /// </summary>
    private static bool IsInsertOnly(LogicalNode node) => node switch
    {
        ScanNode s => !s.IsUpdating,
        JoinNode { Kind: "INNER" or "CROSS" } j => IsInsertOnly(j.Left) && IsInsertOnly(j.Right),
        AggregateNode { Window: not null } a => IsInsertOnly(a.Input),
        FilterNode or ProjectNode or UnionNode or WindowAssignNode or OverAggregateNode => node.Inputs.All(IsInsertOnly),
        _ => false,
    };

    /// <summary>One bound window: partition columns, time column and frame; equal when two OVER clauses mean the same window.</summary>
    private sealed record OverWindow(int[] Keys, int Time, OverFrame Frame)
    {
        public bool Equals(OverWindow? other) => other is not null && Keys.SequenceEqual(other.Keys) && Time == other.Time && Frame == other.Frame;

        public override int GetHashCode() => HashCode.Combine(Time, Frame, Keys.Length);
    }

    private OverWindow BindOverWindow(WindowSpecExpr spec, LogicalNode node, Scope scope, Func<BoundExpr, string, int> column)
    {
        var keys = spec.PartitionBy.Select(p => column(BindExpr(p, scope), "$key")).ToArray();
        if (spec.OrderBy.Count == 0)
        {
            throw new SqlException(spec.Pos, "OVER aggregates need ORDER BY a time attribute (the column with the WATERMARK)");
        }

        if (spec.OrderBy.Count > 1)
        {
            throw new SqlException(spec.OrderBy[1].Expr.Pos, "not supported: OVER windows ordered by more than the time attribute");
        }

        var order = spec.OrderBy[0];
        var bound = BindExpr(order.Expr, scope);
        if (bound is not BoundColumn time || time.Index != node.Schema.EventTimeIndex)
        {
            var attribute = node.Schema.EventTimeIndex >= 0 ? $" (`{node.Schema[node.Schema.EventTimeIndex].Name}` here)" : " (this input has none: declare a WATERMARK)";
            throw new SqlException(order.Expr.Pos, "OVER windows must be ordered by the time attribute" + attribute);
        }

        if (order.Descending)
        {
            throw new SqlException(order.Expr.Pos, "not supported: OVER windows ordered descending (streaming OVER windows are ordered by ascending time)");
        }

        return new OverWindow(keys, time.Index, BindFrame(spec.Frame));
    }

    private OverFrame BindFrame(FrameSpec? frame)
    {
        if (frame is null)
        {
            // SQL's default frame with ORDER BY: every row up to the current one and its peers.
            return OverFrame.UnboundedRange;
        }

        var rows = frame.Unit == "ROWS";
        if (frame.Preceding is null)
        {
            return rows ? OverFrame.UnboundedRows : OverFrame.UnboundedRange;
        }

        var offset = BindExpr(frame.Preceding, new Scope([]));
        if (rows)
        {
            return offset is BoundLiteral { Value: int or long } l && Convert.ToInt64(l.Value, System.Globalization.CultureInfo.InvariantCulture) is var n and >= 0
                ? OverFrame.Rows(n)
                : throw new SqlException(frame.Preceding.Pos, "ROWS frames take a non-negative integer number of preceding rows");
        }

        return offset switch
        {
            BoundInterval { Millis: >= 0 } iv => OverFrame.Range(iv.Millis),
            BoundLiteral { Value: 0 } => OverFrame.Range(0),
            _ => throw new SqlException(frame.Preceding.Pos, "RANGE frames over a time attribute take a non-negative INTERVAL, e.g. INTERVAL '1' HOUR PRECEDING"),
        };
    }

    private AggregateCall BindOverCall(CallExpr call, Scope scope, int index, Func<BoundExpr, string, int> column)
    {
        if (call.Distinct)
        {
            throw new SqlException(call.Pos, $"not supported: {call.Name}(DISTINCT ...) OVER");
        }

        var arg = -1;
        var argType = DataType.Int64;
        if (!call.Star)
        {
            if (call.Args.Count != 1)
            {
                throw new SqlException(call.Pos, $"{call.Name} takes one argument, not {call.Args.Count}");
            }

            if (ContainsAggregate(call.Args[0]) || ContainsOver(call.Args[0]))
            {
                throw new SqlException(call.Args[0].Pos, "aggregate functions cannot be nested");
            }

            var b = BindExpr(call.Args[0], scope);
            argType = b.Type;
            if (call.Name is "SUM" or "AVG" && !b.Type.IsNumeric())
            {
                throw new SqlException(call.Args[0].Pos, $"{call.Name} needs a numeric argument, not {b.Type.SqlName()}");
            }

            if (call.Name is "MIN" or "MAX" && !(b.Type.IsNumeric() || b.Type == DataType.Timestamp))
            {
                throw new SqlException(call.Args[0].Pos, $"not supported: {call.Name} OVER of {b.Type.SqlName()} (numbers and timestamps only)");
            }

            if (!(call.Name == "COUNT" && b is BoundLiteral { Value: not null }))
            {
                // COUNT(1) is COUNT(*); a NULL literal gets a type so it can be stored.
                arg = column(b.Type == DataType.Null ? Cast(b, DataType.Int32) : b, "$arg");
            }
        }
        else if (call.Name != "COUNT")
        {
            throw new SqlException(call.Pos, $"{call.Name}(*) is not valid; only COUNT(*)");
        }

        var filter = call.Filter is null ? -1 : column(BindPredicate(call.Filter, scope, "FILTER"), "$filter");
        var resultType = call.Name switch
        {
            "COUNT" => DataType.Int64,
            "SUM" => argType is DataType.Int32 or DataType.Int64 ? DataType.Int64 : argType,
            _ => argType == DataType.Null ? DataType.Int32 : argType,
        };
        return new AggregateCall(call.Name, arg, false, filter, resultType, "$over" + index);
    }

    private static List<SqlExpr> FindAll(SqlExpr e, Func<SqlExpr, bool> match)
    {
        var found = new List<SqlExpr>();
        Walk(e, x =>
        {
            if (match(x))
            {
                found.Add(x);
                return false;
            }

            return true;
        });
        return found;
    }

    /// <summary><paramref name="e"/> with every OVER call replaced by <paramref name="replace"/>'s result.</summary>
    private static SqlExpr ReplaceOverCalls(SqlExpr e, Func<CallExpr, SqlExpr> replace)
    {
        SqlExpr R(SqlExpr x) => ReplaceOverCalls(x, replace);
        SqlExpr? Ro(SqlExpr? x) => x is null ? null : R(x);
        return e switch
        {
            CallExpr { Over: not null } c => replace(c),
            BinaryExpr b => b with { Left = R(b.Left), Right = R(b.Right) },
            UnaryExpr u => u with { Operand = R(u.Operand) },
            CallExpr c => c with { Args = c.Args.Select(R).ToArray(), Filter = Ro(c.Filter) },
            CaseExpr cs => cs with { Operand = Ro(cs.Operand), Whens = cs.Whens.Select(w => (R(w.When), R(w.Then))).ToArray(), Else = Ro(cs.Else) },
            CastExpr ca => ca with { Operand = R(ca.Operand) },
            InExpr i => i with { Operand = R(i.Operand), List = i.List.Select(R).ToArray() },
            BetweenExpr bt => bt with { Operand = R(bt.Operand), Low = R(bt.Low), High = R(bt.High) },
            LikeExpr l => l with { Operand = R(l.Operand), Pattern = R(l.Pattern) },
            IsExpr isx => isx with { Operand = R(isx.Operand) },
            ExtractExpr ex => ex with { Operand = R(ex.Operand) },
            _ => e,
        };
    }
}
