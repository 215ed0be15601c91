using System.CommandLine;
using Streams.Server.Commands.Bench.Nexmark;

namespace Streams.Server.Commands.Bench;

/// <summary><c>streams bench [area]</c>: end-to-end throughput benchmarks that print numbers (one subcommand per area).</summary>
internal static class BenchCommand
{
    /// <summary>Events per query of the quick run: small enough that the whole subset finishes in well under 2 minutes.</summary>
    internal const long QuickEvents = 2_000_000;

    public static Command Create()
    {
        var command = new Command("bench", "Run throughput benchmarks and print the numbers (no area: a quick Nexmark subset).");
        // One line per benchmark area; each area's command lives in its own file in this folder.
        command.Subcommands.Add(BenchLogCommand.Create());
        command.Subcommands.Add(StateBench.Create());
        command.Subcommands.Add(BenchNexmarkCommand.Create());
        command.Subcommands.Add(BenchTumbleCommand.Create());

        // Without an area, run the quick subset so `streams bench` gives a first impression in under 2 minutes.
        command.SetAction((_, ct) => BenchNexmarkCommand.Run(NexmarkQueries.Quick, new NexmarkRunOptions { Events = QuickEvents }, json: false, ct));
        return command;
    }
}
