using Streams.Engine.Runtime;

namespace Streams.Engine.Operators.OverAggregate;

/// <summary>Adds the OVER aggregate to a <see cref="DataStream"/>.</summary>
public static class OverAggregateStreamExtensions
{
    /// <summary>
    /// An OVER aggregate partitioned by the spec's partition keys: keys the stream by them (hash exchange) and appends the
    /// aggregates to every row once the watermark passes it. <paramref name="late"/> names the late-data side output.
    /// </summary>
    public static DataStream OverAggregate(this DataStream input, OverAggregateSpec spec, out OutputTag late, string name = "over-aggregate")
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(spec);
        var schema = input.Schema;
        spec.Validate(schema);
        var tag = new OutputTag(name + ".late", schema, CountsAsLate: true);
        late = tag;
        var options = input.Graph.Options;
        var keyed = input.IsKeyed && input.KeyColumns.SequenceEqual(spec.PartitionKeys) ? input : input.KeyBy(spec.PartitionKeys);
        return keyed.Apply(name, spec.OutputSchema(schema), _ => new OverAggregateOperator(schema, spec, tag, options.Pool, options.BatchSize));
    }
}
