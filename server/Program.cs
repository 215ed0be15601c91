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

        return root.Parse(args).Invoke();
    }
}
