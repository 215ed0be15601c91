namespace Streams.EndToEnd.Tests.Sql;

/// <summary>Statement kinds and output modes of <c>streams run</c>: changelog output, INSERT INTO sinks, SHOW and DESCRIBE.</summary>
public class StatementTests
{
    private const string Ddl = "CREATE STREAM s (k VARCHAR, v BIGINT) WITH (connector = 'file', path = 'in.ndjson', format = 'json');\n";

    private static SqlRunner WithInput()
    {
        var run = new SqlRunner();
        run.WriteLines("in.ndjson", ["""{"k":"a","v":1}""", """{"k":"a","v":2}""", """{"k":"b","v":5}"""]);
        return run;
    }

    [Fact]
    public void Updating_query_prints_the_final_result_once_input_ends()
    {
        using var run = WithInput();
        var r = run.Run(Ddl + "SELECT k, SUM(v) AS total FROM s GROUP BY k;", parallelism: 1);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["""{"k":"a","total":3}""", """{"k":"b","total":5}"""], r.Lines.Order());
    }

    [Fact]
    public void Changelog_flag_prints_every_change_with_its_op()
    {
        using var run = WithInput();
        var r = run.Run(Ddl + "SELECT k, SUM(v) AS total FROM s GROUP BY k;", changelog: true, parallelism: 1);
        Assert.Equal(0, r.ExitCode);
        // Every row carries its change kind; applying the changes in order gives the final result.
        var state = new Dictionary<string, long>();
        foreach (var row in r.Rows)
        {
            var op = row.GetProperty("op").GetString();
            var key = row.GetProperty("k").GetString()!;
            var total = row.GetProperty("total").GetInt64();
            Assert.Contains(op, new[] { "+I", "-U", "+U", "-D" });
            if (op is "+I" or "+U")
            {
                state[key] = total;
            }
            else
            {
                Assert.Equal(state[key], total);
                state.Remove(key);
            }
        }

        Assert.Equal(new Dictionary<string, long> { ["a"] = 3, ["b"] = 5 }, state);
    }

    [Fact]
    public void Insert_into_a_file_sink_writes_the_rows_there_and_nothing_to_stdout()
    {
        using var run = WithInput();
        var r = run.Run(Ddl
            + "CREATE TABLE out1 (k VARCHAR, doubled BIGINT) WITH (connector = 'file', path = 'out.ndjson', format = 'json');\n"
            + "CREATE TABLE nowhere (k VARCHAR) WITH (connector = 'blackhole');\n"
            + "INSERT INTO out1 SELECT k, v * 2 FROM s WHERE v > 1;\n"
            + "INSERT INTO nowhere SELECT k FROM s;\n", parallelism: 1);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("", r.Stdout);
        var written = Directory.GetFiles(Path.Combine(run.Folder, "out.ndjson"), "part-*").SelectMany(File.ReadAllLines).Where(l => l.Length > 0).Order().ToArray();
        Assert.Equal(["""{"k":"a","doubled":4}""", """{"k":"b","doubled":10}"""], written);
    }

    [Fact]
    public void Show_and_describe_list_the_catalog()
    {
        using var run = WithInput();
        var r = run.Run(Ddl + "SHOW STREAMS;\nDESCRIBE s;", parallelism: 1);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("""{"name":"s","kind":"STREAM","connector":"file"}""", r.Lines[0]);
        Assert.Equal("""{"name":"k","type":"VARCHAR","nullable":true,"key":null,"watermark":null}""", r.Lines[1]);
        Assert.Equal("""{"name":"v","type":"BIGINT","nullable":true,"key":null,"watermark":null}""", r.Lines[2]);
    }

    [Fact]
    public void Top_n_changelog_applied_in_order_is_the_final_result()
    {
        using var run = new SqlRunner();
        run.WriteLines("in.ndjson", ["""{"k":"a","v":1}""", """{"k":"a","v":5}""", """{"k":"b","v":2}""", """{"k":"a","v":3}""", """{"k":"b","v":9}"""]);
        var sql = Ddl + "SELECT k, v, rn FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM s) WHERE rn <= 1;";
        var r = run.Run(sql, changelog: true, parallelism: 1);
        Assert.Equal(0, r.ExitCode);

        var ops = r.Rows.Select(x => (Op: x.GetProperty("op").GetString(), K: x.GetProperty("k").GetString(), V: x.GetProperty("v").GetInt64())).ToArray();
        var state = new List<(string?, long)>();
        foreach (var (op, k, v) in ops)
        {
            if (op is "+I" or "+U")
            {
                state.Add((k, v));
            }
            else
            {
                Assert.True(state.Remove((k, v)));
            }
        }

        Assert.Equal([("a", 5L), ("b", 9L)], state.Order());
        var final = run.Run(sql, parallelism: 1);
        Assert.Equal(["""{"k":"a","v":5,"rn":1}""", """{"k":"b","v":9,"rn":1}"""], final.Lines.Order());
    }

    [Fact]
    public void Order_by_limit_changelog_describes_the_current_top_rows()
    {
        using var run = WithInput();
        var r = run.Run(Ddl + "SELECT k, v FROM s ORDER BY v DESC LIMIT 2;", changelog: true, parallelism: 1);
        Assert.Equal(0, r.ExitCode);
        var state = new List<long>();
        foreach (var row in r.Rows)
        {
            var v = row.GetProperty("v").GetInt64();
            if (row.GetProperty("op").GetString() is "+I" or "+U")
            {
                state.Add(v);
            }
            else
            {
                Assert.True(state.Remove(v));
            }
        }

        Assert.Equal([2L, 5L], state.Order());
    }
}
