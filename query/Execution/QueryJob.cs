using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;
using Streams.Engine.Operators.EquiJoin;
using Streams.Engine.Operators.IntervalJoin;
using Streams.Engine.Operators.LookupJoin;
using Streams.Engine.Operators.Union;
using Streams.Engine.Operators.WindowJoin;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sources;
using Streams.Query.Binding;
using Streams.Query.Compilation;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>What a running query needs from its host.</summary>
/// <param name="Connectors">Where connector names resolve.</param>
/// <param name="BaseDirectory">The folder relative paths in WITH resolve against.</param>
/// <param name="Pool">The batch pool.</param>
/// <param name="DeadLetters">Where rejected records go.</param>
/// <param name="Parallelism">Tasks per keyed operator.</param>
/// <param name="Checkpoints">Checkpointing of the job (INSERT INTO with --state-dir), or null.</param>
/// <param name="ReuseSubplans">Whether identical subplans are computed once and fanned out.</param>
internal sealed record JobContext(ConnectorRegistry Connectors, string BaseDirectory, BatchPool Pool, IDeadLetterSink DeadLetters, int Parallelism, ICheckpointHooks? Checkpoints = null, bool ReuseSubplans = true);

/// <summary>
/// Turns an optimised logical plan into a runtime <see cref="JobGraph"/>: scans become sources with the declared
/// watermark strategy, filters and projections become chained compiled operators, aggregates and joins become keyed
/// engine operators behind hash exchanges.
/// </summary>
internal sealed class QueryJob
{
    private readonly JobContext _context;
    private readonly JobGraph _graph;
    private readonly SharedSubplans _shared;
    private readonly Dictionary<string, DataStream> _wired = new(StringComparer.Ordinal);

    private QueryJob(LogicalNode root, JobContext context)
    {
        _context = context;
        _shared = context.ReuseSubplans ? SharedSubplans.Of(root) : SharedSubplans.None;
        _graph = new JobGraph(new JobOptions { Parallelism = context.Parallelism, Pool = context.Pool, DeadLetters = context.DeadLetters, Name = "sql", Checkpoints = context.Checkpoints });
    }

    /// <summary>Builds the job; <paramref name="output"/> receives every result batch (serialised; the batch is not owned).</summary>
    public static Job Build(LogicalNode root, Action<ColumnBatch> output, JobContext context)
    {
        var job = new QueryJob(root, context);
        var stream = job.Wire(root);
        stream.ForEach(output, "output");
        return job._graph.Build();
    }

    /// <summary>Builds the job writing into a sink connector (INSERT INTO).</summary>
    public static Job BuildInsert(LogicalNode root, ISinkConnector sink, JobContext context)
    {
        var job = new QueryJob(root, context);
        job.Wire(root).To(sink, "sink");
        return job._graph.Build();
    }

    /// <summary>Creates the source connector of a declared stream through the registry.</summary>
    public static ISourceConnector CreateSource(CatalogEntry entry, Schema schema, JobContext context)
    {
        var factory = Factory(entry, context);
        return factory.CreateSource(Context(entry, schema, context));
    }

    /// <summary>Creates the sink connector of a declared table.</summary>
    public static ISinkConnector CreateSink(CatalogEntry entry, JobContext context) => Factory(entry, context).CreateSink(Context(entry, entry.Schema, context));

    private static ConnectorContext Context(CatalogEntry entry, Schema schema, JobContext context)
    {
        var options = entry.Options.GroupBy(o => o.Key, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key.ToLowerInvariant(), g => g.Last().Value);
        return new ConnectorContext(entry.Name, schema, options, context.BaseDirectory, null, context.DeadLetters, context.Pool);
    }

    private static IConnectorFactory Factory(CatalogEntry entry, JobContext context)
    {
        var name = entry.Option("connector") ?? throw new ConnectorException($"`{entry.Name}` has no 'connector' option in WITH (...)");
        if (!context.Connectors.TryGet(name, out var factory))
        {
            throw new ConnectorException($"unknown connector '{name}' for `{entry.Name}` (known: {string.Join(", ", context.Connectors.Names)})");
        }

        return factory;
    }

    /// <summary>The stream of <paramref name="node"/>'s rows; a subtree the plan uses more than once is built once and fanned out.</summary>
    private DataStream Wire(LogicalNode node)
    {
        if (!_shared.IsShared(node))
        {
            return WireNode(node);
        }

        var key = _shared.KeyOf(node);
        if (!_wired.TryGetValue(key, out var stream))
        {
            stream = WireNode(node);
            _wired[key] = stream;
        }

        return stream.Branch();
    }

