using System.Text.Json;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>The NDJSON output contract of <c>streams run</c> and the SQL error format on stderr.</summary>
public class OutputContractTests
{
    [Fact]
    public void Values_are_written_per_the_output_contract()
    {
        using var run = new SqlRunner();
        run.WriteLines("in.ndjson",
        [
            """{"Id": 1, "Big": 9007199254740993, "Price": 2.5, "Name": "a\"b", "Ok": true, "Ts": "2024-01-01T00:00:10Z"}""",
            """{"Id": 2, "Big": null, "Price": 3, "Name": null, "Ok": false, "Ts": "2024-01-01T00:00:10.120Z"}""",
        ]);
        var r = run.Run("""
            CREATE STREAM s (Id INT, Big BIGINT, Price DOUBLE, Name VARCHAR, Ok BOOLEAN, Ts TIMESTAMP(3))
              WITH (connector = 'file', path = 'in.ndjson', format = 'json');
            SELECT Id, Big, Price, Name, Ok, Ts, Price * 2 AS `DoubledPrice`, id AS lower_alias FROM s;
            """, parallelism: 1);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        var lines = r.Lines.Order().ToArray();
        Assert.Equal(
            """{"Id":1,"Big":9007199254740993,"Price":2.5,"Name":"a\"b","Ok":true,"Ts":"2024-01-01T00:00:10Z","DoubledPrice":5.0,"lower_alias":1}""",
            Normalise(lines[0]));
        var second = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal(JsonValueKind.Null, second.GetProperty("Big").ValueKind);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("Name").ValueKind);
        Assert.Equal(JsonValueKind.False, second.GetProperty("Ok").ValueKind);
        Assert.Equal("2024-01-01T00:00:10.120Z", second.GetProperty("Ts").GetString());
        Assert.Equal(3.0, second.GetProperty("Price").GetDouble());
        Assert.Equal(JsonValueKind.Number, second.GetProperty("Id").ValueKind);
        Assert.DoesNotContain('.', second.GetProperty("Id").GetRawText());
    }

    // Doubles may be printed as 5 or 5.0 by the encoder; both are JSON numbers of the same value.
    private static string Normalise(string line) => line.Replace("\"DoubledPrice\":5,", "\"DoubledPrice\":5.0,", StringComparison.Ordinal);

    [Theory]
    [InlineData("SELECT prce FROM s;", 2, 8, "unknown column `prce` (did you mean `price`?)")]
    [InlineData("SELECT price FROM bidz;", 2, 19, "unknown stream or table `bidz` (did you mean `bids`?)")]
    [InlineData("SELECT price FROM s WHERE name > 10;", 2, 27, "cannot compare VARCHAR with INT")]
    [InlineData("SELECT price + name FROM s;", 2, 8, "cannot apply `+` to DOUBLE and VARCHAR")]
    [InlineData("SELECT price FROM s WHERE;", 2, 26, "unexpected")]
    [InlineData("SELECT price FROM s, LATERAL TABLE(f(price));", 2, 22, "not supported: LATERAL")]
    public void Bad_sql_exits_2_with_line_column_and_caret(string query, int line, int column, string message)
    {
        using var run = new SqlRunner();
        run.WriteLines("in.ndjson", ["""{"price": 1, "name": "x"}"""]);
        var r = run.Run("CREATE STREAM s (price DOUBLE, name VARCHAR) WITH (connector = 'file', path = 'in.ndjson', format = 'json');\n"
            + "CREATE STREAM bids (price DOUBLE) WITH (connector = 'file', path = 'in.ndjson', format = 'json');\n".Replace("\n", " ", StringComparison.Ordinal).TrimEnd() + "\n" + query);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var lines = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.StartsWith($"error: line {line + 1}, column {column}: ", lines[0]);
        Assert.Contains(message, lines[0]);
        Assert.Equal(query, lines[1]);
        Assert.Equal(new string(' ', column - 1) + "^", lines[2]);
    }

    [Fact]
    public void Missing_input_file_is_an_error_naming_the_file()
    {
        using var run = new SqlRunner();
        var r = run.Run("CREATE STREAM s (a INT) WITH (connector = 'file', path = 'nope.ndjson', format = 'json');\nSELECT a FROM s;");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nope.ndjson", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Malformed_lines_are_reported_and_do_not_stop_the_run()
    {
        using var run = new SqlRunner();
        run.WriteLines("in.ndjson", ["""{"a": 1}""", "{not json", """{"a": 3}"""]);
        var r = run.Run("CREATE STREAM s (a INT) WITH (connector = 'file', path = 'in.ndjson', format = 'json');\nSELECT a FROM s;", parallelism: 1);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal([1, 3], r.Rows.Select(x => x.GetProperty("a").GetInt32()).Order());
        Assert.Contains("in.ndjson:2", r.Stderr);
    }
}
