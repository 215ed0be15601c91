using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.GroupAggregate;
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
                        return keyed.Apply("group-aggregate", agg.Schema, _ => new GroupAggregateOperator(inputSchema, spec, context.Pool));
                    }

                    var window = agg.Window.Kind switch
                    {
                        "TUMBLE" => WindowSpec.Tumble(agg.Window.SizeMs, agg.Window.OffsetMs),
                        "HOP" => WindowSpec.Hop(agg.Window.SlideMs, agg.Window.SizeMs, agg.Window.OffsetMs),
                        "SESSION" => WindowSpec.Session(agg.Window.GapMs),
                        _ => throw new NotSupportedException($"not supported: {agg.Window.Kind} windows"),
                    };
                    var wspec = new WindowAggregateSpec(agg.Window.TimeColumn, window, keys, specs);
                    var late = new OutputTag("late-rows", inputSchema, CountsAsLate: true);
                    return window.Kind == WindowKind.Session
                        ? keyed.Apply("session-window", agg.Schema, _ => new SessionWindowOperator(inputSchema, wspec, late, context.Pool))
                        : keyed.Apply("window-aggregate", agg.Schema, _ => new WindowAggregateOperator(inputSchema, wspec, late, context.Pool));
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
                    // The maximum is global: one task sees every row (the q7 plan it replaces also ran its MAX on one task).
                    var inputSchema = input.Schema;
                    return input.KeyBy().Apply("window-max", prune.Schema, _ => new WindowMaxPruneOperator(inputSchema, prune.TimeColumn, prune.ValueColumn, prune.SizeMs, context.Pool));
                }

            case TopNNode top:
                {
                    var inputSchema = input.Schema;
                    return input.KeyBy(top.PartitionKeys.ToArray()).Apply("top-n", top.Schema, _ => new TopNOperator(inputSchema, top, context.Pool));
                }

            default:
                throw new NotSupportedException($"not supported: {node.Describe()}");
        }
    }

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
