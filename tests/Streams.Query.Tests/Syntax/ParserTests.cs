using Streams.Engine.Data;
using Streams.Query.Syntax;

namespace Streams.Query.Tests.Syntax;

public class ParserTests
{
    [Fact]
    public void Parses_a_script_of_many_statements_with_comments()
    {
        var script = """
            -- a line comment
            CREATE STREAM bids (auction BIGINT, price DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
              WITH ('connector' = 'file', 'path' = 'bids.ndjson', 'format' = 'json');
            /* a block
               comment */
            CREATE TABLE out1 (auction BIGINT, n BIGINT, PRIMARY KEY (auction) NOT ENFORCED) WITH (connector = 'blackhole');
            CREATE VIEW v AS SELECT auction FROM bids;
            INSERT INTO out1 SELECT auction, COUNT(*) FROM bids GROUP BY auction;
            EXPLAIN SELECT * FROM v;
            SHOW STREAMS;
            DESCRIBE bids;
            DROP STREAM IF EXISTS v;
            """;
        var statements = SqlParser.ParseScript(script);
        Assert.Collection(statements,
            s => Assert.IsType<CreateSourceStatement>(s),
            s => Assert.Equal(["auction"], Assert.IsType<CreateSourceStatement>(s).PrimaryKey),
            s => Assert.IsType<CreateViewStatement>(s),
            s => Assert.IsType<InsertStatement>(s),
            s => Assert.IsType<ExplainStatement>(s),
            s => Assert.IsType<ShowStatement>(s),
            s => Assert.IsType<DescribeStatement>(s),
            s => Assert.True(Assert.IsType<DropStatement>(s).IfExists));
        var create = (CreateSourceStatement)statements[0];
        Assert.Equal(new SourcePosition(2, 1), create.Pos);
        Assert.Equal("ts", create.Watermark!.Column);
        Assert.Contains(create.Options, o => o.Key == "connector" && o.Value == "file");
        Assert.Equal(DataType.Timestamp, create.Columns[2].Type.Type);
    }

    [Fact]
    public void Backticks_quote_identifiers_and_keep_their_case()
    {
        var q = (QueryStatement)SqlParser.ParseScript("SELECT `Select`, `my col` AS `Out` FROM `t`").Single();
        var select = (SelectQuery)q.Query;
        Assert.Equal("Select", ((ColumnExpr)select.Items[0].Expr!).Name);
        Assert.Equal("my col", ((ColumnExpr)select.Items[1].Expr!).Name);
        Assert.Equal("Out", select.Items[1].Alias);
        Assert.Equal("t", ((TableRef)select.From!).Name);
    }

    [Fact]
    public void Expression_precedence_follows_sql()
    {
        var e = SqlParser.ParseExpression("a OR b AND NOT c = 1 + 2 * 3");
        var or = Assert.IsType<BinaryExpr>(e);
        Assert.Equal("OR", or.Op);
        var and = Assert.IsType<BinaryExpr>(or.Right);
        Assert.Equal("AND", and.Op);
        var not = Assert.IsType<UnaryExpr>(and.Right);
        var eq = Assert.IsType<BinaryExpr>(not.Operand);
        Assert.Equal("=", eq.Op);
        var plus = Assert.IsType<BinaryExpr>(eq.Right);
        Assert.Equal("+", plus.Op);
        Assert.Equal("*", Assert.IsType<BinaryExpr>(plus.Right).Op);
    }

    [Theory]
    [InlineData("SUBSTRING(s FROM 2 FOR 3)", 3)]
    [InlineData("SUBSTRING(s, 2, 3)", 3)]
    [InlineData("SUBSTRING(s FROM 2)", 2)]
    [InlineData("TRIM(BOTH 'x' FROM s)", 3)]
    [InlineData("TRIM(s)", 3)]
    [InlineData("POSITION('a' IN s)", 2)]
    public void Special_function_argument_forms(string text, int args)
    {
        var call = Assert.IsType<CallExpr>(SqlParser.ParseExpression(text));
        Assert.Equal(args, call.Args.Count);
    }

