using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;

namespace Streams.Engine.Operators.OverAggregate;

/// <summary>Whether an OVER frame counts rows or spans a range of event time.</summary>
public enum OverFrameUnit : byte
{
    /// <summary>ROWS: the frame holds the current row and a number of rows before it.</summary>
    Rows,
    /// <summary>RANGE: the frame holds every row whose time lies within an interval before the current row's, peers included.</summary>
    Range,
}

/// <summary>
/// The frame of an OVER aggregate: <c>ROWS|RANGE BETWEEN (UNBOUNDED | n | INTERVAL) PRECEDING AND CURRENT ROW</c>.
/// Frames always end at the current row (RANGE: at its last peer), as Flink requires in streaming.
/// </summary>
/// <param name="Unit">ROWS or RANGE.</param>
/// <param name="Preceding">Rows (ROWS) or milliseconds (RANGE) before the current row; -1 for UNBOUNDED.</param>
public sealed record OverFrame(OverFrameUnit Unit, long Preceding)
{
    /// <summary>True for UNBOUNDED PRECEDING: nothing ever leaves the frame.</summary>
    public bool IsUnbounded => Preceding < 0;

    /// <summary>ROWS BETWEEN <paramref name="rows"/> PRECEDING AND CURRENT ROW.</summary>
    public static OverFrame Rows(long rows) => new(OverFrameUnit.Rows, rows);

    /// <summary>RANGE BETWEEN INTERVAL <paramref name="millis"/> PRECEDING AND CURRENT ROW.</summary>
    public static OverFrame Range(long millis) => new(OverFrameUnit.Range, millis);

    /// <summary>ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW.</summary>
    public static OverFrame UnboundedRows { get; } = new(OverFrameUnit.Rows, -1);

    /// <summary>RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW (the SQL default with ORDER BY).</summary>
    public static OverFrame UnboundedRange { get; } = new(OverFrameUnit.Range, -1);

    /// <inheritdoc />
    public override string ToString()
    {
        var start = IsUnbounded ? "UNBOUNDED" : Unit == OverFrameUnit.Rows ? Preceding.ToString(System.Globalization.CultureInfo.InvariantCulture) : Preceding + "ms";
        return $"{Unit.ToString().ToUpperInvariant()} BETWEEN {start} PRECEDING AND CURRENT ROW";
    }
}

/// <summary>
/// An OVER aggregate: for every input row, aggregates over the rows of its partition in the frame ending at it, ordered by
/// event time. The output is the input row followed by one column per aggregate.
/// </summary>
/// <param name="TimeColumn">The event-time column (TIMESTAMP) the partition is ordered by.</param>
/// <param name="PartitionKeys">The PARTITION BY columns (empty: one partition).</param>
/// <param name="Frame">The frame.</param>
/// <param name="Aggregates">COUNT, COUNT(*), SUM, MIN, MAX, AVG over input columns, with optional FILTER columns.</param>
public sealed record OverAggregateSpec(int TimeColumn, int[] PartitionKeys, OverFrame Frame, AggregateSpec[] Aggregates)
{
    /// <summary>The input columns followed by the aggregates (named by their output names).</summary>
    public Schema OutputSchema(Schema input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var fields = input.Fields.ToList();
        foreach (var a in Aggregates)
        {
            fields.Add(new Field(a.OutputName, a.OutputType(input), a.Kind is not (AggregateKind.Count or AggregateKind.CountStar)));
        }

        return new Schema(fields, input.EventTimeIndex);
    }

    /// <summary>Checks the spec against <paramref name="input"/>; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public void Validate(Schema input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (TimeColumn < 0 || TimeColumn >= input.Count || input[TimeColumn].Type != DataType.Timestamp)
        {
            throw new ArgumentException($"OVER time column {TimeColumn} must be a TIMESTAMP column of {input}");
        }

        if (PartitionKeys.Any(k => k < 0 || k >= input.Count))
        {
            throw new ArgumentException($"OVER partition keys ({string.Join(",", PartitionKeys)}) are not all columns of {input}");
        }

        foreach (var a in Aggregates)
        {
            a.Validate(input);
            if (a.Kind == AggregateKind.CountDistinct)
            {
                throw new ArgumentException($"aggregate '{a.OutputName}': COUNT(DISTINCT) is not computed over OVER frames");
            }

            if (a.Kind is AggregateKind.Min or AggregateKind.Max && input[a.InputColumn].Type is DataType.String or DataType.Boolean)
            {
                throw new ArgumentException($"aggregate '{a.OutputName}': {a.Kind.ToString().ToUpperInvariant()} over OVER frames takes numbers and timestamps, not {input[a.InputColumn].Type.SqlName()}");
            }
        }
    }
}
