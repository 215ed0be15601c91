using Streams.Engine.Data;
using Streams.Query.Compilation;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

/// <summary>
/// WITH, VALUES, subqueries in WHERE and SELECT (AND-ed IN / [NOT] EXISTS planned as semi and anti joins on the engine's
/// keyed joins; scalar subqueries and every other IN / EXISTS / NOT IN joined in as columns), INTERSECT / EXCEPT [ALL].
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

    // ============================================================ subqueries in WHERE and SELECT

    /// <summary>True when <paramref name="e"/> contains a subquery anywhere (outside the bodies of subqueries).</summary>
    private static bool HasSubquery(SqlExpr e) => FirstSubquery(e) is not null;

    private static SqlExpr? FirstSubquery(SqlExpr e)
    {
        var found = new List<SqlExpr>();
        CollectSubqueries(e, found);
        return found.FirstOrDefault();
    }

    /// <summary>Every subquery of <paramref name="e"/> (scalar, EXISTS, [NOT] IN), outermost first, not those nested inside them.</summary>
    private static void CollectSubqueries(SqlExpr e, List<SqlExpr> into) => Walk(e, x =>
    {
        if (x is SubqueryExpr or InSubqueryExpr)
        {
            into.Add(x);
            return false;
        }

        return true;
    });

    private static IEnumerable<SqlExpr> AstConjuncts(SqlExpr e) =>
        e is BinaryExpr { Op: "AND" } and ? AstConjuncts(and.Left).Concat(AstConjuncts(and.Right)) : [e];

    /// <summary>
    /// Splits WHERE into plain conditions (returned) and conditions with subqueries, applied to <paramref name="node"/>
    /// (its columns stay as they are): an AND-ed IN, EXISTS or NOT EXISTS is a semi or anti join; any other use (NOT IN,
    /// under OR or NOT, inside CASE, scalar comparisons) joins each subquery's value in as a column and filters on the
    /// condition, in SQL's three-valued logic.
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
                InSubqueryExpr { Negated: false } @in when !negated => BindInSubquery(node, scope, @in),
                SubqueryExpr { Kind: "EXISTS" } exists => BindExists(node, scope, exists, negated),
                _ => FilterOnSubqueryValues(node, scope, part),
            };
        }

        return null;
    }

    /// <summary>A condition over subquery values: they are joined to every row, the condition filters, the extra columns go.</summary>
    private LogicalNode FilterOnSubqueryValues(LogicalNode outer, Scope scope, SqlExpr part)
    {
        var node = AttachSubqueries(outer, scope, [part], out var values);
        var predicate = BindExprWith(part, scope, e => values.TryGetValue(e, out var v) ? v : null);
        if (predicate.Type is not (DataType.Boolean or DataType.Null))
        {
            throw new SqlException(part.Pos, $"WHERE needs a BOOLEAN condition, not {predicate.Type.SqlName()}");
        }

        return Restore(new FilterNode(node, Cast(predicate, DataType.Boolean)), outer);
    }

    /// <summary>
    /// Joins the value of every subquery in <paramref name="exprs"/> to each row of <paramref name="outer"/> as an extra
    /// column (LEFT joins against at most one row per key, so no row is lost or repeated); <paramref name="values"/> maps
    /// each subquery to the expression that stands for it when binding <paramref name="exprs"/>.
    /// <list type="bullet">
    /// <item>Scalar: the subquery's value; a correlated aggregate is grouped by its correlation columns, and a key it has
    /// no group for gets what the expression gives over an empty group (0 for COUNT, NULL for SUM, ...), as in SQL.</item>
    /// <item>EXISTS: whether the (distinct) correlation keys of the subquery include the row's.</item>
    /// <item>[NOT] IN: TRUE when the value is among the subquery's for the row's correlation keys; else FALSE when there
    /// are none, NULL when the operand or one of them is NULL, FALSE otherwise.</item>
    /// </list>
    /// </summary>
    private LogicalNode AttachSubqueries(LogicalNode outer, Scope scope, IEnumerable<SqlExpr> exprs, out Dictionary<SqlExpr, BoundExpr> values)
    {
        var subqueries = new List<SqlExpr>();
        foreach (var e in exprs)
        {
            CollectSubqueries(e, subqueries);
        }

        var node = outer;
        values = new Dictionary<SqlExpr, BoundExpr>(ReferenceEqualityComparer.Instance);
        foreach (var sq in subqueries)
        {
            var n = node.Schema.Count;
            BoundExpr value;
            switch (sq)
            {
                case SubqueryExpr { Kind: "scalar" } scalar:
                    {
                        var (outerKeys, inner) = ScalarSubquery(scalar, scope);
                        var (ok, ik) = MatchKeys(outerKeys, Cols(inner, inner.Schema.Count - 1), sq.Pos);
                        node = LookupJoin(node, ok, new ProjectNode(inner, [.. ik, Col(inner, inner.Schema.Count - 1)], KeysSchema(ik, new Field("$value", inner.Schema[^1].Type))));
                        value = Col(node, n + ik.Count);
                        if (outerKeys.Count > 0 && EmptyGroupValue(inner) is { Value: not null } empty)
                        {
                            // The matched key is NULL exactly when the subquery has no group for the row's keys (NULL keys never match).
                            value = new BoundCase([(new BoundCall("IS NULL", [Col(node, n)], DataType.Boolean), empty)], value, value.Type);
                        }

                        break;
                    }

                case SubqueryExpr exists:
                    {
                        var rows = ExistsRows(exists, scope);
                        var (ok, ik) = MatchKeys(rows.OuterKeys, rows.InnerKeys, sq.Pos);
                        node = LookupJoin(node, ok, DistinctKeys(rows.Inner, ik));
                        value = new BoundCall("IS NOT NULL", [Col(node, n)], DataType.Boolean);
                        break;
                    }

                default:
                    {
                        var @in = (InSubqueryExpr)sq;
                        var rows = InRows(@in, scope);
                        var operand = BindExpr(@in.Operand, scope);
                        var (ok, ik) = MatchKeys([.. rows.OuterKeys, operand], [.. rows.InnerKeys, rows.Item!], sq.Pos);
                        var found = LookupJoin(node, ok, DistinctKeys(rows.Inner, ik));
                        var withFound = new ProjectNode(found, [.. Cols(found, n), new BoundCall("IS NOT NULL", [Col(found, n)], DataType.Boolean)], new Schema([.. node.Schema.Fields, new Field("$found", DataType.Boolean, false)]));

                        // Per correlation key: how many rows the subquery has, and how many of them are not NULL.
                        var (sk, si) = MatchKeys(rows.OuterKeys, rows.InnerKeys, sq.Pos);
                        var counted = new ProjectNode(rows.Inner, [.. si, ik[^1]], KeysSchema(si, new Field("$item", ik[^1].Type)));
                        var stats = new AggregateNode(counted, Enumerable.Range(0, si.Count).ToArray(),
                            [new AggregateCall("COUNT", -1, false, -1, DataType.Int64, "$rows"), new AggregateCall("COUNT", si.Count, false, -1, DataType.Int64, "$values")], null,
                            KeysSchema(si, new Field("$rows", DataType.Int64, false), new Field("$values", DataType.Int64, false)));
                        node = LookupJoin(withFound, sk, stats);
                        var rowCount = Col(node, n + 1 + sk.Count);
                        var unknown = new BoundCall("OR", [new BoundCall("IS NULL", [ok[^1]], DataType.Boolean), new BoundCall("<>", [rowCount, Col(node, n + 2 + sk.Count)], DataType.Boolean)], DataType.Boolean);
                        value = new BoundCase(
                            [(Col(node, n), new BoundLiteral(true, DataType.Boolean)), (new BoundCall("IS NULL", [rowCount], DataType.Boolean), new BoundLiteral(false, DataType.Boolean)), (unknown, new BoundLiteral(null, DataType.Boolean))],
                            new BoundLiteral(false, DataType.Boolean), DataType.Boolean);
                        break;
                    }
            }

            node = new ProjectNode(node, [.. Cols(node, n), value], new Schema([.. node.Schema.Fields.Take(n), new Field("$subquery", value.Type)]));
            var column = new BoundColumn(n, value.Type, "$subquery");
            values[sq] = sq is InSubqueryExpr { Negated: true } ? new BoundCall("NOT", [column], DataType.Boolean) : column;
        }

        return node;
    }

    private static Schema KeysSchema(IReadOnlyList<BoundExpr> keys, params Field[] more) => new([.. keys.Select((e, i) => new Field("$match" + i, e.Type)), .. more]);

    /// <summary>The distinct values of <paramref name="keys"/> over <paramref name="inner"/>.</summary>
    private static AggregateNode DistinctKeys(LogicalNode inner, IReadOnlyList<BoundExpr> keys)
    {
        var projected = new ProjectNode(inner, keys, KeysSchema(keys));
        return new AggregateNode(projected, Enumerable.Range(0, keys.Count).ToArray(), [], null, projected.Schema);
    }

    /// <summary>
    /// <paramref name="node"/>'s columns, then <paramref name="right"/>'s, which are NULL where it has no row for the
    /// node's <paramref name="keys"/>: a LEFT join on the key pairs (<paramref name="right"/>'s first columns are its
    /// keys, at most one row each), so every row of <paramref name="node"/> comes out once.
    /// </summary>
    private static ProjectNode LookupJoin(LogicalNode node, IReadOnlyList<BoundExpr> keys, LogicalNode right)
    {
        var n = node.Schema.Count;
        var k = keys.Count;
        var left = new ProjectNode(node, [.. Cols(node, n), .. keys], new Schema([.. node.Schema.Fields, .. keys.Select((e, i) => new Field("$key" + i, e.Type))]));
        var condition = BoundExprs.And(Enumerable.Range(0, k).Select(i => Eq(Col(left, n + i), new BoundColumn(n + k + i, right.Schema[i].Type, right.Schema[i].Name))))!;
        var nullableRight = right.Schema.Fields.Select(f => f with { Nullable = true }).ToArray();
        var joined = JoinPlanner.Create(left, right, "LEFT", condition, new Schema([.. left.Schema.Fields, .. nullableRight]));
        return new ProjectNode(joined, [.. Cols(joined, n), .. Enumerable.Range(n + k, right.Schema.Count).Select(i => (BoundExpr)Col(joined, i))], new Schema([.. node.Schema.Fields, .. nullableRight]));
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

    /// <summary>An AND-ed IN (SELECT ...): a semi join on the correlation keys and the value.</summary>
    private LogicalNode BindInSubquery(LogicalNode outer, Scope scope, InSubqueryExpr e)
    {
        var rows = InRows(e, scope);
        return SemiJoin(outer, [.. rows.OuterKeys, BindExpr(e.Operand, scope)], rows.Inner, [.. rows.InnerKeys, rows.Item!], anti: false, e.Pos);
    }

    /// <summary>An AND-ed [NOT] EXISTS (SELECT ...): a semi or anti join on the correlation keys.</summary>
    private LogicalNode BindExists(LogicalNode outer, Scope scope, SubqueryExpr e, bool negated)
    {
        var rows = ExistsRows(e, scope);
        return SemiJoin(outer, rows.OuterKeys, rows.Inner, rows.InnerKeys, negated, e.Pos);
    }

    /// <summary>The rows of an IN subquery: decorrelated when it is a simple SELECT, with its one selected value.</summary>
    private Correlated InRows(InSubqueryExpr e, Scope scope)
    {
        if (e.Query is SelectQuery s && Correlations(s, scope) is { } c)
        {
            if (s.Items.Count != 1 || s.Items[0].IsStar)
            {
                throw new SqlException(e.Query.Pos, "IN (SELECT ...) needs exactly one selected column");
            }

            return c with { Item = BindExpr(s.Items[0].Expr!, c.InnerScope) };
        }

        var (sub, subScope) = BindUncorrelated(e.Query, scope);
        return sub.Schema.Count == 1
            ? new Correlated(sub, subScope, [], [], Col(sub, 0))
            : throw new SqlException(e.Query.Pos, $"IN (SELECT ...) needs exactly one selected column, not {sub.Schema.Count}");
    }

    /// <summary>
    /// Binds a subquery that cannot be decorrelated on its own; when it fails because the subquery refers to the outer
    /// query (aggregates, GROUP BY or set operations with correlation), says so instead of reporting an unknown name.
    /// </summary>
    private (LogicalNode, Scope) BindUncorrelated(QueryExpr query, Scope outerScope)
    {
        try
        {
            return BindQuery(query);
        }
        catch (SqlException) when (RefersToOuter(query, outerScope))
        {
            throw new SqlException(query.Pos, "not supported: a correlated subquery with aggregates, GROUP BY, DISTINCT or set operations (only SELECT ... FROM ... WHERE correlates, through equalities)");
        }
    }

    /// <summary>True when a condition in <paramref name="query"/>'s WHERE binds only with the outer query's columns in scope.</summary>
    private bool RefersToOuter(QueryExpr query, Scope outerScope) => query switch
    {
        SetOpQuery u => RefersToOuter(u.Left, outerScope) || RefersToOuter(u.Right, outerScope),
        SelectQuery { From: not null, Where: not null } s when TryBindFrom(s.From) is { } innerScope =>
            AstConjuncts(s.Where).Any(part => TryBind(part, innerScope) is null && TryBind(part, new Scope([.. innerScope.Columns, .. outerScope.Columns])) is not null),
        _ => false,
    };

    private Scope? TryBindFrom(FromItem from)
    {
        try
        {
            return BindFrom(from).Item2;
        }
        catch (SqlException)
        {
            return null;
        }
    }

    /// <summary>The rows of an EXISTS subquery: a simple SELECT decorrelated, a set operation as it is (uncorrelated).</summary>
    private Correlated ExistsRows(SubqueryExpr e, Scope scope)
    {
        if (e.Query is not SelectQuery s)
        {
            var (sub, subScope) = BindUncorrelated(e.Query, scope);
            return new Correlated(sub, subScope, [], []);
        }

        return Correlations(s, scope) ?? throw new SqlException(s.Pos, "not supported: this EXISTS subquery (use SELECT ... FROM ... WHERE with equalities to the outer query)");
    }
    /// <summary>A subquery's rows with the correlation key pairs (and, for IN, the selected value over them).</summary>
    private sealed record Correlated(LogicalNode Inner, Scope InnerScope, List<BoundExpr> OuterKeys, List<BoundExpr> InnerKeys, BoundExpr? Item = null);

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
    private static LogicalNode SemiJoin(LogicalNode outer, IReadOnlyList<BoundExpr> outerKeys, LogicalNode inner, IReadOnlyList<BoundExpr> innerKeys, bool anti, SourcePosition pos)
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

        return Restore(joined, outer);
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
