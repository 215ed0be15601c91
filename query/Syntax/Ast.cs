using Streams.Engine.Data;

namespace Streams.Query.Syntax;

/// <summary>A place in the SQL text, 1-based, as users count lines and columns.</summary>
/// <param name="Line">The line, from 1.</param>
/// <param name="Column">The column, from 1.</param>
public readonly record struct SourcePosition(int Line, int Column)
{
    /// <inheritdoc />
    public override string ToString() => $"line {Line}, column {Column}";
}

/// <summary>A SQL type as written: the storage type plus DECIMAL precision/scale.</summary>
internal sealed record TypeRef(DataType Type, int Precision = 0, int Scale = 0, SourcePosition Pos = default);

// ---------------------------------------------------------------- statements

internal abstract record Statement(SourcePosition Pos);

internal sealed record ColumnDef(string Name, TypeRef Type, SourcePosition Pos, SqlExpr? Computed = null, bool NotNull = false);

internal sealed record WatermarkDef(string Column, SqlExpr Expr, SourcePosition Pos);

internal sealed record CreateSourceStatement(
    SourcePosition Pos,
    bool IsTable,
    string Name,
    IReadOnlyList<ColumnDef> Columns,
    WatermarkDef? Watermark,
    IReadOnlyList<string> PrimaryKey,
    IReadOnlyList<KeyValuePair<string, string>> Options,
    bool IfNotExists) : Statement(Pos)
{
    /// <summary>Where each option's value is written (by lower-case key), to point errors about it at the value.</summary>
    public IReadOnlyDictionary<string, SourcePosition> OptionPositions { get; init; } = new Dictionary<string, SourcePosition>();
}

internal sealed record CreateViewStatement(SourcePosition Pos, string Name, QueryExpr Query) : Statement(Pos);

internal sealed record InsertStatement(SourcePosition Pos, string Target, SourcePosition TargetPos, QueryExpr Query) : Statement(Pos)
{
    /// <summary>INSERT INTO t (a, b): the target columns the query's columns go to, in order; the others get NULL.</summary>
    public IReadOnlyList<(string Name, SourcePosition Pos)>? Columns { get; init; }
}

internal sealed record QueryStatement(SourcePosition Pos, QueryExpr Query) : Statement(Pos);

internal sealed record ExplainStatement(SourcePosition Pos, Statement Inner) : Statement(Pos);

internal sealed record ShowStatement(SourcePosition Pos, string What) : Statement(Pos);

internal sealed record DescribeStatement(SourcePosition Pos, string Name, SourcePosition NamePos) : Statement(Pos);

internal sealed record DropStatement(SourcePosition Pos, string Kind, string Name, SourcePosition NamePos, bool IfExists) : Statement(Pos);

internal sealed record SetStatement(SourcePosition Pos, string Key, string Value) : Statement(Pos);

/// <summary>BEGIN STATEMENT SET / END around INSERTs: the INSERTs run in order, so the markers do nothing themselves.</summary>
internal sealed record StatementSetMarker(SourcePosition Pos) : Statement(Pos);

// ---------------------------------------------------------------- queries

internal abstract record QueryExpr(SourcePosition Pos);

internal sealed record SelectItem(SqlExpr? Expr, string? Alias, SourcePosition Pos, string? StarQualifier = null, bool IsStar = false);

internal sealed record OrderItem(SqlExpr Expr, bool Descending);

internal sealed record SelectQuery(
    SourcePosition Pos,
    bool Distinct,
    IReadOnlyList<SelectItem> Items,
    FromItem? From,
    SqlExpr? Where,
    IReadOnlyList<SqlExpr> GroupBy,
    SqlExpr? Having,
    IReadOnlyList<OrderItem> OrderBy,
    SqlExpr? Limit,
    IReadOnlyList<NamedWindow>? Windows = null) : QueryExpr(Pos);

/// <summary>VALUES (a, b), (c, d): constant rows.</summary>
internal sealed record ValuesQuery(SourcePosition Pos, IReadOnlyList<IReadOnlyList<SqlExpr>> Rows) : QueryExpr(Pos);

/// <summary>One <c>name [(columns)] AS (query)</c> of a WITH clause.</summary>
internal sealed record CommonTableExpr(string Name, SourcePosition Pos, IReadOnlyList<string> Columns, QueryExpr Query);

/// <summary>WITH a AS (...), b AS (...) body: the names are visible to later definitions and to the body.</summary>
internal sealed record WithQuery(SourcePosition Pos, IReadOnlyList<CommonTableExpr> Ctes, QueryExpr Body) : QueryExpr(Pos);

internal sealed record SetOpQuery(SourcePosition Pos, string Op, bool All, QueryExpr Left, QueryExpr Right) : QueryExpr(Pos);

