using System.CommandLine;

namespace Streams.Server.Commands.Bench;

/// <summary><c>streams bench [area]</c>: end-to-end throughput benchmarks that print numbers (one subcommand per area).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Run throughput benchmarks and print the numbers.");
        // One line per benchmark area; each area's command lives in its own file in this folder.
        command.Subcommands.Add(BenchTumbleCommand.Create());
        return command;
    }
}
