using Streams.Engine.Data;

namespace Streams.Engine.Operators.Aggregates;

/// <summary>The aggregate functions the runtime computes incrementally.</summary>
public enum AggregateKind : byte
{
    /// <summary>COUNT(col): rows where the input is not NULL. BIGINT.</summary>
    Count,
    /// <summary>COUNT(*): every row. BIGINT.</summary>
    CountStar,
    /// <summary>COUNT(DISTINCT col): distinct non-NULL inputs. BIGINT.</summary>
    CountDistinct,
    /// <summary>SUM(col): BIGINT for integer inputs, DOUBLE for DOUBLE, DECIMAL for DECIMAL; NULL when no non-NULL input.</summary>
    Sum,
    /// <summary>MIN(col): the input's type.</summary>
    Min,
    /// <summary>MAX(col): the input's type.</summary>
    Max,
    /// <summary>AVG(col): the input's type, as in Flink (an INT average is an INT, truncated toward zero).</summary>
    Avg,
}

/// <summary>
/// One aggregate of a GROUP BY or window: which function, over which input column, named what in the output.
/// </summary>
/// <param name="Kind">The function.</param>
/// <param name="InputColumn">The input column index; ignored (use -1) for COUNT(*).</param>
/// <param name="OutputName">The output column's name.</param>
/// <param name="FilterColumn">
/// Index of a BOOLEAN input column for <c>FILTER (WHERE ...)</c>: only rows where it is TRUE are aggregated; -1 for none.
/// The SQL layer projects the filter condition into such a column.
/// </param>
public sealed record AggregateSpec(AggregateKind Kind, int InputColumn, string OutputName, int FilterColumn = -1)
{
    /// <summary>COUNT(*).</summary>
    public static AggregateSpec CountStar(string outputName, int filterColumn = -1) => new(AggregateKind.CountStar, -1, outputName, filterColumn);

    /// <summary>COUNT(col).</summary>
    public static AggregateSpec Count(int column, string outputName, int filterColumn = -1) => new(AggregateKind.Count, column, outputName, filterColumn);

    /// <summary>COUNT(DISTINCT col).</summary>
    public static AggregateSpec CountDistinct(int column, string outputName, int filterColumn = -1) => new(AggregateKind.CountDistinct, column, outputName, filterColumn);

    /// <summary>SUM(col).</summary>
    public static AggregateSpec Sum(int column, string outputName, int filterColumn = -1) => new(AggregateKind.Sum, column, outputName, filterColumn);

    /// <summary>MIN(col).</summary>
    public static AggregateSpec Min(int column, string outputName, int filterColumn = -1) => new(AggregateKind.Min, column, outputName, filterColumn);

    /// <summary>MAX(col).</summary>
    public static AggregateSpec Max(int column, string outputName, int filterColumn = -1) => new(AggregateKind.Max, column, outputName, filterColumn);

    /// <summary>AVG(col).</summary>
    public static AggregateSpec Avg(int column, string outputName, int filterColumn = -1) => new(AggregateKind.Avg, column, outputName, filterColumn);

    /// <summary>The output type over <paramref name="input"/>, following Flink SQL: COUNTs are BIGINT, SUM of integers is BIGINT, AVG keeps the input type.</summary>
    public DataType OutputType(Schema input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Kind is AggregateKind.Count or AggregateKind.CountStar or AggregateKind.CountDistinct)
        {
            return DataType.Int64;
        }

        var type = input[InputColumn].Type;
        return (Kind, type) switch
        {
            (AggregateKind.Sum, DataType.Int32 or DataType.Int64) => DataType.Int64,
            (AggregateKind.Sum or AggregateKind.Avg, DataType.Double or DataType.Decimal) => type,
            (AggregateKind.Avg, DataType.Int32 or DataType.Int64) => type,
            (AggregateKind.Min or AggregateKind.Max, _) when type != DataType.Null => type,
            _ => throw new ArgumentException($"{Kind.ToString().ToUpperInvariant()} is not defined for {type.SqlName()} (column '{input[InputColumn].Name}')"),
        };
    }

    /// <summary>Checks the spec against <paramref name="input"/>; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public void Validate(Schema input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Kind != AggregateKind.CountStar && (InputColumn < 0 || InputColumn >= input.Count))
        {
            throw new ArgumentException($"aggregate '{OutputName}': input column {InputColumn} is not a column of {input}");
        }

        if (FilterColumn >= 0 && (FilterColumn >= input.Count || input[FilterColumn].Type != DataType.Boolean))
        {
            throw new ArgumentException($"aggregate '{OutputName}': filter column {FilterColumn} must be a BOOLEAN column of {input}");
        }

        _ = OutputType(input);
    }
}
