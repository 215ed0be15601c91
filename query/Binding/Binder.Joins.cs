using Streams.Engine.Data;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

/// <summary>Joins beyond a plain equi-join: keys that are expressions, FULL OUTER JOIN, temporal joins.</summary>
internal sealed partial class Binder
{
    // ============================================================ join conditions on expressions

    /// <summary>
    /// Plans a join whose ON has equalities between expressions (a cast from INT to BIGINT, a computed key) rather than
    /// bare columns: each side gets its expression as an extra key column. For a LEFT join, conditions on the right
    /// input alone filter that input first (they only decide which right rows can match). The output has the
    /// original columns only.
    /// </summary>
    private static LogicalNode JoinOnExpressions(LogicalNode left, LogicalNode right, string kind, BoundExpr? cond, Schema schema)
    {
        var n = left.Schema.Count;
        var m = right.Schema.Count;
        var leftKeys = new List<BoundExpr>();
        var rightKeys = new List<BoundExpr>();
        var rightOnly = new List<BoundExpr>();
        var rest = new List<BoundExpr>();
        foreach (var part in cond is null ? [] : BoundExprs.Conjuncts(cond))
        {
            if (part is BoundCall { Name: "=", Args: [var a, var b] } && !(a is BoundColumn && b is BoundColumn) && kind != "CROSS")
            {
                var (sa, sb) = (SideOf(a, n), SideOf(b, n));
                if (sa + sb is "LR" or "RL")
                {
                    var (l, r) = sa == "L" ? (a, b) : (b, a);
                    leftKeys.Add(l);
                    rightKeys.Add(BoundExprs.Remap(r, c => c with { Index = c.Index - n }));
                    continue;
                }
            }

            if (kind == "LEFT" && SideOf(part, n) == "R" && part is not BoundCall { Name: "=", Args: [BoundColumn, BoundColumn] })
            {
                rightOnly.Add(BoundExprs.Remap(part, c => c with { Index = c.Index - n }));
                continue;
            }

            rest.Add(part);
        }

        if (leftKeys.Count == 0 && rightOnly.Count == 0)
        {
            return JoinPlanner.Create(left, right, kind, cond, schema);
        }

        var k = leftKeys.Count;
        if (BoundExprs.And(rightOnly) is { } rightFilter)
        {
            right = new FilterNode(right, rightFilter);
        }

        var leftExt = k == 0 ? left : new ProjectNode(left, [.. Cols(left, n), .. leftKeys], new Schema([.. left.Schema.Fields, .. leftKeys.Select((e, i) => new Field("$lkey" + i, e.Type))], left.Schema.EventTimeIndex));
        var rightExt = k == 0 ? right : new ProjectNode(right, [.. Cols(right, m), .. rightKeys], new Schema([.. right.Schema.Fields, .. rightKeys.Select((e, i) => new Field("$rkey" + i, e.Type))], right.Schema.EventTimeIndex));

        // Right columns move past the left key columns.
        var shifted = rest.Select(p => BoundExprs.Remap(p, c => c.Index >= n ? c with { Index = c.Index + k } : c)).ToList();
        for (var i = 0; i < k; i++)
        {
            shifted.Add(Eq(Col(leftExt, n + i), new BoundColumn(n + k + m + i, rightKeys[i].Type, "$rkey" + i)));
        }

        var extSchema = new Schema([.. leftExt.Schema.Fields, .. rightExt.Schema.Fields.Select(f => kind == "LEFT" ? f with { Nullable = true } : f)]);
        var joined = JoinPlanner.Create(leftExt, rightExt, kind, BoundExprs.And(shifted), k == 0 ? schema : extSchema);
        if (k == 0)
        {
            return joined;
        }

        var layout = Enumerable.Range(0, n).Concat(Enumerable.Range(n + k, m)).Select(i => (BoundExpr)Col(joined, i)).ToArray();
        return new ProjectNode(joined, layout, schema);
    }

    /// <summary>"L" when every column of <paramref name="e"/> is a left one, "R" when all are right ones, else "" (none or both).</summary>
    private static string SideOf(BoundExpr e, int n)
    {
        var cols = new HashSet<int>();
        BoundExprs.CollectColumns(e, cols);
        return cols.Count == 0 ? "" : cols.All(c => c < n) ? "L" : cols.All(c => c >= n) ? "R" : "";
    }

    // ============================================================ FULL OUTER JOIN, temporal joins

