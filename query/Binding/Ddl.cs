using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

/// <summary>Checks CREATE statements and turns them into catalog entries; fits INSERT queries to their target.</summary>
internal static class Ddl
{
    /// <summary>Flink connectors this engine has no counterpart for: rejected where the option names them.</summary>
    private static readonly HashSet<string> UnsupportedConnectors = new(StringComparer.OrdinalIgnoreCase)
    {
        "kafka", "upsert-kafka", "jdbc", "elasticsearch-6", "elasticsearch-7", "opensearch", "hbase-1.4", "hbase-2.2", "kinesis", "firehose",
        "pulsar", "upsert-pulsar", "hive", "mongodb", "mysql-cdc", "postgres-cdc", "oracle-cdc", "sqlserver-cdc", "rabbitmq", "dynamodb", "redis",
        "faker", "values", "socket", "mysql", "postgres", "iceberg", "hudi", "paimon", "delta",
    };

    /// <summary>Flink formats with no decoder here (the file connector reads json, csv and arrow).</summary>
    private static readonly HashSet<string> UnsupportedFormats = new(StringComparer.OrdinalIgnoreCase)
    {
        "avro", "avro-confluent", "parquet", "orc", "raw", "protobuf", "debezium-avro-confluent", "canal-json", "maxwell-json", "ogg-json",
    };

    public static CatalogEntry CreateEntry(CreateSourceStatement create, ConnectorRegistry connectors)
    {
        SourcePosition OptionPos(string key) => create.OptionPositions.TryGetValue(key, out var p) ? p : create.Pos;

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
        string? computedWatermark = null;
        if (create.Watermark is { } wm)
        {
            // The watermark may be on a computed column (ts AS TO_TIMESTAMP(...)): bind them all to know their types.
            var binder = new Binder(new Catalog());
            var all = fields.ToList();
            foreach (var c in computed)
            {
                all.Add(new Field(c.Name, binder.BindExpr(c.Computed!, Scope.Of(new Schema(fields), null)).Type));
            }

            eventTime = all.FindIndex(f => f.Name.Equals(wm.Column, StringComparison.OrdinalIgnoreCase));
            if (eventTime < 0)
            {
                throw new SqlException(wm.Pos, $"WATERMARK column `{wm.Column}` is not a column of `{create.Name}`" + NameSuggestion.Hint(wm.Column, all.Select(f => f.Name)));
            }

            if (all[eventTime].Type != DataType.Timestamp)
            {
                throw new SqlException(wm.Pos, $"WATERMARK column `{wm.Column}` must be TIMESTAMP(3), not {all[eventTime].Type.SqlName()}");
            }

            var schema0 = new Schema(all);
            var bound = binder.BindExpr(wm.Expr, Scope.Of(schema0, null));
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

            if (eventTime >= fields.Count)
            {
                computedWatermark = all[eventTime].Name;
                eventTime = -1;
            }
        }

        var options = create.Options;
        var connector = options.LastOrDefault(o => o.Key == "connector").Value;
        if (connector is not null && UnsupportedConnectors.Contains(connector))
        {
            throw new SqlException(OptionPos("connector"), $"not supported: connector '{connector}' (available: {string.Join(", ", connectors.Names)})");
        }

        if (options.LastOrDefault(o => o.Key is "format" or "value.format").Value is { } format && UnsupportedFormats.Contains(format))
        {
            throw new SqlException(OptionPos(options.Last(o => o.Key is "format" or "value.format").Key), $"not supported: format '{format}' (json, csv, arrow or debezium-json)");
        }

        if (connector is not null && connector.Equals("filesystem", StringComparison.OrdinalIgnoreCase) && !connectors.TryGet(connector, out _))
        {
            // Flink's filesystem connector is this engine's file connector: same path and format options.
            options = options.Select(o => o.Key == "connector" ? new KeyValuePair<string, string>("connector", "file") : o).ToArray();
        }

        var entry = new CatalogEntry
        {
            Name = create.Name,
            Kind = create.IsTable ? "TABLE" : "STREAM",
            Schema = new Schema(fields, eventTime),
            Computed = computed,
            Options = options,
            WatermarkDelayMs = delay,
            ComputedWatermark = computedWatermark,
            PrimaryKey = create.PrimaryKey,
            Pos = create.Pos,
        };

        connector = entry.Option("connector");
        if (connector is null)
        {
            throw new SqlException(create.Pos, $"`{create.Name}` needs WITH (connector = '...') (known: {string.Join(", ", connectors.Names)})");
        }

        if (!connectors.TryGet(connector, out _))
        {
            throw new SqlException(OptionPos("connector"), $"unknown connector '{connector}'" + NameSuggestion.Hint(connector, connectors.Names) + $" (known: {string.Join(", ", connectors.Names)})");
        }

        return entry;
    }

    /// <summary>INSERT INTO t (a, b): puts the query's columns at the named target columns and NULL in the others.</summary>
    public static LogicalNode ToNamedColumns(LogicalNode plan, CatalogEntry target, IReadOnlyList<(string Name, SourcePosition Pos)> columns, SourcePosition pos)
    {
        if (columns.Count != plan.Schema.Count)
        {
            throw new SqlException(pos, $"INSERT INTO `{target.Name}` names {columns.Count} columns, the query gives {plan.Schema.Count}");
        }

        var t = target.Schema;
        var source = new int[t.Count];
        Array.Fill(source, -1);
        for (var i = 0; i < columns.Count; i++)
        {
            var index = t.Fields.ToList().FindIndex(f => f.Name.Equals(columns[i].Name, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                throw new SqlException(columns[i].Pos, $"unknown column `{columns[i].Name}` of `{target.Name}`" + NameSuggestion.Hint(columns[i].Name, t.Fields.Select(f => f.Name)));
            }

            if (source[index] >= 0)
            {
                throw new SqlException(columns[i].Pos, $"column `{columns[i].Name}` is named twice");
            }

            source[index] = i;
        }

        var exprs = source.Select((s, i) => s < 0 ? new BoundLiteral(null, t[i].Type) : (BoundExpr)new BoundColumn(s, plan.Schema[s].Type, plan.Schema[s].Name)).ToArray();
        var fields = source.Select((s, i) => new Field(t[i].Name, s < 0 ? t[i].Type : plan.Schema[s].Type)).ToArray();
        return plan is SortLimitNode sort
            ? new SortLimitNode(new ProjectNode(sort.Input, exprs, new Schema(fields)), sort.Order.Select(o => (Array.IndexOf(source, o.Column), o.Descending)).ToArray(), sort.Limit)
            : new ProjectNode(plan, exprs, new Schema(fields));
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