    [Fact]
    public void Parses_window_tvfs_joins_and_aggregate_filters()
    {
        var sql = """
            SELECT b.k, window_start, COUNT(*) FILTER (WHERE price > 10) AS n, COUNT(DISTINCT bidder)
            FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)) AS b
            LEFT JOIN persons p ON b.k = p.id
            GROUP BY b.k, window_start, window_end
            HAVING COUNT(*) > 1
            """;
        var select = (SelectQuery)((QueryStatement)SqlParser.ParseScript(sql).Single()).Query;
        var join = Assert.IsType<JoinRef>(select.From);
        Assert.Equal("LEFT", join.Kind);
        var tvf = Assert.IsType<WindowTvfRef>(join.Left);
        Assert.Equal("HOP", tvf.Kind);
        Assert.Equal([5000L, 10000L], tvf.Args.Select(a => ((IntervalExpr)a).Millis));
        var count = Assert.IsType<CallExpr>(select.Items[2].Expr);
        Assert.NotNull(count.Filter);
        Assert.True(Assert.IsType<CallExpr>(select.Items[3].Expr).Distinct);
        Assert.Equal(3, select.GroupBy.Count);
    }

    [Theory]
    [InlineData("INTERVAL '10' SECOND", 10_000)]
    [InlineData("INTERVAL '2' MINUTE", 120_000)]
    [InlineData("INTERVAL '1' HOUR", 3_600_000)]
    [InlineData("INTERVAL '1.5' SECOND", 1_500)]
    [InlineData("INTERVAL '10 seconds'", 10_000)]
    [InlineData("INTERVAL '3' DAY", 259_200_000)]
    public void Interval_literals(string text, long millis) =>
        Assert.Equal(millis, Assert.IsType<IntervalExpr>(SqlParser.ParseExpression(text)).Millis);

    [Theory]
    [InlineData("WITH RECURSIVE x AS (SELECT 1) SELECT * FROM x", "not supported: WITH RECURSIVE", 1, 6)]
    [InlineData("SELECT * FROM t MATCH_RECOGNIZE (PATTERN (A))", "not supported: MATCH_RECOGNIZE", 1, 17)]
    [InlineData("SELECT ARRAY[1, 2] FROM t", "not supported: ARRAY values", 1, 8)]
    [InlineData("SELECT a FROM t\nNATURAL JOIN u", "not supported: NATURAL JOIN", 2, 1)]
    [InlineData("SELECT a FROM t, LATERAL TABLE(f(a))", "not supported: LATERAL", 1, 18)]
    [InlineData("SELECT a FROM t GROUP BY ROLLUP(a)", "not supported: GROUPING SETS", 1, 26)]
    [InlineData("UPDATE t SET a = 1", "not supported: this statement", 1, 1)]
    [InlineData("SELECT SUM(a) OVER (ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t", "not supported: OVER ROWS frames ending at FOLLOWING", 1, 62)]
    public void Unsupported_features_are_named_at_their_position(string sql, string message, int line, int column)
    {
        var ex = Assert.Throws<SqlException>(() => SqlParser.ParseScript(sql));
        Assert.StartsWith(message, ex.Message);
        Assert.Equal(new SourcePosition(line, column), ex.Position);
    }

    [Theory]
    [InlineData("SELECT a FROM t WHERE", 1, 22)]
    [InlineData("SELECT a,, b FROM t", 1, 10)]
    [InlineData("SELECT 'abc FROM t", 1, 8)]
    [InlineData("SELECT a FROM t /* open", 1, 17)]
    [InlineData("SELECT a\nFROM t\nWHERE a = = 1", 3, 11)]
    [InlineData("SELECT a FROM t WHERE a # 1", 1, 25)]
    public void Syntax_errors_point_at_the_offending_token(string sql, int line, int column)
    {
        var ex = Assert.Throws<SqlException>(() => SqlParser.ParseScript(sql));
        Assert.Equal(new SourcePosition(line, column), ex.Position);
    }

    [Fact]
    public void A_misspelt_clause_keyword_is_pointed_at_with_a_suggestion()
    {
        var ex = Assert.Throws<SqlException>(() => SqlParser.ParseScript("SELECT a FORM s"));
        Assert.Equal(new SourcePosition(1, 10), ex.Position);
        Assert.Equal("unexpected `FORM` (did you mean `FROM`?)", ex.Message);
    }

    [Fact]
    public void Error_format_has_message_source_line_and_caret()
    {
        var sql = "SELECT a\nFROM t\nWHERE a = = 1";
        var ex = Assert.Throws<SqlException>(() => SqlParser.ParseScript(sql));
        var lines = ex.Format(sql).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("error: line 3, column 11: ", lines[0]);
        Assert.Equal("WHERE a = = 1", lines[1]);
        Assert.Equal("          ^", lines[2]);
    }
}
