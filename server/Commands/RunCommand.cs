using System.CommandLine;
using Streams.Connectors;
using Streams.Connectors.Files;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Runtime;
using Streams.Query;
using Streams.Query.Execution;

namespace Streams.Server.Commands;

/// <summary>
/// <c>streams run FILE.sql</c>: runs every statement of a SQL script. Query results go to stdout as NDJSON (one object
/// per row); diagnostics go to stderr. Exit codes: 0 ok, 1 runtime failure (missing file, connector error), 2 bad SQL.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "The SQL script to run (paths in WITH are relative to its folder)." };
        var changelog = new Option<bool>("--changelog") { Description = "Print every change of updating results, each row with an \"op\" field (+I, -U, +U, -D)." };
        var parallelism = new Option<int>("--parallelism") { Description = "Tasks per keyed operator (default: cores)." };
        var stateDir = new Option<string?>("--state-dir") { Description = "Checkpoint INSERT INTO jobs here (relative to the current directory) and resume from it after a crash: exactly-once into two-phase sinks." };
        var interval = new Option<string>("--checkpoint-interval") { Description = "Time between checkpoints, e.g. 200ms, 1s, 2m.", DefaultValueFactory = _ => "1s" };
        var command = new Command("run", "Run a SQL script: results as NDJSON on stdout.") { file, changelog, parallelism, stateDir, interval };
        command.SetAction((parse, ct) => CheckpointsCommand.TryParseInterval(parse.GetValue(interval)!, out var every)
            ? Run(parse.GetValue(file)!, parse.GetValue(changelog), parse.GetValue(parallelism), Console.OpenStandardOutput(), Console.Error, ct,
                parse.GetValue(stateDir) is { } dir ? new SqlCheckpointOptions(Path.GetFullPath(dir), every) : null)
            : Task.FromResult(CheckpointsCommand.BadInterval(parse.GetValue(interval)!, Console.Error)));
        return command;
    }

    /// <summary>Runs <paramref name="file"/>, writing rows to <paramref name="stdout"/> and diagnostics to <paramref name="stderr"/>.</summary>
    public static async Task<int> Run(FileInfo file, bool changelog, int parallelism, Stream stdout, TextWriter stderr, CancellationToken ct, SqlCheckpointOptions? checkpoints = null)
    {
        string sql;
        try
        {
            sql = await File.ReadAllTextAsync(file.FullName, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"error: cannot read {file.FullName}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        var registry = ConnectorCatalog.RegisterAll(new ConnectorRegistry());
        var deadLetters = new StderrDeadLetters(stderr);
        var options = new SqlSessionOptions { DeadLetters = deadLetters, Parallelism = parallelism > 0 ? parallelism : Math.Max(1, Environment.ProcessorCount), Checkpoints = checkpoints };
        var session = new SqlSession(registry, file.DirectoryName ?? Directory.GetCurrentDirectory(), options);
        IReadOnlyList<PreparedStatement> statements;
        try
        {
            statements = session.Prepare(sql);
        }
        catch (SqlException ex)
        {
            await stderr.WriteLineAsync(ex.Format(sql)).ConfigureAwait(false);
            return 2;
        }

        var output = new StdoutOutput(stdout, changelog);
        foreach (var statement in statements)
        {
            try
            {
                await statement.RunAsync(output, changelog, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ConnectorException or JobExecutionException or NotSupportedException or IOException or Engine.Checkpoints.PlanMismatchException)
            {
                await stdout.FlushAsync(ct).ConfigureAwait(false);
                await stderr.WriteLineAsync($"error: statement at line {statement.Position.Line}: {Describe(ex)}").ConfigureAwait(false);
                return 1;
            }
        }

        await stdout.FlushAsync(ct).ConfigureAwait(false);
        deadLetters.Summarise();
        return 0;
    }

    private static string Describe(Exception ex)
    {
        // The runtime wraps the failing operator's exception; show the innermost reason a user can act on.
        var inner = ex;
        while (inner is JobExecutionException { InnerException: { } i })
        {
            inner = i;
        }

        // STREAMS_DEBUG=1 shows the whole chain with stack traces, for bug reports.
        return Environment.GetEnvironmentVariable("STREAMS_DEBUG") == "1" ? ex.ToString() : inner.Message;
    }

    private sealed class StdoutOutput(Stream stdout, bool changelog) : ISqlOutput
    {
        private readonly Stream _stdout = Stream.Synchronized(stdout);

        public ISinkWriter OpenRows(Schema schema) => new NdjsonStreamSinkWriter(schema, _stdout, changelog);

        public void WriteText(string text)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            _stdout.Write(bytes);
            _stdout.Flush();
        }
    }

    /// <summary>Reports poison records on stderr (the first few in full, then a count) so nothing vanishes silently.</summary>
    private sealed class StderrDeadLetters(TextWriter stderr) : IDeadLetterSink
    {
        private const int Shown = 20;
        private long _count;

        public void Report(DeadLetter letter)
        {
            var n = Interlocked.Increment(ref _count);
            if (n <= Shown)
            {
                lock (stderr)
                {
                    stderr.WriteLine($"warning: {letter.Location}: {letter.Reason}");
                }
            }
        }

        public void Summarise()
        {
            if (_count > Shown)
            {
                stderr.WriteLine($"warning: {_count} records rejected in total ({_count - Shown} not shown)");
            }
        }
    }
}
