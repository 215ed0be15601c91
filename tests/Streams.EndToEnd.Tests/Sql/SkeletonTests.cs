using System.Globalization;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>The walking skeleton on a million rows, checked against a computation done here in the test.</summary>
public class SkeletonTests
{
    [Fact]
    public void Filter_and_project_over_a_million_rows_match_an_independent_computation()
    {
        using var run = new SqlRunner();
        const int rows = 1_000_000;
        var rng = new Random(42);
        var expected = new Dictionary<(string, long), int>();
        using (var w = new StreamWriter(Path.Combine(run.Folder, "x.ndjson")))
        {
            for (var i = 0; i < rows; i++)
            {
                var a = "k" + rng.Next(1000).ToString(CultureInfo.InvariantCulture);
                var b = rng.Next(-50, 100);
                w.Write("{\"a\":\"");
                w.Write(a);
                w.Write("\",\"b\":");
                w.Write(b.ToString(CultureInfo.InvariantCulture));
                w.Write("}\n");
                if (b > 10)
                {
                    var key = (a, (long)b * 2);
                    expected[key] = expected.GetValueOrDefault(key) + 1;
                }
            }
        }

        var r = run.Run("""
            CREATE STREAM s (a VARCHAR, b BIGINT) WITH (connector='file', path='x.ndjson', format='json');
            SELECT a, b * 2 AS c FROM s WHERE b > 10;
            """);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        var actual = new Dictionary<(string, long), int>();
        var count = 0;
        foreach (var line in r.Lines)
        {
            // Lines look like {"a":"k12","c":84}: parse them by hand, independently of the engine's encoder.
            var aStart = line.IndexOf("\"a\":\"", StringComparison.Ordinal) + 5;
            var aEnd = line.IndexOf('"', aStart);
            var cStart = line.IndexOf("\"c\":", StringComparison.Ordinal) + 4;
            var cEnd = line.IndexOf('}', cStart);
            var key = (line[aStart..aEnd], long.Parse(line[cStart..cEnd], CultureInfo.InvariantCulture));
            actual[key] = actual.GetValueOrDefault(key) + 1;
            count++;
        }

        Assert.Equal(expected.Values.Sum(), count);
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (key, n) in expected)
        {
            Assert.Equal(n, actual.GetValueOrDefault(key));
        }
    }
}
