using System.CommandLine;
using Streams.Engine.Log;

namespace Streams.Server.Commands.Log;

/// <summary>What the log commands share: the --data-dir option and turning log errors into clear messages and exit code 1.</summary>
internal static class LogCommandLine
{
    public const string DefaultDataDir = "./streams-data";

    public static Option<string> DataDirOption() => new("--data-dir")
    {
        Description = "The Streams data directory.",
        DefaultValueFactory = _ => DefaultDataDir,
    };

    /// <summary>Runs <paramref name="body"/>, reporting <see cref="LogException"/>s as <c>streams: error: ...</c> on stderr.</summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (LogException e)
        {
            Console.Error.WriteLine($"streams: error: {e.Message}");
            return 1;
        }
    }

    /// <summary>Async form of <see cref="Run"/>.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (LogException e)
        {
            Console.Error.WriteLine($"streams: error: {e.Message}");
            return 1;
        }
    }

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:F1} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / 1024.0 / 1024:F1} MiB",
        _ => $"{bytes / 1024.0 / 1024 / 1024:F2} GiB",
    };
}
