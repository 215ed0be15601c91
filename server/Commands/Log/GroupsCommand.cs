using System.CommandLine;
using Streams.Engine.Log;

namespace Streams.Server.Commands.Log;

/// <summary><c>streams groups</c>: per group and partition, the committed offset, log end, lag and whether lag is rising.</summary>
internal static class GroupsCommand
{
    public static Command Create()
    {
        var dataDir = LogCommandLine.DataDirOption();
        var command = new Command("groups", "Show consumer groups: committed offset, log end, lag and lag trend per partition.") { dataDir };
        command.SetAction(r => LogCommandLine.Run(() =>
        {
            using var store = LogStore.Open(r.GetValue(dataDir)!, create: false);
            var rows = store.Groups.Describe(store.LastStableOffset);
            Console.Out.WriteLine("GROUP\tTOPIC\tPARTITION\tCOMMITTED\tEND\tLAG\tTREND\tLAST-COMMIT");
            foreach (var row in rows)
            {
                var when = DateTimeOffset.FromUnixTimeMilliseconds(row.LastCommitMs).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                Console.Out.WriteLine($"{row.Group}\t{row.Topic}\t{row.Partition}\t{row.Committed}\t{row.EndOffset}\t{row.Lag}\t{row.Trend.ToString().ToLowerInvariant()}\t{when}");
            }

            return 0;
        }));
        return command;
    }
}
