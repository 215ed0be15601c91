using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.GroupAggregate;
using Streams.Engine.Operators.OverAggregate;
using Streams.Engine.Operators.SessionWindow;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Operators.WindowMaxPrune;
using Streams.Engine.Runtime;
using Streams.Query.Binding;
using Streams.Query.Compilation;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>Chooses the engine operator for each stateful single-input node (aggregates, windows, Top-N).</summary>
internal static class PhysicalOperators
{
    /// <summary>Appends the operator for <paramref name="node"/> to <paramref name="input"/>.</summary>
    public static DataStream Wire(LogicalNode node, DataStream input, JobContext context)
    {
        switch (node)
        {
            case AggregateNode agg:
                {
                    var keys = agg.Keys.ToArray();
                    var specs = agg.Aggregates.Select(ToSpec).ToArray();
                    var keyed = input.KeyBy(keys);
                    var inputSchema = input.Schema;
                    if (agg.Window is null)
                    {
                        var spec = new GroupAggregateSpec(keys, specs, AppendOnlyInput: !agg.Input.IsUpdating);
                        var grouped = keyed.Apply("group-aggregate", agg.Schema, _ => new GroupAggregateOperator(inputSchema, spec, context.Pool));
                        // A global aggregate (no keys, or the binder's one constant key) answers one row even over empty input, as databases do.
                        var global = keys.Length == 1 && agg.Schema[0].Name == "$global";
                        if (keys.Length > 0 && !global)
                        {
                            return grouped;
                        }

                        var row = (global ? new object?[] { 0 } : []).Concat(agg.Aggregates.Select(a => a.Function == "COUNT" ? Convert.ChangeType(0, Storage(a.ResultType), System.Globalization.CultureInfo.InvariantCulture) : null)).ToArray();
                        var tally = new EmptyInputRowOperator.Tally(context.Parallelism);
                        return grouped.Apply("empty-input-row", agg.Schema, _ => new EmptyInputRowOperator(agg.Schema, row, tally, context.Pool));
                    }

                    if (agg.Window.Kind == "CUMULATE")
                    {
                        return WireCumulate(agg, input, specs, context);
                    }

                    var window = agg.Window.Kind switch
                    {
                        "TUMBLE" => WindowSpec.Tumble(agg.Window.SizeMs, agg.Window.OffsetMs),
                        "HOP" => WindowSpec.Hop(agg.Window.SlideMs, agg.Window.SizeMs, agg.Window.OffsetMs),
                        "SESSION" => WindowSpec.Session(agg.Window.GapMs),
                        _ => throw new NotSupportedException($"not supported: {agg.Window.Kind} windows"),
                    };
                    var wspec = new WindowAggregateSpec(agg.Window.TimeColumn, window, keys, specs);
                    if (window.Kind != WindowKind.Session)
                    {
                        // The embedded API's operator (local pre-aggregation before the exchange), so SQL runs as fast as C#.
                        return keyed.WindowAggregate(wspec, out _, "window-aggregate", agg.Schema);
                    }

                    var late = new OutputTag("late-rows", inputSchema, CountsAsLate: true);
                    return keyed.Apply("session-window", agg.Schema, _ => new SessionWindowOperator(inputSchema, wspec, late, context.Pool));
                }

            case WindowAssignNode { Window.Kind: "TUMBLE" } assign:
                {
                    var ts = new BoundColumn(assign.Window.TimeColumn, DataType.Timestamp, assign.Input.Schema[assign.Window.TimeColumn].Name);
                    var start = new BoundCall("WINDOW_START", [ts, new BoundInterval(assign.Window.SizeMs)], DataType.Timestamp);
                    var exprs = Enumerable.Range(0, assign.Input.Schema.Count).Select(i => (BoundExpr)new BoundColumn(i, assign.Input.Schema[i].Type, assign.Input.Schema[i].Name)).ToList();
                    exprs.Add(start);
                    exprs.Add(new BoundCall("+", [start, new BoundInterval(assign.Window.SizeMs)], DataType.Timestamp));
                    exprs.Add(new BoundCall("+", [start, new BoundInterval(assign.Window.SizeMs - 1)], DataType.Timestamp));
                    return input.Project(assign.Schema, ExpressionCompiler.CompileProjector(exprs, assign.Input.Schema, assign.Schema), "window-assign");
                }

            case WindowMaxPruneNode prune:
                {
                    // Without a column naming the window the maximum is global: one task sees every row (as the q7 plan it replaces ran its MAX).
                    var inputSchema = input.Schema;
                    var keyed = prune.PartitionColumn < 0 ? input.KeyBy() : input.KeyBy(prune.PartitionColumn);
                    return keyed.Apply("window-max", prune.Schema, _ => new WindowMaxPruneOperator(inputSchema, prune.TimeColumn, prune.ValueColumn, prune.SizeMs, context.Pool, prune.OffsetMs));
                }

            case WindowAssignNode { Window.Kind: "HOP" or "CUMULATE" } assign:
                return Expand(input, assign.Window);

            case ReplicateRowsNode replicate:
                return input.Apply("replicate-rows", replicate.Schema, _ => new ReplicateRowsOperator(replicate.Schema));

            case TopNNode top:
                {
                    var inputSchema = input.Schema;
                    return input.KeyBy(top.PartitionKeys.ToArray()).Apply("top-n", top.Schema, _ => new TopNOperator(inputSchema, top, context.Pool));
                }

            case OverAggregateNode over:
                {
                    var spec = new OverAggregateSpec(over.TimeColumn, over.PartitionKeys.ToArray(), over.Frame, over.Aggregates.Select(ToSpec).ToArray());
                    var inputSchema = input.Schema;
                    var late = new OutputTag("late-rows", inputSchema, CountsAsLate: true);
                    return input.KeyBy(spec.PartitionKeys).Apply("over-aggregate", over.Schema, _ => new OverAggregateOperator(inputSchema, spec, late, context.Pool));
                }

            default:
                throw new NotSupportedException($"not supported: {node.Describe()}");
        }
    }