    private DataStream WireNode(LogicalNode node)
    {
        switch (node)
        {
            case ScanNode scan:
                {
                    var schema = scan.Schema;
                    var source = CreateSource(scan.Source, schema, _context);
                    var watermarks = schema.EventTimeIndex >= 0 ? new WatermarkStrategy(schema.EventTimeIndex, scan.Source.WatermarkDelayMs) : null;
                    var stream = _graph.Source(scan.Source.Name, source, schema, watermarks);
                    if (scan.PushedFilter is not null)
                    {
                        stream = stream.Filter(ExpressionCompiler.CompileFilter(scan.PushedFilter, schema), "filter");
                    }

                    return stream;
                }

            case ProjectNode { Input: ScanNode { Schema.EventTimeIndex: < 0 } scan } project when project.Schema.EventTimeIndex >= 0:
                {
                    // WATERMARK on a computed column: compute the columns in the source so watermarks come from them.
                    var filter = scan.PushedFilter is null ? null : ExpressionCompiler.CompileFilter(scan.PushedFilter, scan.Schema);
                    var source = new ComputedColumnsSource(CreateSource(scan.Source, scan.Schema, _context), filter, ExpressionCompiler.CompileProjector(project.Exprs, scan.Schema, project.Schema), project.Schema);
                    return _graph.Source(scan.Source.Name, source, project.Schema, new WatermarkStrategy(project.Schema.EventTimeIndex, scan.Source.WatermarkDelayMs));
                }

            case FilterNode filter:
                return Wire(filter.Input).Filter(ExpressionCompiler.CompileFilter(filter.Predicate, filter.Input.Schema));
            case ProjectNode project when project.IsIdentity:
                return Wire(project.Input);
            case ProjectNode project:
                return Wire(project.Input).Project(project.Schema, ExpressionCompiler.CompileProjector(project.Exprs, project.Input.Schema, project.Schema));
            case UnionNode union:
                {
                    var result = Wire(union.Inputs[0]);
                    for (var i = 1; i < union.Inputs.Count; i++)
                    {
                        var left = result;
                        var right = Wire(union.Inputs[i]);
                        result = _graph.Connect("union", left, right, union.Schema, _ => new UnionOperator(left.Schema, right.Schema));
                    }

                    return result;
                }

            case JoinNode join:
                return WireJoin(join);
            case ValuesNode values:
                return _graph.Source("values", new InMemorySource(values.Schema, [values.Rows], pool: _context.Pool), values.Schema);
            case TemporalJoinNode temporal:
                {
                    var left = Wire(temporal.Left);
                    var right = Wire(temporal.Right);
                    var type = temporal.Kind == "LEFT" ? JoinType.Left : JoinType.Inner;
                    var lk = temporal.LeftKeys.ToArray();
                    var rk = temporal.RightKeys.ToArray();
                    var outSchema = JoinSchemas.Concat(left.Schema, right.Schema, type, temporal.LeftTime);
                    return _graph.Connect("temporal-join", left, right, outSchema,
                        _ => new TemporalJoinOperator(left.Schema, right.Schema, lk, rk, type, temporal.LeftTime, temporal.RightTime), lk, rk);
                }

            default:
                return PhysicalOperators.Wire(node, Wire(node.Inputs[0]), _context);
        }
    }

