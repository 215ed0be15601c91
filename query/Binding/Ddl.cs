using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

/// <summary>Checks CREATE statements and turns them into catalog entries; fits INSERT queries to their target.</summary>
internal static class Ddl
{
    public static CatalogEntry CreateEntry(CreateSourceStatement create, ConnectorRegistry connectors)
    {
        var fields = new List<Field>();
        var computed = new List<ColumnDef>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var c in create.Columns)
        {
            if (!seen.Add(c.Name))
            {
                throw new SqlException(c.Pos, $"column `{c.Name}` is declared twice");
            }

            if (c.Computed is not null)
            {
                computed.Add(c);
            }
            else
            {
                if (computed.Count > 0)
                {
                    throw new SqlException(c.Pos, "not supported: physical columns after computed columns");
                }

                fields.Add(new Field(c.Name, c.Type.Type, !c.NotNull));
            }
        }

        foreach (var k in create.PrimaryKey)
        {
            if (fields.All(f => !f.Name.Equals(k, StringComparison.OrdinalIgnoreCase)))
            {
                throw new SqlException(create.Pos, $"PRIMARY KEY column `{k}` is not a column of `{create.Name}`" + NameSuggestion.Hint(k, fields.Select(f => f.Name)));
            }
        }

        var eventTime = -1;
        long delay = 0;
        if (create.Watermark is { } wm)
        {
            eventTime = fields.FindIndex(f => f.Name.Equals(wm.Column, StringComparison.OrdinalIgnoreCase));
            if (eventTime < 0)
            {
                if (computed.Any(c => c.Name.Equals(wm.Column, StringComparison.OrdinalIgnoreCase)))
                {
                    throw new SqlException(wm.Pos, $"not supported: WATERMARK on computed column `{wm.Column}`");
                }

                throw new SqlException(wm.Pos, $"WATERMARK column `{wm.Column}` is not a column of `{create.Name}`" + NameSuggestion.Hint(wm.Column, fields.Select(f => f.Name)));
            }

            if (fields[eventTime].Type != DataType.Timestamp)
            {
                throw new SqlException(wm.Pos, $"WATERMARK column `{wm.Column}` must be TIMESTAMP(3), not {fields[eventTime].Type.SqlName()}");
            }

            var schema0 = new Schema(fields);
            var bound = new Binder(new Catalog()).BindExpr(wm.Expr, Scope.Of(schema0, null));
            delay = bound switch
            {
                BoundColumn c when c.Index == eventTime => 0,
                BoundCall { Name: "-", Args: [BoundColumn c, BoundInterval iv] } when c.Index == eventTime => iv.Millis,
                BoundCall { Name: "+", Args: [BoundColumn c, BoundInterval iv] } when c.Index == eventTime => -iv.Millis,
                _ => throw new SqlException(wm.Expr.Pos, $"not supported: WATERMARK expression; write `{wm.Column} - INTERVAL 'n' SECOND`"),
            };
            if (delay < 0)
            {
                throw new SqlException(wm.Expr.Pos, "the watermark delay must not be negative");
            }
        }

        var entry = new CatalogEntry
        {
            Name = create.Name,
            Kind = create.IsTable ? "TABLE" : "STREAM",
            Schema = new Schema(fields, eventTime),
            Computed = computed,
            Options = create.Options,
            WatermarkDelayMs = delay,
            PrimaryKey = create.PrimaryKey,
            Pos = create.Pos,
        };

        var connector = entry.Option("connector");
        if (connector is null)
        {
            throw new SqlException(create.Pos, $"`{create.Name}` needs WITH (connector = '...') (known: {string.Join(", ", connectors.Names)})");
        }

        if (!connectors.TryGet(connector, out _))
        {
            throw new SqlException(create.Pos, $"unknown connector '{connector}'" + NameSuggestion.Hint(connector, connectors.Names) + $" (known: {string.Join(", ", connectors.Names)})");
        }

        return entry;
    }

    /// <summary>Casts and renames the query's columns to the target's; the column counts must match.</summary>
    public static LogicalNode FitToTarget(LogicalNode plan, CatalogEntry target, SourcePosition pos)
    {
        var t = target.Schema;
        if (plan.Schema.Count != t.Count)
        {
            throw new SqlException(pos, $"INSERT INTO `{target.Name}` needs {t.Count} columns ({string.Join(", ", t.Fields.Select(f => f.Name))}), the query gives {plan.Schema.Count}");
        }

        var exprs = new List<BoundExpr>();
        var changed = false;
        for (var i = 0; i < t.Count; i++)
        {
            var from = plan.Schema[i].Type;
            var to = t[i].Type;
            BoundExpr col = new BoundColumn(i, from, plan.Schema[i].Name);
            if (from != to)
            {
                var ok = (from.IsNumeric() && to.IsNumeric()) || to == DataType.String || from == DataType.Null;
                if (!ok)
                {
                    throw new SqlException(pos, $"column {i + 1} of the query is {from.SqlName()}, but `{target.Name}.{t[i].Name}` is {to.SqlName()}");
                }

                col = Binder.Cast(col, to);
                changed = true;
            }

            changed |= !plan.Schema[i].Name.Equals(t[i].Name, StringComparison.Ordinal);
            exprs.Add(col);
        }

        if (!changed)
        {
            return plan;
        }

        var schema = new Schema(t.Fields);
        if (plan is SortLimitNode s)
        {
            return new SortLimitNode(new ProjectNode(s.Input, exprs, schema), s.Order, s.Limit);
        }

        return new ProjectNode(plan, exprs, schema);
    }
}
