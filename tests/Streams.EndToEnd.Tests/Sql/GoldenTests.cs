using System.Text;
using Streams.Server.Commands;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>
/// Golden tests: each tests/sql/NAME.sql runs through <c>streams run</c> and its output must equal NAME.expected.
/// A <c>-- fail:</c> header means the script must be rejected (exit code 2) and the expected text is stderr;
/// otherwise it is stdout (row lines sorted, since parallel tasks interleave). Set STREAMS_REGENERATE=1 to rewrite
/// the expected files from the current output.
/// </summary>
public class GoldenTests
{
    private static readonly string SqlFolder = Path.Combine(RepoRoot(), "tests", "sql");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(SqlFolder, "*.sql").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(f));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Output_matches_the_golden_file(string name)
    {
        var sqlPath = Path.Combine(SqlFolder, name + ".sql");
        var expectedPath = Path.Combine(SqlFolder, name + ".expected");
        var fails = File.ReadLines(sqlPath).First().StartsWith("-- fail:", StringComparison.Ordinal);
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        var exit = await RunCommand.Run(new FileInfo(sqlPath), false, 2, stdout, stderr, CancellationToken.None);
        var text = fails ? stderr.ToString() : Encoding.UTF8.GetString(stdout.ToArray());
        if (!fails && !text.Contains("== Logical Plan ==", StringComparison.Ordinal))
        {
            text = string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)) + "\n";
        }

        text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("STREAMS_REGENERATE") == "1")
        {
            await File.WriteAllTextAsync(expectedPath, text);
        }

        Assert.Equal(fails ? 2 : 0, exit);
        Assert.True(File.Exists(expectedPath), $"{expectedPath} is missing; run with STREAMS_REGENERATE=1 to create it");
        Assert.Equal(await File.ReadAllTextAsync(expectedPath), text);
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Streams.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Streams.sln)");
    }
}
