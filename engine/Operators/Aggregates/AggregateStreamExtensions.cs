using Streams.Engine.Data;
using Streams.Engine.Operators.GroupAggregate;
using Streams.Engine.Operators.SessionWindow;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Runtime;

namespace Streams.Engine.Operators.Aggregates;

/// <summary>Adds the aggregate operators to a <see cref="DataStream"/>.</summary>
public static class AggregateStreamExtensions
{
    /// <summary>
    /// A keyed tumbling, hopping or session window aggregate. Call it on a stream keyed by the spec's key columns
    /// (<c>stream.KeyBy(keys)</c>) to run it in parallel; on an unkeyed stream it runs in the producer's tasks.
    /// <paramref name="late"/> names the late-data side output: read it with <c>results.SideOutput(late)</c>.
    /// <paramref name="outputSchema"/> renames the output columns (same types as <see cref="WindowAggregateSpec.OutputSchema"/>).
    /// </summary>
    public static DataStream WindowAggregate(this DataStream input, WindowAggregateSpec spec, out OutputTag late, string name = "window", Schema? outputSchema = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(spec);
        var schema = input.Schema;
        var output = outputSchema ?? spec.OutputSchema(schema);
        var tag = new OutputTag(name + ".late", schema, CountsAsLate: true);
        late = tag;
        var options = input.Graph.Options;
        if (input.IsKeyed && input.KeyColumns.SequenceEqual(spec.KeyColumns) && TwoPhaseWindowAggregateOperator.Supports(spec))
        {
            // Pre-aggregate before the exchange so it carries one row per (key, slice, task), not one per event.
            var partialSchema = spec.OutputSchema(schema);
            var raw = new OutputTag(name + ".raw", schema);
            var local = input.WithoutExchange().Apply(name + ".local", partialSchema, _ => LongKeyWindowCombiner.Supports(schema, spec)
                ? new LongKeyWindowCombiner(schema, spec, raw, options.Pool, options.BatchSize, options.Parallelism)
                : TwoPhaseWindowAggregateOperator.Local(schema, spec, raw, options.Pool, options.BatchSize));
            var keys = Enumerable.Range(0, spec.KeyColumns.Length).ToArray();
            return input.Graph.Connect(name, local, local.SideOutput(raw), output,
                _ => new TwoPhaseWindowAggregateOperator(spec, partialSchema, tag, options.Pool, options.BatchSize, output), keys, spec.KeyColumns);
        }

        return input.Apply(name, output, _ => spec.Window.Kind == WindowKind.Session
            ? new SessionWindowOperator(schema, spec, tag, options.Pool, options.BatchSize)
            : new WindowAggregateOperator(schema, spec, tag, options.Pool, options.BatchSize, output));
    }

    /// <summary>A window aggregate whose late rows go to the dead letters (and the late-records metric).</summary>
    public static DataStream WindowAggregate(this DataStream input, WindowAggregateSpec spec, string name = "window") =>
        WindowAggregate(input, spec, out _, name);

    /// <summary>A non-windowed GROUP BY emitting a changelog (+I, -U, +U, -D).</summary>
    public static DataStream GroupAggregate(this DataStream input, GroupAggregateSpec spec, string name = "group-aggregate")
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(spec);
        var schema = input.Schema;
        var options = input.Graph.Options;
        return input.Apply(name, spec.OutputSchema(schema), _ => new GroupAggregateOperator(schema, spec, options.Pool, options.BatchSize));
    }
}
