using Streams.Engine.Data;
using Streams.Query.Compilation;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

/// <summary>
/// WITH, VALUES, subqueries in WHERE and SELECT ([NOT] IN / [NOT] EXISTS planned as semi and anti joins on the engine's
/// keyed joins, scalar subqueries joined in as columns), INTERSECT / EXCEPT.
/// </summary>
internal sealed partial class Binder
{
    /// <summary>The CTEs in scope, outermost first; a reference binds the innermost definition of its name.</summary>
    private readonly List<CommonTableExpr> _ctes = [];

    // ============================================================ WITH

    private (LogicalNode, Scope) BindWith(WithQuery w)
    {
        var mark = _ctes.Count;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var cte in w.Ctes)
        {
            if (!names.Add(cte.Name))
            {
                throw new SqlException(cte.Pos, $"WITH defines `{cte.Name}` twice");
            }

            _ctes.Add(cte);
        }

        try
        {
            return BindQuery(w.Body);
        }
        finally
        {
            _ctes.RemoveRange(mark, _ctes.Count - mark);
        }
    }

    /// <summary>Binds a reference to a CTE: its query sees only the definitions before it (no recursion).</summary>
    private (LogicalNode, Scope)? TryBindCte(TableRef t)
    {
        var index = _ctes.FindLastIndex(c => c.Name.Equals(t.Name, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            return null;
        }

        if (t.AsOf is not null)
        {
            throw new SqlException(t.AsOf.Pos, $"FOR SYSTEM_TIME AS OF needs a declared table, not the WITH query `{t.Name}`");
        }

        var cte = _ctes[index];
        var hidden = _ctes.GetRange(index, _ctes.Count - index);
        _ctes.RemoveRange(index, hidden.Count);
        try
        {
            var (node, _) = BindQuery(cte.Query);
            node = RenameColumns(node, cte.Columns, cte.Pos);
            return (node, Scope.Of(node.Schema, t.Alias ?? cte.Name));
        }
        finally
        {
            _ctes.AddRange(hidden);
        }
    }

    /// <summary>Applies a column alias list (<c>t(a, b)</c>); the count must match.</summary>
    private static LogicalNode RenameColumns(LogicalNode node, IReadOnlyList<string>? columns, SourcePosition pos)
    {
        if (columns is null || columns.Count == 0)
        {
            return node;
        }

        if (columns.Count != node.Schema.Count)
        {
            throw new SqlException(pos, $"{columns.Count} column names given for a query with {node.Schema.Count} columns");
        }

        var exprs = Enumerable.Range(0, node.Schema.Count).Select(i => (BoundExpr)new BoundColumn(i, node.Schema[i].Type, node.Schema[i].Name)).ToArray();
        var fields = node.Schema.Fields.Select((f, i) => f with { Name = columns[i] });
        return new ProjectNode(node, exprs, new Schema(fields, node.Schema.EventTimeIndex));
    }

    // ============================================================ VALUES

    private (LogicalNode, Scope) BindValues(ValuesQuery v)
    {
        var empty = new Scope([]);
        var bound = v.Rows.Select(r => r.Select(e =>
        {
            var b = Optimizer.Fold(BindExpr(e, empty));
            return b as BoundLiteral ?? throw new SqlException(e.Pos, "not supported: VALUES with values that are not constants");
        }).ToArray()).ToArray();

        var width = bound[0].Length;
        var fields = new Field[width];
        for (var c = 0; c < width; c++)
        {
            var type = DataType.Null;
            for (var r = 0; r < bound.Length; r++)
            {
                type = CommonType(type, bound[r][c].Type) ?? throw new SqlException(v.Rows[r][c].Pos, $"VALUES column {c + 1} mixes {type.SqlName()} and {bound[r][c].Type.SqlName()}");
            }

            fields[c] = new Field("EXPR$" + c, type == DataType.Null ? DataType.String : type);
        }

        var rows = bound.Select(r => r.Select((lit, c) => lit.Value is null ? null : lit.Type == fields[c].Type ? lit.Value : ExpressionCompiler.EvaluateConstant(Cast(lit, fields[c].Type))).ToArray()).ToArray();
        var schema = new Schema(fields);
        return (new ValuesNode(rows, schema), Scope.Of(schema, null));
    }

    // ============================================================ [NOT] IN / [NOT] EXISTS in WHERE

    /// <summary>True when <paramref name="e"/> contains a subquery anywhere.</summary>
    private static bool HasSubquery(SqlExpr e) => e switch
    {
        SubqueryExpr or InSubqueryExpr => true,
        BinaryExpr b => HasSubquery(b.Left) || HasSubquery(b.Right),
        UnaryExpr u => HasSubquery(u.Operand),
        CallExpr c => c.Args.Any(HasSubquery),
        CaseExpr c => (c.Operand is not null && HasSubquery(c.Operand)) || c.Whens.Any(w => HasSubquery(w.When) || HasSubquery(w.Then)) || (c.Else is not null && HasSubquery(c.Else)),
        InExpr i => HasSubquery(i.Operand) || i.List.Any(HasSubquery),
        BetweenExpr b => HasSubquery(b.Operand) || HasSubquery(b.Low) || HasSubquery(b.High),
        IsExpr i => HasSubquery(i.Operand),
        LikeExpr l => HasSubquery(l.Operand) || HasSubquery(l.Pattern),
        CastExpr c => HasSubquery(c.Operand),
        _ => false,
    };

    private static IEnumerable<SqlExpr> AstConjuncts(SqlExpr e) =>
        e is BinaryExpr { Op: "AND" } and ? AstConjuncts(and.Left).Concat(AstConjuncts(and.Right)) : [e];

    /// <summary>
    /// Splits WHERE into plain conditions (returned) and AND-ed subquery predicates, which become semi joins
    /// (IN, EXISTS) or anti joins (NOT IN, NOT EXISTS) on <paramref name="node"/>; its columns stay as they are.
    /// </summary>
    private SqlExpr? BindSubqueryPredicates(SqlExpr where, ref LogicalNode node, Scope scope)
    {
        if (!HasSubquery(where))
        {
            return where;
        }

        SqlExpr? plain = null;
        var subqueries = new List<SqlExpr>();
        foreach (var part in AstConjuncts(where))
        {
            if (!HasSubquery(part))
            {
                plain = plain is null ? part : new BinaryExpr(plain.Pos, "AND", plain, part);
            }
            else
            {
                subqueries.Add(part);
            }
        }

        // Plain conditions first: they shrink the input of the joins.
        if (plain is not null)
        {
            node = new FilterNode(node, BindPredicate(plain, scope, "WHERE"));
        }

        foreach (var part in subqueries)
        {
            var (inner, negated) = part is UnaryExpr { Op: "NOT" } not ? (not.Operand, true) : (part, false);
            node = inner switch
            {
                InSubqueryExpr @in => BindInSubquery(node, scope, @in, @in.Negated != negated),
                SubqueryExpr { Kind: "EXISTS" } exists => BindExists(node, scope, exists, negated),
                _ when OnlyScalarSubqueries(part) => BindScalarSubqueries(node, scope, part),
                _ => throw new SqlException(FirstSubquery(part)?.Pos ?? part.Pos, "not supported: subqueries other than AND-ed [NOT] IN (SELECT ...), [NOT] EXISTS (SELECT ...) and scalar (SELECT ...) comparisons in WHERE"),
            };
        }

        return null;
    }

    /// <summary>True when every subquery in <paramref name="e"/> is a scalar one and none sits under OR.</summary>
    private static bool OnlyScalarSubqueries(SqlExpr e) => e switch
    {
        SubqueryExpr { Kind: "scalar" } => true,
        SubqueryExpr or InSubqueryExpr => false,
        BinaryExpr { Op: "OR" } b => !HasSubquery(b.Left) && !HasSubquery(b.Right),
        BinaryExpr b => OnlyScalarSubqueries(b.Left) && OnlyScalarSubqueries(b.Right),
        UnaryExpr u => OnlyScalarSubqueries(u.Operand),
        BetweenExpr b => OnlyScalarSubqueries(b.Operand) && OnlyScalarSubqueries(b.Low) && OnlyScalarSubqueries(b.High),
        IsExpr i => OnlyScalarSubqueries(i.Operand),
        CallExpr c => c.Args.All(OnlyScalarSubqueries),
        CastExpr c => OnlyScalarSubqueries(c.Operand),
        _ => !HasSubquery(e),
    };

    private static void CollectScalars(SqlExpr e, List<SubqueryExpr> into)
    {
        switch (e)
        {
            case SubqueryExpr { Kind: "scalar" } s:
                into.Add(s);
                break;
            case BinaryExpr b:
                CollectScalars(b.Left, into);
                CollectScalars(b.Right, into);
                break;
            case UnaryExpr u:
                CollectScalars(u.Operand, into);
                break;
            case BetweenExpr b:
                CollectScalars(b.Operand, into);
                CollectScalars(b.Low, into);
                CollectScalars(b.High, into);
                break;
            case IsExpr i:
                CollectScalars(i.Operand, into);
                break;
            case CallExpr c:
                c.Args.ToList().ForEach(a => CollectScalars(a, into));
                break;
            case CastExpr c:
                CollectScalars(c.Operand, into);
                break;
        }
    }

    /// <summary>
    /// A condition comparing with scalar subqueries: each subquery's value is joined to every row (an uncorrelated one
    /// on a constant key, a correlated aggregate grouped by its correlation columns and joined on them), the condition
    /// filters, and the extra columns are dropped. A correlated subquery with no rows for a key gives what its
    /// expression gives over an empty group (0 for COUNT, NULL for SUM, ...), as in SQL.
    /// </summary>
    private LogicalNode BindScalarSubqueries(LogicalNode outer, Scope scope, SqlExpr part)
    {
        var node = AttachScalarSubqueries(outer, scope, [part], out var values);
        var predicate = BindExprWith(part, scope, e => values.TryGetValue(e, out var v) ? v : null);
        if (predicate.Type is not (DataType.Boolean or DataType.Null))
        {
            throw new SqlException(part.Pos, $"WHERE needs a BOOLEAN condition, not {predicate.Type.SqlName()}");
        }

        return Restore(new FilterNode(node, Cast(predicate, DataType.Boolean)), outer);
    }

    /// <summary>
    /// Joins the value of every scalar subquery in <paramref name="exprs"/> to each row of <paramref name="outer"/> as an
    /// extra column; <paramref name="values"/> maps each subquery to its column, for binding the expressions.
    /// </summary>
    private LogicalNode AttachScalarSubqueries(LogicalNode outer, Scope scope, IEnumerable<SqlExpr> exprs, out Dictionary<SqlExpr, BoundExpr> values)
    {
        var scalars = new List<SubqueryExpr>();
        foreach (var e in exprs)
        {
            CollectScalars(e, scalars);
        }

        var node = outer;
        values = new Dictionary<SqlExpr, BoundExpr>(ReferenceEqualityComparer.Instance);
        foreach (var sq in scalars)
        {
            var n = node.Schema.Count;
            var (outerKeys, inner) = ScalarSubquery(sq, scope);
            var (ok, ik) = MatchKeys(outerKeys, Enumerable.Range(0, inner.Schema.Count - 1).Select(i => (BoundExpr)Col(inner, i)).ToList(), sq.Pos);
            var k = ok.Count;

            var value = Col(inner, inner.Schema.Count - 1);
            var left = new ProjectNode(node, [.. Cols(node, n), .. ok], new Schema([.. node.Schema.Fields, .. ok.Select((e, i) => new Field("$key" + i, e.Type))]));
            var right = new ProjectNode(inner, [.. ik, value], new Schema([.. ik.Select((e, i) => new Field("$match" + i, e.Type)), new Field("$value", value.Type)]));
            var condition = BoundExprs.And(Enumerable.Range(0, k).Select(i => Eq(Col(left, n + i), new BoundColumn(n + k + i, ik[i].Type, "$match" + i))))!;
            var joined = JoinPlanner.Create(left, right, "LEFT", condition, new Schema([.. left.Schema.Fields, .. right.Schema.Fields.Select(f => f with { Nullable = true })]));
            BoundExpr joinedValue = Col(joined, n + k + k);
            if (outerKeys.Count > 0 && EmptyGroupValue(inner) is { Value: not null } empty)
            {
                // A key the subquery has no group for: the matched key is NULL then, as NULL keys never match.
                joinedValue = new BoundCase([(new BoundCall("IS NULL", [Col(joined, n + k)], DataType.Boolean), empty)], joinedValue, value.Type);
            }

            node = new ProjectNode(joined, [.. Cols(joined, n), joinedValue], new Schema([.. node.Schema.Fields, new Field("$scalar", value.Type)]));
            values[sq] = new BoundColumn(n, value.Type, "$scalar");
        }

        return node;
    }

    /// <summary>
    /// The plan of a scalar subquery: its columns are the correlation keys then the value; the outer keys they equal are
    /// returned too (none when uncorrelated).
    /// </summary>
    private (List<BoundExpr> OuterKeys, LogicalNode Inner) ScalarSubquery(SubqueryExpr sq, Scope outerScope)
    {
        SqlException firstError;
        try
        {
            var (sub, _) = BindQuery(sq.Query);
            return sub.Schema.Count == 1 ? ([], sub) : throw new SqlException(sq.Pos, $"a scalar subquery selects one column, not {sub.Schema.Count}");
        }
        catch (SqlException e) when (sq.Query is SelectQuery { From: not null, Where: not null, GroupBy.Count: 0, Having: null, Items.Count: 1 })
        {
            firstError = e;
        }

        // Correlated: equalities with outer columns become GROUP BY columns of the subquery, then join keys.
        var s = (SelectQuery)sq.Query;
        var (_, innerScope) = BindFrom(s.From!);
        var local = new List<SqlExpr>();
        var innerSides = new List<SqlExpr>();
        var outerKeys = new List<BoundExpr>();
        foreach (var part in AstConjuncts(s.Where!))
        {
            if (TryBind(part, innerScope) is not null)
            {
                local.Add(part);
            }
            else if (part is BinaryExpr { Op: "=" } eq && TryBind(eq.Left, innerScope) is not null && TryBind(eq.Right, outerScope) is { } o1)
            {
                innerSides.Add(eq.Left);
                outerKeys.Add(o1);
            }
            else if (part is BinaryExpr { Op: "=" } eq2 && TryBind(eq2.Right, innerScope) is not null && TryBind(eq2.Left, outerScope) is { } o2)
            {
                innerSides.Add(eq2.Right);
                outerKeys.Add(o2);
            }
            else if (TryBind(part, new Scope([.. innerScope.Columns, .. outerScope.Columns])) is not null)
            {
                throw new SqlException(part.Pos, "not supported: correlated conditions other than inner_column = outer_column");
            }
            else
            {
                throw firstError;
            }
        }

        if (innerSides.Count == 0 || !ContainsAggregate(s.Items[0].Expr!))
        {
            throw innerSides.Count == 0 ? firstError : new SqlException(sq.Pos, "not supported: correlated scalar subqueries without an aggregate");
        }

        var where = local.Count == 0 ? null : local.Aggregate((a, b) => new BinaryExpr(a.Pos, "AND", a, b));
        var grouped = new SelectQuery(s.Pos, false, [.. innerSides.Select((e, i) => new SelectItem(e, "$corr" + i, e.Pos)), s.Items[0] with { Alias = "$value" }], s.From, where, innerSides, null, [], null);
        var (node, _) = BindQuery(grouped);
        return (outerKeys, node);
    }

    /// <summary>
    /// The value the last column of a grouped subquery plan takes over an empty group: its expression with COUNT as 0
    /// and every other aggregate (and group key) as NULL, evaluated once.
    /// </summary>
    private static BoundLiteral EmptyGroupValue(LogicalNode grouped)
    {
        if (grouped is not ProjectNode { Input: AggregateNode agg } project)
        {
            return new BoundLiteral(null, grouped.Schema[^1].Type);
        }

        var keys = agg.Keys.Count;
        var expr = BoundExprs.Remap(project.Exprs[^1], c => c.Index >= keys && agg.Aggregates[c.Index - keys].Function == "COUNT"
            ? new BoundLiteral(0L, c.Type)
            : new BoundLiteral(null, c.Type));
        return new BoundLiteral(ExpressionCompiler.EvaluateConstant(expr), expr.Type);
    }

    private static SqlExpr? FirstSubquery(SqlExpr e) => e switch
    {
        SubqueryExpr or InSubqueryExpr => e,
        BinaryExpr b => FirstSubquery(b.Left) ?? FirstSubquery(b.Right),
        UnaryExpr u => FirstSubquery(u.Operand),
        _ => null,
    };

    private LogicalNode BindInSubquery(LogicalNode outer, Scope scope, InSubqueryExpr e, bool negated)
    {
        var operand = BindExpr(e.Operand, scope);
        if (!negated && e.Query is SelectQuery s && Correlations(s, scope) is { } correlated)
        {
            // A correlated IN is an EXISTS with one more key pair: the selected column equals the operand.
            if (s.Items.Count != 1 || s.Items[0].IsStar)
            {
                throw new SqlException(e.Query.Pos, "IN (SELECT ...) needs exactly one selected column");
            }

            var item = BindExpr(s.Items[0].Expr!, correlated.InnerScope);
            return SemiJoin(outer, [.. correlated.OuterKeys, operand], correlated.Inner, [.. correlated.InnerKeys, item], anti: false, e.Pos);
        }

        LogicalNode sub;
        try
        {
            (sub, _) = BindQuery(e.Query);
        }
        catch (SqlException) when (negated && e.Query is SelectQuery correlatedNotIn && Correlations(correlatedNotIn, scope) is { OuterKeys.Count: > 0 })
        {
            throw new SqlException(e.Pos, "not supported: correlated NOT IN (write NOT EXISTS with the correlation and the IN column as equalities)");
        }

        if (sub.Schema.Count != 1)
        {
            throw new SqlException(e.Query.Pos, $"IN (SELECT ...) needs exactly one selected column, not {sub.Schema.Count}");
        }

        var column = new BoundColumn(0, sub.Schema[0].Type, sub.Schema[0].Name);
        if (!negated)
        {
            return SemiJoin(outer, [operand], sub, [column], anti: false, e.Pos);
        }

        // NOT IN is NULL-aware as in SQL: no row passes when the subquery yields a NULL, every row passes when it is
        // empty, and a NULL operand passes only then.
        var n = outer.Schema.Count;
        var anti = SemiJoin(outer, [operand], sub, [column], anti: true, e.Pos, keepKeys: true);
        var stats = new AggregateNode(sub, [], [new AggregateCall("COUNT", -1, false, -1, DataType.Int64, "$rows"), new AggregateCall("COUNT", 0, false, -1, DataType.Int64, "$values")], null,
            new Schema([new Field("$rows", DataType.Int64, false), new Field("$values", DataType.Int64, false)]));
        var one = new BoundLiteral(1, DataType.Int32);
        var statsKeyed = new ProjectNode(stats, [one, Col(stats, 0), Col(stats, 1)], new Schema([new Field("$one", DataType.Int32, false), stats.Schema[0], stats.Schema[1]]));
        var antiKeyed = new ProjectNode(anti, [.. Cols(anti, n + 1), one], new Schema([.. anti.Schema.Fields, new Field("$one", DataType.Int32, false)]));
        var joinSchema = new Schema([.. antiKeyed.Schema.Fields, .. statsKeyed.Schema.Fields.Select(f => f with { Nullable = true })]);
        var joined = JoinPlanner.Create(antiKeyed, statsKeyed, "LEFT", Eq(Col(antiKeyed, n + 1), new BoundColumn(n + 2, DataType.Int32, "$one")), joinSchema);
        var rows = new BoundColumn(n + 3, DataType.Int64, "$rows");
        var values = new BoundColumn(n + 4, DataType.Int64, "$values");
        var key = Col(antiKeyed, n);
        var passes = Or(
            Or(new BoundCall("IS NULL", [rows], DataType.Boolean), Eq(rows, new BoundLiteral(0L, DataType.Int64))),
            new BoundCall("AND", [Eq(rows, values), new BoundCall("IS NOT NULL", [key], DataType.Boolean)], DataType.Boolean));
        return Restore(new FilterNode(joined, passes), outer);
    }

    private LogicalNode BindExists(LogicalNode outer, Scope scope, SubqueryExpr e, bool negated)
    {
        if (e.Query is not SelectQuery s)
        {
            // A set operation: uncorrelated, true when it yields a row.
            var (sub, _) = BindQuery(e.Query);
            return SemiJoin(outer, [], sub, [], negated, e.Pos);
        }

        var c = Correlations(s, scope) ?? throw new SqlException(s.Pos, "not supported: this EXISTS subquery (use SELECT ... FROM ... WHERE with equalities to the outer query)");
        return SemiJoin(outer, c.OuterKeys, c.Inner, c.InnerKeys, negated, e.Pos);
    }

    private sealed record Correlated(LogicalNode Inner, Scope InnerScope, List<BoundExpr> OuterKeys, List<BoundExpr> InnerKeys);

    /// <summary>
    /// Decorrelates a simple SELECT ... FROM ... WHERE: conditions on its own columns filter it, and equalities between
    /// one of its columns and one of the outer query's become join keys. Null when the subquery is not of that shape.
    /// </summary>
    private Correlated? Correlations(SelectQuery s, Scope outerScope)
    {
        if (s.From is null || s.GroupBy.Count > 0 || s.Having is not null || s.OrderBy.Count > 0
            || s.Items.Any(i => i.Expr is not null && (ContainsAggregate(i.Expr) || ContainsOver(i.Expr))))
        {
            return null;
        }

        var (inner, innerScope) = BindFrom(s.From);
        var outerKeys = new List<BoundExpr>();
        var innerKeys = new List<BoundExpr>();
        var local = new List<BoundExpr>();
        if (s.Where is not null)
        {
            foreach (var part in AstConjuncts(s.Where))
            {
                if (HasSubquery(part))
                {
                    throw new SqlException(FirstSubquery(part)!.Pos, "not supported: nested subqueries");
                }

                if (TryBind(part, innerScope) is { } own)
                {
                    local.Add(own);
                    continue;
                }

                if (part is BinaryExpr { Op: "=" } eq)
                {
                    if (TryBind(eq.Left, innerScope) is { } il && TryBind(eq.Right, outerScope) is { } or)
                    {
                        innerKeys.Add(il);
                        outerKeys.Add(or);
                        continue;
                    }

                    if (TryBind(eq.Right, innerScope) is { } ir && TryBind(eq.Left, outerScope) is { } ol)
                    {
                        innerKeys.Add(ir);
                        outerKeys.Add(ol);
                        continue;
                    }
                }

                // Neither local nor an equality with the outer query: report what binding it says.
                if (TryBind(part, new Scope([.. innerScope.Columns, .. outerScope.Columns])) is not null)
                {
                    throw new SqlException(part.Pos, "not supported: correlated conditions other than inner_column = outer_column");
                }

                BindPredicate(part, innerScope, "WHERE");
            }
        }

        if (BoundExprs.And(local) is { } filter)
        {
            inner = new FilterNode(inner, filter);
        }

        return new Correlated(inner, innerScope, outerKeys, innerKeys);
    }

    private BoundExpr? TryBind(SqlExpr e, Scope scope)
    {
        try
        {
            return BindExpr(e, scope);
        }
        catch (SqlException)
        {
            return null;
        }
    }

    /// <summary>
    /// Keeps the rows of <paramref name="outer"/> whose keys match (or, <paramref name="anti"/>, match no) row of
    /// <paramref name="inner"/>: a join against the distinct inner keys, so every outer row appears at most once.
    /// With no keys the test is whether <paramref name="inner"/> has any row. NULL keys never match.
    /// </summary>
    private static LogicalNode SemiJoin(LogicalNode outer, IReadOnlyList<BoundExpr> outerKeys, LogicalNode inner, IReadOnlyList<BoundExpr> innerKeys, bool anti, SourcePosition pos, bool keepKeys = false)
    {
        var n = outer.Schema.Count;
        var (ok, ik) = MatchKeys(outerKeys, innerKeys, pos);
        var k = ok.Count;
        var outerKeyed = new ProjectNode(outer, [.. Cols(outer, n), .. ok], new Schema([.. outer.Schema.Fields, .. ok.Select((e, i) => new Field("$key" + i, e.Type))]));
        var innerKeyed = new ProjectNode(inner, ik, new Schema(ik.Select((e, i) => new Field("$match" + i, e.Type))));
        var distinct = new AggregateNode(innerKeyed, Enumerable.Range(0, k).ToArray(), [], null, innerKeyed.Schema);
        var condition = BoundExprs.And(Enumerable.Range(0, k).Select(i => Eq(Col(outerKeyed, n + i), new BoundColumn(n + k + i, ik[i].Type, "$match" + i))))!;
        var schema = new Schema([.. outerKeyed.Schema.Fields, .. distinct.Schema.Fields.Select(f => f with { Nullable = true })]);
        LogicalNode joined = JoinPlanner.Create(outerKeyed, distinct, anti ? "LEFT" : "INNER", condition, schema);
        if (anti)
        {
            joined = new FilterNode(joined, new BoundCall("IS NULL", [new BoundColumn(n + k, ik[0].Type, "$match0")], DataType.Boolean));
        }

        return keepKeys ? new ProjectNode(joined, Cols(joined, n + 1), new Schema(joined.Schema.Fields.Take(n + 1))) : Restore(joined, outer);
    }

    /// <summary>
    /// The key pairs cast to their common types; with no pairs, one constant pair (every row then meets every row of a
    /// subquery that has at most one row per key: its distinct keys or its single value).
    /// </summary>
    private static (List<BoundExpr> Outer, List<BoundExpr> Inner) MatchKeys(IReadOnlyList<BoundExpr> outerKeys, IReadOnlyList<BoundExpr> innerKeys, SourcePosition pos)
    {
        var outer = new List<BoundExpr>();
        var inner = new List<BoundExpr>();
        for (var i = 0; i < outerKeys.Count; i++)
        {
            var t = CommonType(outerKeys[i].Type, innerKeys[i].Type) ?? throw new SqlException(pos, $"the subquery compares {outerKeys[i].Type.SqlName()} with {innerKeys[i].Type.SqlName()}");
            t = t == DataType.Null ? DataType.String : t;
            outer.Add(Cast(outerKeys[i], t));
            inner.Add(Cast(innerKeys[i], t));
        }

        if (outer.Count == 0)
        {
            outer.Add(new BoundLiteral(1, DataType.Int32));
            inner.Add(new BoundLiteral(1, DataType.Int32));
        }

        return (outer, inner);
    }

    /// <summary>Projects the first columns of <paramref name="node"/> back to the schema of <paramref name="like"/>.</summary>
    private static ProjectNode Restore(LogicalNode node, LogicalNode like) => new(node, Cols(node, like.Schema.Count), new Schema(like.Schema.Fields));

    private static BoundExpr[] Cols(LogicalNode node, int count) => Enumerable.Range(0, count).Select(i => (BoundExpr)Col(node, i)).ToArray();

    private static BoundColumn Col(LogicalNode node, int i) => new(i, node.Schema[i].Type, node.Schema[i].Name);

    private static BoundCall Eq(BoundExpr a, BoundExpr b) => new("=", [a, b], DataType.Boolean);

    private static BoundCall Or(BoundExpr a, BoundExpr b) => new("OR", [a, b], DataType.Boolean);

    // ============================================================ INTERSECT / EXCEPT

    /// <summary>
    /// INTERSECT / EXCEPT: both inputs tagged with their side, grouped by every column (NULLs group together, as set
    /// operations compare them) counting each side's rows. The distinct forms keep a group when the counts say so; the
    /// ALL forms (bag semantics) write it min(left, right) or left - right times, as Flink's rewrite with ReplicateRows does.
    /// </summary>
    private static LogicalNode IntersectOrExcept(SetOpQuery u, LogicalNode left, LogicalNode right, Schema schema)
    {
        var m = schema.Count;
        var tagged = new Schema([.. schema.Fields, new Field("$left", DataType.Boolean, false), new Field("$right", DataType.Boolean, false)]);
        var yes = new BoundLiteral(true, DataType.Boolean);
        var no = new BoundLiteral(false, DataType.Boolean);
        var l = new ProjectNode(left, [.. Cols(left, m), yes, no], tagged);
        var r = new ProjectNode(right, [.. Cols(right, m), no, yes], tagged);
        var counts = new Schema([.. schema.Fields, new Field("$in_left", DataType.Int64, false), new Field("$in_right", DataType.Int64, false)]);
        var grouped = new AggregateNode(new UnionNode([l, r], tagged), Enumerable.Range(0, m).ToArray(),
            [new AggregateCall("COUNT", -1, false, m, DataType.Int64, "$in_left"), new AggregateCall("COUNT", -1, false, m + 1, DataType.Int64, "$in_right")], null, counts);
        var inLeft = Col(grouped, m);
        var inRight = Col(grouped, m + 1);
        var zero = new BoundLiteral(0L, DataType.Int64);
        if (!u.All)
        {
            var kept = new FilterNode(grouped, new BoundCall("AND", [new BoundCall(">", [inLeft, zero], DataType.Boolean), new BoundCall(u.Op == "INTERSECT" ? ">" : "=", [inRight, zero], DataType.Boolean)], DataType.Boolean));
            return new ProjectNode(kept, Cols(kept, m), schema);
        }

        BoundExpr times = u.Op == "INTERSECT"
            ? new BoundCase([(new BoundCall("<", [inLeft, inRight], DataType.Boolean), inLeft)], inRight, DataType.Int64)
            : new BoundCall("-", [inLeft, inRight], DataType.Int64);
        var counted = new ProjectNode(grouped, [.. Cols(grouped, m), times], new Schema([.. schema.Fields, new Field("$times", DataType.Int64, false)]));
        return new ReplicateRowsNode(new FilterNode(counted, new BoundCall(">", [Col(counted, m), zero], DataType.Boolean)), schema);
    }
}
