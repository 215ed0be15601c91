using Streams.Engine.Data;
using Streams.Query.Binding;
using Streams.Query.Compilation;
using Streams.Query.Syntax;

namespace Streams.Query.Tests.Compilation;

/// <summary>Compiles expressions over a small batch and checks every row's value, NULLs included.</summary>
public class ExpressionCompilerTests
{
    private static readonly Schema Schema = new([
        new Field("i", DataType.Int32), new Field("l", DataType.Int64), new Field("d", DataType.Double),
        new Field("s", DataType.String), new Field("b", DataType.Boolean), new Field("ts", DataType.Timestamp),
    ]);

    // Rows: i, l, d, s, b, ts
    private static readonly object?[][] Rows =
    [
        [1, 10L, 1.5, "Hello", true, 1_704_067_210_000L],
        [null, null, null, null, null, null],
        [-7, 3L, -2.25, "a_b%c", false, 1_704_067_210_123L],
    ];

    private static object?[] Eval(string sql)
    {
        var bound = new Binder(new Catalog()).BindExpr(SqlParser.ParseExpression(sql), Scope.Of(Schema, "t"));
        var outSchema = new Schema([new Field("x", bound.Type == DataType.Null ? DataType.String : bound.Type)]);
        var projector = ExpressionCompiler.CompileProjector([bound], Schema, outSchema);
        var pool = new BatchPool();
        using var input = pool.Rent(Schema, 64);
        for (var r = 0; r < Rows.Length; r++)
        {
            for (var c = 0; c < Schema.Count; c++)
            {
                input.Columns[c].SetBoxed(r, Rows[r][c]);
            }
        }

        input.Count = Rows.Length;
        using var output = pool.Rent(outSchema, 64);
        output.Count = Rows.Length;
        projector(input, output);
        return Enumerable.Range(0, Rows.Length).Select(r => output.Columns[0].GetBoxed(r)).ToArray();
    }

    [Theory]
    [InlineData("i + 1", 2, null, -6)]
    [InlineData("l * 2 - i", 19L, null, 13L)]
    [InlineData("i / 2", 0, null, -3)]
    [InlineData("MOD(i, 4)", 1, null, -3)]
    [InlineData("i % 4", 1, null, -3)]
    [InlineData("ABS(i)", 1, null, 7)]
    [InlineData("CHAR_LENGTH(s)", 5, null, 5)]
    [InlineData("UPPER(s)", "HELLO", null, "A_B%C")]
    [InlineData("LOWER(s) || '!'", "hello!", null, "a_b%c!")]
    [InlineData("SUBSTRING(s FROM 2 FOR 3)", "ell", null, "_b%")]
    [InlineData("SUBSTRING(s, 2)", "ello", null, "_b%c")]
    [InlineData("COALESCE(s, 'none')", "Hello", "none", "a_b%c")]
    [InlineData("CASE WHEN i > 0 THEN 'pos' WHEN i < 0 THEN 'neg' END", "pos", null, "neg")]
    [InlineData("CASE i WHEN 1 THEN 'one' ELSE 'other' END", "one", "other", "other")]
    [InlineData("CAST(i AS VARCHAR)", "1", null, "-7")]
    [InlineData("CAST(d AS INT)", 1, null, -2)]
    [InlineData("i IS NULL", false, true, false)]
    [InlineData("s LIKE 'H%'", true, null, false)]
    [InlineData("s LIKE 'a\\_b%'", false, null, true)]
    [InlineData("i BETWEEN -10 AND 0", false, null, true)]
    [InlineData("i IN (1, 2)", true, null, false)]
    [InlineData("i NOT IN (1, 2)", false, null, true)]
    [InlineData("EXTRACT(SECOND FROM ts)", 10L, null, 10L)]
    [InlineData("HOUR(ts)", 0L, null, 0L)]
    [InlineData("DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss.SSS')", "2024-01-01 00:00:10.000", null, "2024-01-01 00:00:10.123")]
    [InlineData("SPLIT_INDEX(s, '_', 1)", null, null, "b%c")]
    [InlineData("REGEXP_EXTRACT(s, '([a-z]+)', 1)", "ello", null, "a")]
    [InlineData("ROUND(d)", 2.0, null, -2.0)]
    [InlineData("FLOOR(d)", 1.0, null, -3.0)]
    [InlineData("CEIL(d)", 2.0, null, -2.0)]
    [InlineData("NULLIF(i, 1)", null, null, -7)]
    [InlineData("TRIM(BOTH 'H' FROM s)", "ello", null, "a_b%c")]
    [InlineData("CONCAT(s, '-', s)", "Hello-Hello", null, "a_b%c-a_b%c")]
    public void Computes_values_and_propagates_null(string sql, object? row0, object? row1, object? row2) =>
        Assert.Equal([row0, row1, row2], Eval(sql));

    [Theory]
    // Three-valued logic: b is TRUE, NULL, FALSE across the rows.
    [InlineData("b AND TRUE", true, null, false)]
    [InlineData("b AND FALSE", false, false, false)]
    [InlineData("b OR TRUE", true, true, true)]
    [InlineData("b OR FALSE", true, null, false)]
    [InlineData("NOT b", false, null, true)]
    [InlineData("b IS TRUE", true, false, false)]
    [InlineData("b IS NOT FALSE", true, true, false)]
    [InlineData("b IS UNKNOWN", false, true, false)]
    [InlineData("i > 0 OR s IS NULL", true, true, false)]
    [InlineData("i IS DISTINCT FROM 1", false, true, true)]
    public void Boolean_logic_is_three_valued(string sql, object? row0, object? row1, object? row2) =>
        Assert.Equal([row0, row1, row2], Eval(sql));

    [Fact]
    public void Timestamp_interval_arithmetic()
    {
        var r = Eval("ts + INTERVAL '1' MINUTE");
        Assert.Equal(1_704_067_270_000L, r[0]);
        Assert.Null(r[1]);
    }

    [Fact]
    public void Division_by_zero_is_null_not_a_crash() => Assert.Equal([null, null, null], Eval("i / (i - i)"));

    [Fact]
    public void Filter_keeps_only_rows_where_the_predicate_is_true()
    {
        var bound = new Binder(new Catalog()).BindPredicate(SqlParser.ParseExpression("i > 0 OR b"), Scope.Of(Schema, null), "WHERE");
        var filter = ExpressionCompiler.CompileFilter(bound, Schema);
        var pool = new BatchPool();
        using var batch = pool.Rent(Schema, 64);
        for (var r = 0; r < Rows.Length; r++)
        {
            for (var c = 0; c < Schema.Count; c++)
            {
                batch.Columns[c].SetBoxed(r, Rows[r][c]);
            }
        }

        batch.Count = Rows.Length;
        filter(batch);
        Assert.Equal([true, false, false], Enumerable.Range(0, 3).Select(batch.IsLive));
    }
}
