using System.CommandLine;
using Streams.Server.Commands;

namespace Streams.Server;

/// <summary>The <c>streams</c> command line: one subcommand per job a user runs.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Streams: a stream processing engine with a durable log and a Flink-compatible SQL layer.");
        foreach (var command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }

        var parsed = root.Parse(args);
        var exit = parsed.Invoke();
        // A usage error (unknown option, bad or missing value) exits 2 like the commands' own usage checks, not 1 like a failed run.
        return parsed.Errors.Count > 0 ? 2 : exit;
    }
}
