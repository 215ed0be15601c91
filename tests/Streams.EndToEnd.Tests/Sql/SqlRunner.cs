using System.Text;
using System.Text.Json;
using Streams.Server.Commands;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>Runs <c>streams run</c> in-process on a script in a temp folder, capturing stdout, stderr and the exit code.</summary>
internal sealed class SqlRunner : IDisposable
{
    public SqlRunner() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "streams-sql-" + Guid.NewGuid().ToString("N"));

    public void WriteFile(string name, string content) => File.WriteAllText(Path.Combine(Folder, name), content);

    public void WriteLines(string name, IEnumerable<string> lines) => File.WriteAllLines(Path.Combine(Folder, name), lines);

    public Result Run(string sql, bool changelog = false, int parallelism = 2, string name = "query.sql")
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, sql);
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        var exit = RunCommand.Run(new FileInfo(path), changelog, parallelism, stdout, stderr, CancellationToken.None).GetAwaiter().GetResult();
        return new Result(exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public JsonElement[] Rows => Lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
    }
}
