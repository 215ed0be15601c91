using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;

namespace Streams.Engine.Operators.GroupAggregate;

/// <summary>
/// A non-windowed GROUP BY: emits a changelog (+I for a new group, -U/+U when a group's result changes, -D when its
/// last row is retracted). Input rows marked -U/-D are retracted, so it can consume another changelog
/// (unless <see cref="AppendOnlyInput"/>).
/// Output schema: key columns..., aggregates... .
/// </summary>
/// <param name="KeyColumns">GROUP BY columns (may be empty: one global group).</param>
/// <param name="Aggregates">The aggregates, in output order.</param>
/// <param name="AppendOnlyInput">The input never retracts: MIN/MAX keep one value per group instead of a multiset, and a
/// -U/-D row is rejected to the dead-letter output.</param>
public sealed record GroupAggregateSpec(int[] KeyColumns, AggregateSpec[] Aggregates, bool AppendOnlyInput = false)
{
    /// <summary>The output schema for <paramref name="input"/>.</summary>
    public Schema OutputSchema(Schema input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var fields = new List<Field>();
        foreach (var k in KeyColumns)
        {
            if (k < 0 || k >= input.Count)
            {
                throw new ArgumentException($"group by: key column {k} is not a column of {input}");
            }

            fields.Add(input[k]);
        }

        foreach (var a in Aggregates)
        {
            a.Validate(input);
            fields.Add(new Field(a.OutputName, a.OutputType(input), a.Kind is not (AggregateKind.Count or AggregateKind.CountStar or AggregateKind.CountDistinct)));
        }

        return new Schema(fields);
    }
}
