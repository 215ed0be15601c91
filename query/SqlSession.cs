using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Query.Binding;
using Streams.Query.Execution;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query;

/// <summary>Settings for running SQL.</summary>
public sealed record SqlSessionOptions
{
    /// <summary>Tasks per keyed operator (aggregates, joins).</summary>
    public int Parallelism { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>The batch pool every job rents from.</summary>
    public BatchPool Pool { get; init; } = BatchPool.Shared;

    /// <summary>Where poison records go; null keeps them in the job (reported as a count).</summary>
    public IDeadLetterSink? DeadLetters { get; init; }

    /// <summary>Checkpointing for INSERT INTO statements (exactly-once into two-phase sinks); null runs without.</summary>
    public SqlCheckpointOptions? Checkpoints { get; init; }
}

/// <summary>Where statement results go: result rows (NDJSON on a terminal) and plain text (EXPLAIN).</summary>
public interface ISqlOutput
{
    /// <summary>Opens a writer for the rows of one result with <paramref name="schema"/>.</summary>
    ISinkWriter OpenRows(Schema schema);

    /// <summary>Writes text output such as an EXPLAIN plan.</summary>
    void WriteText(string text);
}

/// <summary>
/// Runs SQL scripts against the connectors a host registered. <see cref="Prepare"/> parses, binds, type-checks and
/// plans every statement first, so a mistake anywhere is reported before anything runs.
/// </summary>
public sealed class SqlSession
{
    private readonly Catalog _catalog = new();
    private readonly ConnectorRegistry _connectors;
    private readonly string _baseDirectory;
    private readonly SqlSessionOptions _options;
    private const string ReuseSubplanKey = "table.optimizer.reuse-sub-plan-enabled";
    private int _inserts;
    private bool _reuseSubplans = true;

    /// <summary>Creates a session whose relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    public SqlSession(ConnectorRegistry connectors, string baseDirectory, SqlSessionOptions? options = null)
    {
        _connectors = connectors;
        _baseDirectory = baseDirectory;
        _options = options ?? new SqlSessionOptions();
    }

    /// <summary>Parses and plans <paramref name="sql"/>; DDL takes effect on the session's catalog in order.</summary>
    /// <exception cref="SqlException">The script has a syntax, name or type error, or uses an unsupported feature.</exception>
    public IReadOnlyList<PreparedStatement> Prepare(string sql)
    {
        var statements = SqlParser.ParseScript(sql);
        var result = new List<PreparedStatement>();
        foreach (var statement in statements)
        {
            if (statement is SetStatement set)
            {
                Apply(set);
                continue;
            }

            if (statement is StatementSetMarker)
            {
                continue;
            }

            result.Add(PrepareOne(statement));
        }

        return result;
    }

    private JobContext Context() => new(_connectors, _baseDirectory, _options.Pool, _options.DeadLetters ?? new CountingDeadLetters(), _options.Parallelism, ReuseSubplans: _reuseSubplans);

