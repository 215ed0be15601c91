using System.CommandLine;
using System.Reflection;

namespace Streams.Server.Commands;

/// <summary><c>streams version</c>: prints the engine version.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the Streams version.");
        command.SetAction(_ =>
        {
            Console.Out.WriteLine(typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0");
            return 0;
        });
        return command;
    }
}