    private DataStream WireJoin(JoinNode join)
    {
        if (join.LeftKeys.Count == 0)
        {
            throw new NotSupportedException("not supported: joins without an equality condition between the two inputs (cross joins)");
        }

        var type = join.Kind == "LEFT" ? JoinType.Left : JoinType.Inner;
        var lk = join.LeftKeys.ToArray();
        var rk = join.RightKeys.ToArray();
        DataStream joined;
        if (join.IsWindowJoin && join.Left is WindowAssignNode lw && join.Right is WindowAssignNode rw && lw.Window == rw.Window with { TimeColumn = lw.Window.TimeColumn })
        {
            // The window join assigns windows itself: join the raw inputs on the non-window keys, then lay the columns out as the plan expects.
            var leftRaw = Wire(lw.Input);
            var rightRaw = Wire(rw.Input);
            var lRawCount = lw.Input.Schema.Count;
            var rRawCount = rw.Input.Schema.Count;
            var keyPairs = lk.Zip(rk).Where(p => p.First < lRawCount && p.Second < rRawCount).ToArray();
            var window = lw.Window.Kind switch
            {
                "TUMBLE" => JoinWindow.Tumble(lw.Window.SizeMs),
                "HOP" => JoinWindow.Hop(lw.Window.SlideMs, lw.Window.SizeMs),
                "SESSION" => JoinWindow.Session(lw.Window.GapMs),
                _ => throw new NotSupportedException($"not supported: window join over {lw.Window.Kind} windows"),
            };
            var lkeys = keyPairs.Select(p => p.First).ToArray();
            var rkeys = keyPairs.Select(p => p.Second).ToArray();
            var outSchema = JoinSchemas.Concat(leftRaw.Schema, rightRaw.Schema, type, -1,
                new Field("window_start", DataType.Timestamp, false), new Field("window_end", DataType.Timestamp, false), new Field("window_time", DataType.Timestamp, false));
            var lt = lw.Window.TimeColumn;
            var rt = rw.Window.TimeColumn;
            joined = _graph.Connect("window-join", leftRaw, rightRaw, outSchema, _ => new WindowJoinOperator(leftRaw.Schema, rightRaw.Schema, lkeys, rkeys, window, type, lt, rt), lkeys, rkeys);
            var n = lRawCount + rRawCount;
            var layout = new List<BoundExpr>();
            for (var i = 0; i < lRawCount; i++)
            {
                layout.Add(new BoundColumn(i, outSchema[i].Type, outSchema[i].Name));
            }

            for (var w = 0; w < 3; w++)
            {
                layout.Add(new BoundColumn(n + w, DataType.Timestamp, outSchema[n + w].Name));
            }

            for (var i = 0; i < rRawCount; i++)
            {
                layout.Add(new BoundColumn(lRawCount + i, outSchema[lRawCount + i].Type, outSchema[lRawCount + i].Name));
            }

            for (var w = 0; w < 3; w++)
            {
                layout.Add(new BoundColumn(n + w, DataType.Timestamp, outSchema[n + w].Name));
            }

            joined = joined.Project(join.Schema, ExpressionCompiler.CompileProjector(layout, outSchema, join.Schema), "window-join-layout");
        }
        else if (join.IsWindowJoin && join.Left.WindowColumns is { Window.Kind: "TUMBLE" or "HOP" or "SESSION" } lwc && join.Right.WindowColumns is { } rwc)
        {
            // Both inputs already carry their windows (window aggregates): the join keeps all equality keys and holds each
            // row until its window is complete, found as for a regrouping aggregate (a tumbling window over window_end).
            // A session ends at any millisecond and its row is emitted once the watermark reaches end - 1, so each end is
            // its own 1 ms window, complete when the watermark reaches it.
            var left = Wire(join.Left);
            var right = Wire(join.Right);
            var window = lwc.Window.Kind switch
            {
                "TUMBLE" => JoinWindow.Tumble(lwc.Window.SizeMs, lwc.Window.OffsetMs + 1),
                "HOP" => JoinWindow.Tumble(lwc.Window.SlideMs, lwc.Window.OffsetMs + 1),
                _ => JoinWindow.Tumble(1),
            };
            var outSchema = JoinSchemas.Concat(left.Schema, right.Schema, type, -1,
                new Field("window_start", DataType.Timestamp, false), new Field("window_end", DataType.Timestamp, false), new Field("window_time", DataType.Timestamp, false));
            joined = _graph.Connect("window-join", left, right, outSchema,
                _ => new WindowJoinOperator(left.Schema, right.Schema, lk, rk, window, type, lwc.End, rwc.End), lk, rk);
            var layout = Enumerable.Range(0, join.Schema.Count).Select(i => (BoundExpr)new BoundColumn(i, outSchema[i].Type, outSchema[i].Name)).ToArray();
            joined = joined.Project(join.Schema, ExpressionCompiler.CompileProjector(layout, outSchema, join.Schema), "window-join-layout");
        }
        else
        {
            var left = Wire(join.Left);
            var right = Wire(join.Right);
            var outSchema = JoinSchemas.Concat(left.Schema, right.Schema, type, join.Interval is null ? -1 : left.Schema.EventTimeIndex >= 0 ? left.Schema.EventTimeIndex : -1);
            if (join.Interval is { } iv)
            {
                joined = _graph.Connect("interval-join", left, right, outSchema,
                    _ => new IntervalJoinOperator(left.Schema, right.Schema, lk, rk, iv.LowerMs, iv.UpperMs, type, iv.LeftTime, iv.RightTime, leftUpperTimeColumn: iv.LeftUpperTime), lk, rk);
            }
            else
            {
                joined = _graph.Connect("join", left, right, outSchema, _ => new EquiJoinOperator(left.Schema, right.Schema, lk, rk, type), lk, rk);
            }
        }

        if (join.Residual is not null)
        {
            if (type == JoinType.Left)
            {
                // A residual condition of a LEFT join decides matching, not filtering: the operators match on keys (and time) only.
                throw new NotSupportedException("not supported: LEFT JOIN with ON conditions other than key equalities and time bounds");
            }

            joined = joined.Filter(ExpressionCompiler.CompileFilter(join.Residual, joined.Schema), "join-condition");
        }

        return joined;
    }
}
