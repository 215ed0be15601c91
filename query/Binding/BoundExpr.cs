using Streams.Engine.Data;

namespace Streams.Query.Binding;

/// <summary>A type-checked expression over the columns of one input schema (by index).</summary>
internal abstract record BoundExpr(DataType Type)
{
    /// <summary>The sub-expressions, for rewrites and analysis.</summary>
    public abstract IEnumerable<BoundExpr> Children { get; }

    /// <summary>A readable rendering for EXPLAIN.</summary>
    public abstract string Render(Schema? input);
}

internal sealed record BoundColumn(int Index, DataType ColumnType, string Name) : BoundExpr(ColumnType)
{
    public override IEnumerable<BoundExpr> Children => [];

    public override string Render(Schema? input) => input is not null && Index < input.Count ? input[Index].Name : $"${Index}";
}

internal sealed record BoundLiteral(object? Value, DataType LiteralType) : BoundExpr(LiteralType)
{
    public override IEnumerable<BoundExpr> Children => [];

    public override string Render(Schema? input) => Value switch
    {
        null => "NULL",
        string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        bool b => b ? "TRUE" : "FALSE",
        long ms when Type == DataType.Timestamp => "TIMESTAMP '" + DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) + "'",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? "",
    };
}

/// <summary>An interval in milliseconds; only valid in timestamp arithmetic and window arguments.</summary>
internal sealed record BoundInterval(long Millis) : BoundExpr(DataType.Int64)
{
    public override IEnumerable<BoundExpr> Children => [];

    public override string Render(Schema? input) => $"INTERVAL '{Millis}' MILLISECOND";
}

/// <summary>An operator or function applied to arguments; <see cref="Name"/> selects the implementation.</summary>
internal sealed record BoundCall(string Name, IReadOnlyList<BoundExpr> Args, DataType ResultType, object? Extra = null) : BoundExpr(ResultType)
{
    public override IEnumerable<BoundExpr> Children => Args;

    public override string Render(Schema? input)
    {
        static bool IsInfix(string n) => n is "+" or "-" or "*" or "/" or "%" or "=" or "<>" or "<" or "<=" or ">" or ">=" or "AND" or "OR" or "||";
        if (IsInfix(Name) && Args.Count == 2)
        {
            return $"({Args[0].Render(input)} {Name} {Args[1].Render(input)})";
        }

        return Name switch
        {
            "NOT" => $"NOT {Args[0].Render(input)}",
            "NEG" => $"-{Args[0].Render(input)}",
            "IS NULL" or "IS NOT NULL" or "IS TRUE" or "IS FALSE" or "IS NOT TRUE" or "IS NOT FALSE" => $"{Args[0].Render(input)} {Name}",
            "CAST" => $"CAST({Args[0].Render(input)} AS {Type.SqlName()})",
            _ => $"{Name}({string.Join(", ", Args.Select(a => a.Render(input)))})",
        };
    }
}

/// <summary>CASE WHEN c1 THEN v1 ... ELSE e END (a simple CASE is rewritten into this form).</summary>
internal sealed record BoundCase(IReadOnlyList<(BoundExpr When, BoundExpr Then)> Whens, BoundExpr? Else, DataType ResultType) : BoundExpr(ResultType)
{
    public override IEnumerable<BoundExpr> Children => Whens.SelectMany(w => new[] { w.When, w.Then }).Concat(Else is null ? [] : [Else]);

    public override string Render(Schema? input) =>
        "CASE " + string.Join(" ", Whens.Select(w => $"WHEN {w.When.Render(input)} THEN {w.Then.Render(input)}")) + (Else is null ? "" : $" ELSE {Else.Render(input)}") + " END";
}

/// <summary>Rewrites of bound expressions.</summary>
internal static class BoundExprs
{
    /// <summary>The column indexes an expression reads.</summary>
    public static void CollectColumns(BoundExpr e, ISet<int> into)
    {
        if (e is BoundColumn c)
        {
            into.Add(c.Index);
        }

        foreach (var child in e.Children)
        {
            CollectColumns(child, into);
        }
    }

    /// <summary>Replaces column references through <paramref name="map"/> (old index → new expression).</summary>
    public static BoundExpr Remap(BoundExpr e, Func<BoundColumn, BoundExpr> map) => e switch
    {
        BoundColumn c => map(c),
        BoundCall call => call with { Args = call.Args.Select(a => Remap(a, map)).ToArray() },
        BoundCase cs => cs with { Whens = cs.Whens.Select(w => (Remap(w.When, map), Remap(w.Then, map))).ToArray(), Else = cs.Else is null ? null : Remap(cs.Else, map) },
        _ => e,
    };

    /// <summary>Splits a predicate into its AND-ed parts.</summary>
    public static IEnumerable<BoundExpr> Conjuncts(BoundExpr e)
    {
        if (e is BoundCall { Name: "AND" } and)
        {
            foreach (var part in and.Args.SelectMany(Conjuncts))
            {
                yield return part;
            }
        }
        else
        {
            yield return e;
        }
    }

    /// <summary>ANDs parts together (null when there are none).</summary>
    public static BoundExpr? And(IEnumerable<BoundExpr> parts)
    {
        BoundExpr? result = null;
        foreach (var p in parts)
        {
            result = result is null ? p : new BoundCall("AND", [result, p], DataType.Boolean);
        }

        return result;
    }
}
