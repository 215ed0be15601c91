using System.CommandLine;

namespace Streams.Server.Commands;

/// <summary>Lists the CLI's subcommands; each lives in its own file next to this one.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return VersionCommand.Create();
        yield return Bench.BenchCommand.Create();
        yield return DemoCommand.Create();
        yield return RunCommand.Create();
        yield return Log.TopicCommand.Create();
        yield return Log.ProduceCommand.Create();
        yield return Log.ConsumeCommand.Create();
        yield return Log.GroupsCommand.Create();
        yield return Log.LogCrashWriterCommand.Create();
        yield return CheckpointsCommand.Create();
    }
}