    /// <summary>FULL JOIN = LEFT JOIN plus the right rows no left row matches, padded with NULLs on the left.</summary>
    private (LogicalNode, Scope) BindFullJoin(JoinRef j, LogicalNode left, Scope ls, LogicalNode right, Scope rs)
    {
        var scope = new Scope([.. ls.Columns, .. rs.Columns]);
        var schema = new Schema(left.Schema.Fields.Concat(right.Schema.Fields).Select(f => f with { Nullable = true }));
        var cond = j.On is null ? null : BindPredicate(j.On, scope, "ON");
        if (JoinPlanner.Create(left, right, "LEFT", cond, schema) is not JoinNode { Residual: null, Interval: null, IsWindowJoin: false, LeftKeys.Count: > 0 } leftJoin)
        {
            throw new SqlException(j.Pos, "not supported: FULL OUTER JOIN with ON conditions other than key equalities");
        }

        var n = left.Schema.Count;
        var unmatched = SemiJoin(right, leftJoin.RightKeys.Select(k => (BoundExpr)Col(right, k)).ToArray(), left, leftJoin.LeftKeys.Select(k => (BoundExpr)Col(left, k)).ToArray(), anti: true, j.Pos);
        var padded = new ProjectNode(unmatched,
            [.. left.Schema.Fields.Select(f => (BoundExpr)new BoundLiteral(null, f.Type)), .. Cols(unmatched, right.Schema.Count)], schema);
        var leftPart = new ProjectNode(leftJoin, Cols(leftJoin, n + right.Schema.Count), schema);
        return (new UnionNode([leftPart, padded], schema), scope);
    }

    /// <summary>
    /// <c>JOIN versioned FOR SYSTEM_TIME AS OF stream.time ON keys</c>: each stream row joins the version of the table
    /// valid at its event time. The table needs a PRIMARY KEY and a WATERMARK (Flink's event-time versioned table).
    /// </summary>
    private (LogicalNode, Scope) BindTemporalJoin(JoinRef j, TableRef table, LogicalNode left, Scope ls, LogicalNode right, Scope rs)
    {
        if (j.Kind is not ("INNER" or "LEFT"))
        {
            throw new SqlException(j.Pos, $"not supported: {j.Kind} JOIN with FOR SYSTEM_TIME AS OF (use JOIN or LEFT JOIN)");
        }

        var entry = _catalog.Get(table.Name, table.Pos);
        if (right.Schema.EventTimeIndex < 0)
        {
            throw new SqlException(table.AsOf!.Pos, $"not supported: processing-time temporal joins; `{table.Name}` needs a WATERMARK to be an event-time versioned table");
        }

        if (entry.PrimaryKey.Count == 0)
        {
            throw new SqlException(table.Pos, $"`{table.Name}` needs a PRIMARY KEY to be a versioned table for FOR SYSTEM_TIME AS OF");
        }

        var time = BindExpr(table.AsOf!, ls);
        if (time is not BoundColumn { Type: DataType.Timestamp } timeColumn || timeColumn.Index != left.Schema.EventTimeIndex)
        {
            throw new SqlException(table.AsOf!.Pos, "FOR SYSTEM_TIME AS OF needs the event-time (WATERMARK) column of the left input");
        }

        var scope = new Scope([.. ls.Columns, .. rs.Columns]);
        var schema = new Schema(left.Schema.Fields.Concat(right.Schema.Fields.Select(f => j.Kind == "LEFT" ? f with { Nullable = true } : f)), left.Schema.EventTimeIndex);
        var cond = j.On is null ? null : BindPredicate(j.On, scope, "ON");
        var split = JoinPlanner.Create(left, right, "INNER", cond, schema) as JoinNode;
        if (split is null || split.LeftKeys.Count == 0 || split.Interval is not null || split.IsWindowJoin)
        {
            throw new SqlException(j.On?.Pos ?? j.Pos, "a temporal join needs ON equalities between the stream and the table's key");
        }

        var keyNames = split.RightKeys.Select(k => right.Schema[k].Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!entry.PrimaryKey.All(keyNames.Contains))
        {
            throw new SqlException(j.On!.Pos, $"a temporal join's ON must equate the whole PRIMARY KEY of `{table.Name}` ({string.Join(", ", entry.PrimaryKey)})");
        }

        if (j.Kind == "LEFT" && split.Residual is not null)
        {
            throw new SqlException(j.On!.Pos, "not supported: LEFT temporal join with ON conditions other than key equalities");
        }

        LogicalNode node = new TemporalJoinNode(left, right, j.Kind, split.LeftKeys, split.RightKeys, timeColumn.Index, right.Schema.EventTimeIndex, schema);
        if (split.Residual is not null)
        {
            node = new FilterNode(node, split.Residual);
        }

        return (node, scope);
    }
}