    /// <summary>
    /// SET / RESET of Flink's <c>table.optimizer.reuse-sub-plan-enabled</c> (whether identical subplans run once); other
    /// keys are accepted and have no effect.
    /// </summary>
    private void Apply(SetStatement set)
    {
        if (!set.Key.Equals(ReuseSubplanKey, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        _reuseSubplans = set.Value.ToLowerInvariant() switch
        {
            "" or "true" => true,
            "false" => false,
            _ => throw new SqlException(set.Pos, $"'{ReuseSubplanKey}' is 'true' or 'false', not '{set.Value}'"),
        };
    }

    private PreparedStatement PrepareOne(Statement statement)
    {
        switch (statement)
        {
            case CreateSourceStatement create:
                {
                    _catalog.Add(Ddl.CreateEntry(create, _connectors), create.IfNotExists);
                    return new PreparedStatement(StatementKind.Ddl, statement.Pos, Context());
                }

            case CreateViewStatement view:
                {
                    var (node, _) = new Binder(_catalog).BindQuery(view.Query);
                    _catalog.Add(new CatalogEntry { Name = view.Name, Kind = "VIEW", Schema = node.Schema, ViewQuery = view.Query, Pos = view.Pos }, false);
                    return new PreparedStatement(StatementKind.Ddl, statement.Pos, Context());
                }

            case DropStatement drop:
                {
                    if (!_catalog.Remove(drop.Name) && !drop.IfExists)
                    {
                        throw new SqlException(drop.NamePos, $"unknown stream or table `{drop.Name}`" + NameSuggestion.Hint(drop.Name, _catalog.Entries.Select(e => e.Name)));
                    }

                    return new PreparedStatement(StatementKind.Ddl, statement.Pos, Context());
                }

            case QueryStatement q:
                {
                    var plan = PlanQuery(q.Query);
                    return new PreparedStatement(StatementKind.Query, q.Pos, Context()) { Plan = plan };
                }

            case InsertStatement insert:
                {
                    var target = _catalog.Get(insert.Target, insert.TargetPos);
                    if (target.Kind == "VIEW")
                    {
                        throw new SqlException(insert.TargetPos, $"cannot INSERT INTO view `{target.Name}`");
                    }

                    var plan = PlanQuery(insert.Query);
                    if (insert.Columns is { } columns)
                    {
                        plan = Ddl.ToNamedColumns(plan, target, columns, insert.Query.Pos);
                    }

                    plan = Ddl.FitToTarget(plan, target, insert.Query.Pos);
                    return new PreparedStatement(StatementKind.Insert, insert.Pos, Context())
                    {
                        Plan = plan,
                        Target = target,
                        Checkpoints = _options.Checkpoints is { } c ? c with { StateDirectory = Path.Combine(c.StateDirectory, $"insert-{++_inserts}") } : null,
                    };
                }

            case ExplainStatement explain:
                {
                    var inner = explain.Inner switch
                    {
                        QueryStatement q => PlanQuery(q.Query),
                        InsertStatement i => Ddl.FitToTarget(PlanQuery(i.Query), _catalog.Get(i.Target, i.TargetPos), i.Query.Pos),
                        _ => throw new SqlException(explain.Inner.Pos, "not supported: EXPLAIN of this statement (EXPLAIN a SELECT or INSERT)"),
                    };
                    var text = PlanPrinter.Explain(inner, _options.Parallelism, _reuseSubplans);
                    return new PreparedStatement(StatementKind.Explain, explain.Pos, Context()) { Text = text };
                }

            case ShowStatement show:
                {
                    var kinds = show.What switch
                    {
                        "STREAMS" => new[] { "STREAM" },
                        "TABLES" => ["TABLE"],
                        "VIEWS" => ["VIEW"],
                        "SOURCES" or "SINKS" or "ALL" => ["STREAM", "TABLE"],
                        _ => throw new SqlException(show.Pos, $"not supported: SHOW {show.What} (SHOW STREAMS, TABLES or VIEWS)"),
                    };
                    var schema = new Schema([new Field("name", DataType.String), new Field("kind", DataType.String), new Field("connector", DataType.String)]);
                    var rows = _catalog.Entries.Where(e => kinds.Contains(e.Kind) || (show.What == "STREAMS" && e.Kind == "TABLE"))
                        .OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase)
                        .Select(e => new object?[] { e.Name, e.Kind, e.Option("connector") }).ToArray();
                    return new PreparedStatement(StatementKind.Rows, show.Pos, Context()) { RowsSchema = schema, Rows = rows };
                }

            case DescribeStatement describe:
                {
                    var entry = _catalog.Get(describe.Name, describe.NamePos);
                    var schema = new Schema([new Field("name", DataType.String), new Field("type", DataType.String), new Field("nullable", DataType.Boolean), new Field("key", DataType.String), new Field("watermark", DataType.String)]);
                    var rows = entry.Schema.Fields.Select((f, i) => new object?[]
                    {
                        f.Name,
                        f.Type.SqlName(),
                        f.Nullable,
                        entry.PrimaryKey.Contains(f.Name, StringComparer.OrdinalIgnoreCase) ? "PRI" : null,
                        i == entry.Schema.EventTimeIndex ? $"{f.Name} - INTERVAL '{entry.WatermarkDelayMs}' MILLISECOND" : null,
                    }).Concat(entry.Computed.Select(c => new object?[] { c.Name, "COMPUTED", true, null, null })).ToArray();
                    return new PreparedStatement(StatementKind.Rows, describe.Pos, Context()) { RowsSchema = schema, Rows = rows };
                }

            default:
                throw new SqlException(statement.Pos, "not supported: this statement");
        }
    }

    private LogicalNode PlanQuery(QueryExpr query)
    {
        var (node, _) = new Binder(_catalog).BindQuery(query);
        var optimised = Optimizer.Optimize(node);
        PlanChecker.Check(optimised, query.Pos);
        return optimised;
    }

    private sealed class CountingDeadLetters : IDeadLetterSink
    {
        public void Report(DeadLetter letter) => Console.Error.WriteLine($"warning: {letter.Location}: {letter.Reason}");
    }
}
