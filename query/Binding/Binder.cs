using Streams.Engine.Data;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

/// <summary>A column visible to expressions: where it comes from (qualifier) and what it is.</summary>
internal sealed record ScopeColumn(string? Qualifier, string Name, DataType Type);

/// <summary>The columns in scope, matching the schema of the plan node they belong to index for index.</summary>
internal sealed class Scope(IReadOnlyList<ScopeColumn> columns)
{
    public IReadOnlyList<ScopeColumn> Columns { get; } = columns;

    public int Resolve(string? qualifier, string name, SourcePosition pos)
    {
        var found = -1;
        var qualifierKnown = qualifier is null;
        for (var i = 0; i < Columns.Count; i++)
        {
            var c = Columns[i];
            if (qualifier is not null)
            {
                if (c.Qualifier is null || !c.Qualifier.Equals(qualifier, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                qualifierKnown = true;
            }

            if (c.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                if (found >= 0)
                {
                    throw new SqlException(pos, $"column `{name}` is ambiguous; qualify it (e.g. `{Columns[found].Qualifier ?? "t"}.{name}`)");
                }

                found = i;
            }
        }

        if (found < 0)
        {
            if (!qualifierKnown)
            {
                var qualifiers = Columns.Select(c => c.Qualifier).Where(q => q is not null).Select(q => q!).Distinct();
                throw new SqlException(pos, $"unknown table or alias `{qualifier}`" + NameSuggestion.Hint(qualifier!, qualifiers));
            }

            var candidates = Columns.Where(c => qualifier is null || string.Equals(c.Qualifier, qualifier, StringComparison.OrdinalIgnoreCase)).Select(c => c.Name);
            throw new SqlException(pos, $"unknown column `{(qualifier is null ? name : qualifier + "." + name)}`" + NameSuggestion.Hint(name, candidates));
        }

        return found;
    }

    public Scope WithQualifier(string? qualifier) => qualifier is null ? this : new Scope(Columns.Select(c => c with { Qualifier = qualifier }).ToArray());

    public static Scope Of(Schema schema, string? qualifier) => new(schema.Fields.Select(f => new ScopeColumn(qualifier, f.Name, f.Type)).ToArray());
}

/// <summary>
/// Resolves names and types: turns the parsed query into a logical plan whose expressions are typed and refer to
/// columns by index. Every mistake is reported at its position with the closest known name or both types involved.
/// </summary>
internal sealed partial class Binder(Catalog catalog)
{
    private static readonly HashSet<string> AggregateFunctions = new(StringComparer.OrdinalIgnoreCase) { "COUNT", "SUM", "MIN", "MAX", "AVG" };

    private static readonly HashSet<string> UnsupportedAggregates = new(StringComparer.OrdinalIgnoreCase)
    {
        "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "VARIANCE", "VAR_POP", "VAR_SAMP", "COLLECT", "LISTAGG", "FIRST_VALUE", "LAST_VALUE",
        "ARRAY_AGG", "STRING_AGG", "BOOL_AND", "BOOL_OR", "APPROX_COUNT_DISTINCT",
    };

    private readonly Catalog _catalog = catalog;
    private int _viewDepth;

    // ============================================================ queries

    public (LogicalNode Node, Scope Scope) BindQuery(QueryExpr query) => query switch
    {
        SelectQuery s => BindSelect(s),
        SetOpQuery u => BindSetOp(u),
        WithQuery w => BindWith(w),
        ValuesQuery v => BindValues(v),
        _ => throw new SqlException(query.Pos, "not supported: this query form"),
    };

    private (LogicalNode, Scope) BindSetOp(SetOpQuery u)
    {
        var (left, ls) = BindQuery(u.Left);
        var (right, rs) = BindQuery(u.Right);
        if (left.Schema.Count != right.Schema.Count)
        {
            throw new SqlException(u.Pos, $"{u.Op} inputs have different column counts ({left.Schema.Count} and {right.Schema.Count})");
        }

        var fields = new List<Field>();
        var leftCasts = new List<BoundExpr>();
        var rightCasts = new List<BoundExpr>();
        for (var i = 0; i < left.Schema.Count; i++)
        {
            var lt = left.Schema[i].Type;
            var rt = right.Schema[i].Type;
            var common = CommonType(lt, rt) ?? throw new SqlException(u.Pos, $"UNION column {i + 1} (`{left.Schema[i].Name}`) has types {lt.SqlName()} and {rt.SqlName()} that do not match");
            fields.Add(new Field(left.Schema[i].Name, common));
            leftCasts.Add(Cast(new BoundColumn(i, lt, left.Schema[i].Name), common));
            rightCasts.Add(Cast(new BoundColumn(i, rt, right.Schema[i].Name), common));
        }

        var schema = new Schema(fields);
        var l = new ProjectNode(left, leftCasts, schema);
        var r = new ProjectNode(right, rightCasts, schema);
        if (u.Op != "UNION")
        {
            return (IntersectOrExcept(u, l, r, schema), Scope.Of(schema, null));
        }

        LogicalNode union = new UnionNode([l, r], schema);
        if (!u.All)
        {
            // UNION (distinct) = UNION ALL + GROUP BY every column.
            union = new AggregateNode(union, Enumerable.Range(0, schema.Count).ToArray(), [], null, schema);
        }

        return (union, Scope.Of(schema, null));
    }

    private (LogicalNode, Scope) BindSelect(SelectQuery q)
    {
        // SELECT without FROM reads one empty row, as VALUES (NULL) would.
        var (node, scope) = q.From is null
            ? (new ValuesNode([[null]], new Schema([new Field("$row", DataType.String)])), new Scope([]))
            : BindFrom(q.From);

        if (q.Where is not null && BindSubqueryPredicates(q.Where, ref node, scope) is { } where)
        {
            if (ContainsAggregate(where))
            {
                throw new SqlException(FindAggregate(where)!.Pos, "aggregate functions are not allowed in WHERE (use HAVING)");
            }

            var pred = BindPredicate(where, scope, "WHERE");
            node = TryLimitTopN(node, pred) ?? new FilterNode(node, pred);
        }

        // SELECT * expansion.
        var items = new List<SelectItem>();
        foreach (var item in q.Items)
        {
            if (!item.IsStar)
            {
                items.Add(item);
                continue;
            }

            var any = false;
            for (var i = 0; i < scope.Columns.Count; i++)
            {
                var c = scope.Columns[i];
                if (item.StarQualifier is null || string.Equals(c.Qualifier, item.StarQualifier, StringComparison.OrdinalIgnoreCase))
                {
                    items.Add(new SelectItem(new ColumnExpr(item.Pos, c.Qualifier, c.Name) { }, null, item.Pos) { });
                    any = true;
                }
            }

            if (!any)
            {
                throw new SqlException(item.Pos, $"unknown table or alias `{item.StarQualifier}`" + NameSuggestion.Hint(item.StarQualifier ?? "", scope.Columns.Select(c => c.Qualifier ?? "").Distinct()));
            }
        }

        // Star-expanded columns keep their index even if names repeat (joins): resolve them by position.
        var starIndexes = new Dictionary<SelectItem, int>(ReferenceEqualityComparer.Instance);
        {
            var pos = 0;
            foreach (var item in q.Items)
            {
                if (!item.IsStar)
                {
                    pos++;
                    continue;
                }

                for (var i = 0; i < scope.Columns.Count; i++)
                {
                    var c = scope.Columns[i];
                    if (item.StarQualifier is null || string.Equals(c.Qualifier, item.StarQualifier, StringComparison.OrdinalIgnoreCase))
                    {
                        starIndexes[items[pos++]] = i;
                    }
                }
            }
        }

        var hasAggregates = items.Any(i => i.Expr is not null && ContainsAggregate(i.Expr)) || (q.Having is not null && ContainsAggregate(q.Having));
        var windowFn = items.FirstOrDefault(i => i.Expr is CallExpr { Over: not null });
        var overAggregate = HasOverAggregate(items);
        if (!overAggregate && items.Any(i => i.Expr is not null && i.Expr is not CallExpr { Over: not null } && ContainsOver(i.Expr)))
        {
            throw new SqlException(items.First(i => i.Expr is not null && ContainsOver(i.Expr)).Pos, "not supported: OVER window functions inside expressions");
        }

        LogicalNode result;
        Scope resultScope;
        if (overAggregate)
        {
            (result, resultScope) = BindOverAggregate(q, items, starIndexes, hasAggregates, node, scope);
        }
        else if (q.GroupBy.Count > 0 || hasAggregates || q.Distinct)
        {
            if (windowFn is not null)
            {
                throw new SqlException(windowFn.Pos, "not supported: OVER window functions together with GROUP BY");
            }

            var groupBy = q.GroupBy.ToList();
            if (q.Distinct && q.GroupBy.Count == 0 && !hasAggregates)
            {
                groupBy = items.Select(i => i.Expr!).ToList();
            }

            (result, resultScope) = BindAggregate(q, items, groupBy, node, scope);
        }
        else
        {
            if (q.Having is not null)
            {
                throw new SqlException(q.Having.Pos, "HAVING needs GROUP BY or an aggregate function");
            }

            if (windowFn is not null)
            {
                (result, resultScope) = BindTopN(items, (CallExpr)windowFn.Expr!, node, scope);
            }
            else
            {
                // Subqueries in the select list: their values are joined in as extra columns first.
                Dictionary<SqlExpr, BoundExpr>? scalars = null;
                if (items.Any(i => i.Expr is not null && HasSubquery(i.Expr)))
                {
                    node = AttachSubqueries(node, scope, items.Where(i => i.Expr is not null).Select(i => i.Expr!), out var attached);
                    scalars = attached;
                }

                var exprs = new List<BoundExpr>();
                var fields = new List<Field>();
                var cols = new List<ScopeColumn>();
                var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                for (var k = 0; k < items.Count; k++)
                {
                    var item = items[k];
                    var e = starIndexes.TryGetValue(item, out var idx)
                        ? new BoundColumn(idx, scope.Columns[idx].Type, scope.Columns[idx].Name)
                        : BindExprWith(item.Expr!, scope, scalars is null ? null : x => scalars.TryGetValue(x, out var v) ? v : null);
                    RejectInterval(e, item.Pos);
                    var name = OutputName(item, k);
                    exprs.Add(e);
                    fields.Add(new Field(UniqueName(name, names), e.Type == DataType.Null ? DataType.String : e.Type));
                    cols.Add(new ScopeColumn(starIndexes.ContainsKey(item) ? scope.Columns[starIndexes[item]].Qualifier : null, fields[^1].Name, fields[^1].Type));
                }

                var timeIndex = -1;
                if (node.Schema.EventTimeIndex >= 0)
                {
                    timeIndex = exprs.FindIndex(e => e is BoundColumn c && c.Index == node.Schema.EventTimeIndex);
                }

                var schema = new Schema(fields.Select(f => f with { Type = f.Type }), timeIndex);
                result = new ProjectNode(node, exprs.Select((e, i) => e.Type == DataType.Null ? Cast(e, DataType.String) : e).ToArray(), schema);
                resultScope = new Scope(cols);
            }
        }

        if (q.OrderBy.Count > 0 || q.Limit is not null)
        {
            var order = new List<(int, bool)>();
            foreach (var o in q.OrderBy)
            {
                int col;
                if (o.Expr is LiteralExpr { Value: int ordinal })
                {
                    if (ordinal < 1 || ordinal > result.Schema.Count)
                    {
                        throw new SqlException(o.Expr.Pos, $"ORDER BY position {ordinal} is not in the select list");
                    }

                    col = ordinal - 1;
                }
                else
                {
                    var bound = BindExpr(o.Expr, resultScope);
                    col = bound is BoundColumn bc ? bc.Index : throw new SqlException(o.Expr.Pos, "not supported: ORDER BY an expression that is not a selected column");
                }

                order.Add((col, o.Descending));
            }

            long? limit = null;
            if (q.Limit is not null)
            {
                limit = q.Limit is LiteralExpr { Value: int n and >= 0 } ? n : q.Limit is LiteralExpr { Value: long m and >= 0 } ? m : throw new SqlException(q.Limit.Pos, "LIMIT needs a non-negative integer");
            }

            if (limit is not null && order.Count > 0)
            {
                // ORDER BY ... LIMIT n is a Top-N over one partition: it keeps only n rows and its changelog is the top n.
                result = new TopNNode(result, [], order, limit.Value, -1, result.Schema);
            }

            result = new SortLimitNode(result, order, limit);
        }

        return (result, resultScope);
    }

    private static string UniqueName(string name, HashSet<string> used)
    {
        var n = name;
        var i = 0;
        while (!used.Add(n))
        {
            n = name + i++;
        }

        return n;
    }

    private static string OutputName(SelectItem item, int k) =>
        item.Alias ?? item.Expr switch
        {
            ColumnExpr c => c.Name,
            _ => "EXPR$" + k,
        };

    private static void RejectInterval(BoundExpr e, SourcePosition pos)
    {
        if (e is BoundInterval)
        {
            throw new SqlException(pos, "not supported: INTERVAL values as output columns");
        }
    }

    // ============================================================ FROM

    public (LogicalNode Node, Scope Scope) BindFrom(FromItem from)
    {
        switch (from)
        {
            case TableRef t when TryBindCte(t) is { } cte:
                return cte;
            case TableRef { AsOf: { } asOf }:
                throw new SqlException(asOf.Pos, "not supported: FOR SYSTEM_TIME AS OF outside a join (it marks the versioned table of a temporal join)");
            case TableRef t:
                {
                    var entry = _catalog.Get(t.Name, t.Pos);
                    if (entry.Kind == "VIEW")
                    {
                        if (++_viewDepth > 32)
                        {
                            throw new SqlException(t.Pos, $"view `{entry.Name}` refers to itself");
                        }

                        var (vn, vs) = BindQuery(entry.ViewQuery!);
                        _viewDepth--;
                        return (vn, Scope.Of(vn.Schema, t.Alias ?? entry.Name));
                    }

                    LogicalNode node = new ScanNode(entry);
                    if (entry.Computed.Count > 0)
                    {
                        var physical = Scope.Of(entry.Schema, t.Alias ?? entry.Name);
                        var exprs = Enumerable.Range(0, entry.Schema.Count).Select(i => (BoundExpr)new BoundColumn(i, entry.Schema[i].Type, entry.Schema[i].Name)).ToList();
                        var fields = entry.Schema.Fields.ToList();
                        foreach (var c in entry.Computed)
                        {
                            var e = BindExpr(c.Computed!, physical);
                            exprs.Add(e);
                            fields.Add(new Field(c.Name, e.Type));
                        }

                        var eventTime = entry.ComputedWatermark is { } wm ? fields.FindIndex(f => f.Name.Equals(wm, StringComparison.OrdinalIgnoreCase)) : entry.Schema.EventTimeIndex;
                        node = new ProjectNode(node, exprs, new Schema(fields, eventTime));
                    }

                    return (node, Scope.Of(node.Schema, t.Alias ?? entry.Name));
                }

            case SubqueryRef s:
                {
                    var (node, scope) = BindQuery(s.Query);
                    if (s.ColumnAliases is { Count: > 0 } names)
                    {
                        node = RenameColumns(node, names, s.Pos);
                        return (node, Scope.Of(node.Schema, s.Alias));
                    }

                    return (node, new Scope(scope.Columns.Select(c => c with { Qualifier = s.Alias }).ToArray()));
                }

            case WindowTvfRef w:
                return BindWindowTvf(w);
            case JoinRef j:
                return BindJoin(j);
            default:
                throw new SqlException(from.Pos, "not supported: this FROM item");
        }
    }

    private long IntervalArg(SqlExpr e, string what)
    {
        var b = BindExpr(e, new Scope([]));
        if (b is BoundInterval iv)
        {
            if (iv.Millis <= 0)
            {
                throw new SqlException(e.Pos, $"{what} must be a positive interval");
            }

            return iv.Millis;
        }

        throw new SqlException(e.Pos, $"{what} must be an INTERVAL literal, not {b.Type.SqlName()}");
    }

    /// <summary>Windows forget rows by event time and cannot take retractions: a changelog source below one is an error at its position.</summary>
    private static void RefuseWindowOverChangelog(LogicalNode input, SourcePosition pos, string window)
    {
        if (input.ReadsChangelog)
        {
            throw new SqlException(pos, $"not supported: {window} over a changelog (a debezium-json source): windows need insert-only rows; aggregate the changelog with GROUP BY instead");
        }
    }

    private (LogicalNode, Scope) BindWindowTvf(WindowTvfRef w)
    {
        var (input, scope) = BindFrom(w.Source);
        RefuseWindowOverChangelog(input, w.Pos, w.Kind);

        var time = scope.Resolve(null, w.TimeColumn, w.TimeColumnPos);
        if (input.Schema[time].Type != DataType.Timestamp)
        {
            throw new SqlException(w.TimeColumnPos, $"DESCRIPTOR column `{w.TimeColumn}` must be a TIMESTAMP, not {input.Schema[time].Type.SqlName()}");
        }

        WindowDef def;
        switch (w.Kind)
        {
            case "TUMBLE":
                ExpectArgs(w, 1);
                def = new WindowDef("TUMBLE", time, IntervalArg(w.Args[0], "the TUMBLE size"), 0, 0);
                break;
            case "HOP":
                {
                    ExpectArgs(w, 2);
                    var slide = IntervalArg(w.Args[0], "the HOP slide");
                    var size = IntervalArg(w.Args[1], "the HOP size");
                    if (size % slide != 0)
                    {
                        throw new SqlException(w.Args[1].Pos, "not supported: HOP size that is not a multiple of the slide");
                    }

                    def = new WindowDef("HOP", time, size, slide, 0);
                    break;
                }

            case "SESSION":
                ExpectArgs(w, 1);
                def = new WindowDef("SESSION", time, 0, 0, IntervalArg(w.Args[0], "the SESSION gap"));
                break;
            case "CUMULATE":
                {
                    ExpectArgs(w, 2);
                    var step = IntervalArg(w.Args[0], "the CUMULATE step");
                    var size = IntervalArg(w.Args[1], "the CUMULATE size");
                    if (size % step != 0)
                    {
                        throw new SqlException(w.Args[1].Pos, "CUMULATE size must be a multiple of the step");
                    }

                    def = new WindowDef("CUMULATE", time, size, 0, 0, step);
                    break;
                }

            default:
                throw new SqlException(w.Pos, $"not supported: window function {w.Kind}");
        }

        var fields = input.Schema.Fields.ToList();
        fields.Add(new Field("window_start", DataType.Timestamp, false));
        fields.Add(new Field("window_end", DataType.Timestamp, false));
        fields.Add(new Field("window_time", DataType.Timestamp, false));
        var schema = new Schema(fields, input.Schema.EventTimeIndex);
        var node = new WindowAssignNode(input, def, schema);
        var cols = scope.Columns.ToList();
        var q = w.Alias ?? scope.Columns.FirstOrDefault()?.Qualifier;
        cols.Add(new ScopeColumn(q, "window_start", DataType.Timestamp));
        cols.Add(new ScopeColumn(q, "window_end", DataType.Timestamp));
        cols.Add(new ScopeColumn(q, "window_time", DataType.Timestamp));
        var s = new Scope(cols);
        if (w.PartitionBy.Count > 0 && w.Kind != "SESSION")
        {
            throw new SqlException(w.PartitionBy[0].Pos, $"PARTITION BY applies to SESSION windows, not {w.Kind}");
        }

        return (node, w.Alias is null ? s : s.WithQualifier(w.Alias));
    }

    private static void ExpectArgs(WindowTvfRef w, int n)
    {
        if (w.Args.Count != n)
        {
            throw new SqlException(w.Pos, $"{w.Kind} takes TABLE, DESCRIPTOR and {n} interval argument{(n == 1 ? "" : "s")}, not {w.Args.Count}");
        }
    }

    private (LogicalNode, Scope) BindJoin(JoinRef j)
    {
        if (j.Left is TableRef { AsOf: { } leftAsOf })
        {
            throw new SqlException(leftAsOf.Pos, "FOR SYSTEM_TIME AS OF goes on the right side of a join (the versioned table)");
        }

        var (left, ls) = BindFrom(j.Left);
        var (right, rs) = BindFrom(j.Right is TableRef { AsOf: not null } versionedRef ? versionedRef with { AsOf = null } : j.Right);
        if (j.Kind is "RIGHT")
        {
            // RIGHT JOIN = LEFT JOIN with the inputs swapped, then columns put back in order.
            var swapped = BindJoin(new JoinRef(j.Pos, "LEFT", j.Right, j.Left, j.On));
            var n = right.Schema.Count;
            var m = left.Schema.Count;
            var exprs = Enumerable.Range(0, m).Select(i => (BoundExpr)new BoundColumn(n + i, swapped.Item1.Schema[n + i].Type, swapped.Item1.Schema[n + i].Name))
                .Concat(Enumerable.Range(0, n).Select(i => (BoundExpr)new BoundColumn(i, swapped.Item1.Schema[i].Type, swapped.Item1.Schema[i].Name))).ToArray();
            var fields = exprs.Select(e => new Field(((BoundColumn)e).Name, e.Type)).ToArray();
            var cols = swapped.Item2.Columns.Skip(n).Concat(swapped.Item2.Columns.Take(n)).ToArray();
            return (new ProjectNode(swapped.Item1, exprs, new Schema(fields)), new Scope(cols));
        }

        if (j.Right is TableRef { AsOf: not null } versioned)
        {
            return BindTemporalJoin(j, versioned, left, ls, right, rs);
        }

        if (j.Kind is "FULL")
        {
            return BindFullJoin(j, left, ls, right, rs);
        }

        var scope = new Scope(ls.Columns.Concat(rs.Columns).ToArray());
        var schema = new Schema(left.Schema.Fields.Concat(right.Schema.Fields).Select(f => j.Kind == "LEFT" ? f with { Nullable = true } : f));
        BoundExpr? cond = j.On is null ? null : BindPredicate(j.On, scope, "ON");
        return (JoinOnExpressions(left, right, j.Kind, cond, schema), scope);
    }

    // ============================================================ Top-N

    private (LogicalNode, Scope) BindTopN(List<SelectItem> items, CallExpr fn, LogicalNode node, Scope scope)
    {
        if (fn.Name is not "ROW_NUMBER")
        {
            throw new SqlException(fn.Pos, $"not supported: {fn.Name}() OVER (only ROW_NUMBER() for Top-N and deduplication)");
        }

        if (fn.Over!.OrderBy.Count == 0)
        {
            throw new SqlException(fn.Over.Pos, "ROW_NUMBER() OVER needs ORDER BY");
        }

        var exprs = new List<BoundExpr>();
        var fields = new List<Field>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var rnPos = -1;
        for (var k = 0; k < items.Count; k++)
        {
            var item = items[k];
            if (ReferenceEquals(item.Expr, fn))
            {
                rnPos = k;
                continue;
            }

            var e = BindExpr(item.Expr!, scope);
            exprs.Add(e);
            fields.Add(new Field(UniqueName(OutputName(item, k), names), e.Type));
        }

        int AddHidden(SqlExpr ast)
        {
            var e = BindExpr(ast, scope);
            var idx = exprs.FindIndex(x => x.Render(null) == e.Render(null));
            if (idx >= 0)
            {
                return idx;
            }

            exprs.Add(e);
            fields.Add(new Field(UniqueName("$hidden", names), e.Type));
            return exprs.Count - 1;
        }

        var visible = exprs.Count;
        var keys = fn.Over.PartitionBy.Select(AddHidden).ToArray();
        var order = fn.Over.OrderBy.Select(o => (AddHidden(o.Expr), o.Descending)).ToArray();
        var pre = new ProjectNode(node, exprs.ToArray(), new Schema(fields));
        var rnName = UniqueName(items[rnPos].Alias ?? "EXPR$" + rnPos, names);

        // Output: the visible columns in select order with the row number at its place.
        var outFields = fields.Take(visible).ToList();
        outFields.Insert(rnPos, new Field(rnName, DataType.Int64, false));
        var topSchema = new Schema(outFields);
        var top = new TopNNode(pre, keys, order, long.MaxValue, rnPos, topSchema);
        return (top, Scope.Of(topSchema, null));
    }

    /// <summary>WHERE rn &lt;= N over a Top-N subquery sets its limit instead of filtering.</summary>
    private static LogicalNode? TryLimitTopN(LogicalNode node, BoundExpr pred)
    {
        if (node is not TopNNode top || top.Limit != long.MaxValue || top.RowNumberColumn < 0)
        {
            return null;
        }

        var parts = BoundExprs.Conjuncts(pred).ToList();
        long? limit = null;
        var rest = new List<BoundExpr>();
        foreach (var p in parts)
        {
            if (p is BoundCall { Name: "<=" or "<" or "=" } c && c.Args[0] is BoundColumn col && col.Index == top.RowNumberColumn && ConstantLong(c.Args[1]) is { } n)
            {
                var l = c.Name == "<" ? n - 1 : n;
                if (c.Name == "=" && n != 1)
                {
                    return null;
                }

                limit = limit is null ? l : Math.Min(limit.Value, l);
            }
            else
            {
                rest.Add(p);
            }
        }

        if (limit is null)
        {
            return null;
        }

        LogicalNode result = new TopNNode(top.Input, top.PartitionKeys, top.Order, Math.Max(0, limit.Value), top.RowNumberColumn, top.Schema);
        if (BoundExprs.And(rest) is { } residual)
        {
            result = new FilterNode(result, residual);
        }

        return result;
    }

    private static long? ConstantLong(BoundExpr e) => e switch
    {
        BoundLiteral { Value: int i } => i,
        BoundLiteral { Value: long l } => l,
        BoundCall { Name: "CAST" } c => ConstantLong(c.Args[0]),
        _ => null,
    };
}