internal abstract record FromItem(SourcePosition Pos, string? Alias);

/// <summary>A named stream, table, view or CTE; <paramref name="AsOf"/> is the time of FOR SYSTEM_TIME AS OF (a temporal join).</summary>
internal sealed record TableRef(SourcePosition Pos, string Name, string? Alias, SqlExpr? AsOf = null) : FromItem(Pos, Alias);

/// <summary>(query) [AS] alias [(column, ...)].</summary>
internal sealed record SubqueryRef(SourcePosition Pos, QueryExpr Query, string? Alias, IReadOnlyList<string>? ColumnAliases = null) : FromItem(Pos, Alias);

/// <summary>TABLE(TUMBLE|HOP|SESSION|CUMULATE(TABLE src [PARTITION BY ...], DESCRIPTOR(ts), intervals...)).</summary>
internal sealed record WindowTvfRef(
    SourcePosition Pos,
    string Kind,
    FromItem Source,
    IReadOnlyList<SqlExpr> PartitionBy,
    string TimeColumn,
    SourcePosition TimeColumnPos,
    IReadOnlyList<SqlExpr> Args,
    string? Alias) : FromItem(Pos, Alias);

internal sealed record JoinRef(SourcePosition Pos, string Kind, FromItem Left, FromItem Right, SqlExpr? On, bool Lateral = false) : FromItem(Pos, null);

// ---------------------------------------------------------------- expressions

internal abstract record SqlExpr(SourcePosition Pos);

internal sealed record LiteralExpr(SourcePosition Pos, object? Value, DataType Type) : SqlExpr(Pos);

/// <summary>INTERVAL 'n' unit, as milliseconds.</summary>
internal sealed record IntervalExpr(SourcePosition Pos, long Millis) : SqlExpr(Pos);

internal sealed record ColumnExpr(SourcePosition Pos, string? Qualifier, string Name) : SqlExpr(Pos);

internal sealed record BinaryExpr(SourcePosition Pos, string Op, SqlExpr Left, SqlExpr Right) : SqlExpr(Pos);

internal sealed record UnaryExpr(SourcePosition Pos, string Op, SqlExpr Operand) : SqlExpr(Pos);

internal sealed record WindowSpecExpr(IReadOnlyList<SqlExpr> PartitionBy, IReadOnlyList<OrderItem> OrderBy, SourcePosition Pos, FrameSpec? Frame = null, string? Name = null);

/// <summary>The frame of an OVER window: ROWS|RANGE from <see cref="Preceding"/> (null = UNBOUNDED) PRECEDING to CURRENT ROW.</summary>
internal sealed record FrameSpec(string Unit, SqlExpr? Preceding, SourcePosition Pos);

/// <summary>WINDOW name AS (...) after HAVING: a window OVER name refers to.</summary>
internal sealed record NamedWindow(string Name, WindowSpecExpr Spec, SourcePosition Pos);

internal sealed record CallExpr(
    SourcePosition Pos,
    string Name,
    IReadOnlyList<SqlExpr> Args,
    bool Distinct = false,
    bool Star = false,
    SqlExpr? Filter = null,
    WindowSpecExpr? Over = null) : SqlExpr(Pos);

internal sealed record CaseExpr(SourcePosition Pos, SqlExpr? Operand, IReadOnlyList<(SqlExpr When, SqlExpr Then)> Whens, SqlExpr? Else) : SqlExpr(Pos);

internal sealed record CastExpr(SourcePosition Pos, SqlExpr Operand, TypeRef Type) : SqlExpr(Pos);

internal sealed record InExpr(SourcePosition Pos, SqlExpr Operand, IReadOnlyList<SqlExpr> List, bool Negated) : SqlExpr(Pos);

internal sealed record BetweenExpr(SourcePosition Pos, SqlExpr Operand, SqlExpr Low, SqlExpr High, bool Negated) : SqlExpr(Pos);

internal sealed record LikeExpr(SourcePosition Pos, SqlExpr Operand, SqlExpr Pattern, bool Negated) : SqlExpr(Pos);

internal sealed record IsExpr(SourcePosition Pos, SqlExpr Operand, string What, bool Negated) : SqlExpr(Pos);

internal sealed record ExtractExpr(SourcePosition Pos, string Field, SqlExpr Operand) : SqlExpr(Pos);

internal sealed record SubqueryExpr(SourcePosition Pos, QueryExpr Query, string Kind) : SqlExpr(Pos);

/// <summary>operand [NOT] IN (query).</summary>
internal sealed record InSubqueryExpr(SourcePosition Pos, SqlExpr Operand, QueryExpr Query, bool Negated) : SqlExpr(Pos);