    /// <summary>
    /// CUMULATE: rows copied once per cumulative window [ws, ws + k * step) they fall in, then aggregated by the keys and
    /// the window's bounds in tumbling windows of one step over window_time (end - 1): each cumulative window is the
    /// step-long tumbling window that ends where it ends, so it fires, once, as the watermark passes its own end (as in
    /// Flink), not at the end of the size-long window. A copy whose window fired already is a late row.
    /// </summary>
    private static DataStream WireCumulate(AggregateNode agg, DataStream input, AggregateSpec[] specs, JobContext context)
    {
        var w = agg.Window!;
        var stream = Expand(input, w);
        var expanded = stream.Schema;
        var n = input.Schema.Count;
        var keys = agg.Keys.Append(n).Append(n + 1).ToArray();
        var spec = new WindowAggregateSpec(n + 2, WindowSpec.Tumble(w.StepMs), keys, specs);
        var late = new OutputTag("late-rows", expanded, CountsAsLate: true);
        var aggregated = stream.KeyBy(keys).Apply("cumulate-aggregate", spec.OutputSchema(expanded), _ => new WindowAggregateOperator(expanded, spec, late, context.Pool));

        // keys..., window_start, window_end, step window start, step window end, aggs... -> keys..., window_start, window_end, aggs...
        var k = agg.Keys.Count;
        var from = aggregated.Schema;
        var layout = Enumerable.Range(0, k + 2).Concat(Enumerable.Range(k + 4, agg.Aggregates.Count))
            .Select(i => (BoundExpr)new BoundColumn(i, from[i].Type, from[i].Name)).ToArray();
        return aggregated.Project(agg.Schema, ExpressionCompiler.CompileProjector(layout, from, agg.Schema), "cumulate-layout");
    }

    /// <summary>Appends window_start, window_end, window_time to every row, one copy per HOP / CUMULATE window it is in.</summary>
    private static DataStream Expand(DataStream input, WindowDef window)
    {
        var inputSchema = input.Schema;
        var expanded = new Schema(
            [.. inputSchema.Fields, new Field("window_start", DataType.Timestamp, false), new Field("window_end", DataType.Timestamp, false), new Field("window_time", DataType.Timestamp, false)],
            inputSchema.EventTimeIndex);
        return input.Apply("window-expand", expanded, _ => new WindowExpandOperator(inputSchema, expanded, window));
    }

    private static Type Storage(DataType type) => type switch
    {
        DataType.Int32 => typeof(int),
        DataType.Double => typeof(double),
        DataType.Decimal => typeof(decimal),
        _ => typeof(long),
    };

    private static AggregateSpec ToSpec(AggregateCall a) => a.Function switch
    {
        "COUNT" when a.ArgColumn < 0 => AggregateSpec.CountStar(a.Name, a.FilterColumn),
        "COUNT" when a.Distinct => AggregateSpec.CountDistinct(a.ArgColumn, a.Name, a.FilterColumn),
        "COUNT" => AggregateSpec.Count(a.ArgColumn, a.Name, a.FilterColumn),
        "SUM" => AggregateSpec.Sum(a.ArgColumn, a.Name, a.FilterColumn),
        "MIN" => AggregateSpec.Min(a.ArgColumn, a.Name, a.FilterColumn),
        "MAX" => AggregateSpec.Max(a.ArgColumn, a.Name, a.FilterColumn),
        "AVG" => AggregateSpec.Avg(a.ArgColumn, a.Name, a.FilterColumn),
        _ => throw new NotSupportedException($"not supported: aggregate {a.Function}"),
    };
}
