using System.Diagnostics;
using Streams.Connectors;
using Streams.Engine.Connectors;
using Streams.Engine.Runtime;
using Streams.Query;

namespace Streams.Server.Commands.Bench.Nexmark;

/// <summary>How the Nexmark benchmark generates events and runs queries.</summary>
internal sealed record NexmarkRunOptions
{
    /// <summary>Events generated over all three tables (Person, Auction, Bid in proportions 1:3:46).</summary>
    public long Events { get; init; } = 10_000_000;

    /// <summary>The generator seed (same seed, same events).</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Events per second of event time; 10 M/s is the published Flink setup (nexmark.yaml TPS).</summary>
    public double Rate { get; init; } = 10_000_000;

    /// <summary>Tasks per keyed operator and source partitions per table.</summary>
    public int Parallelism { get; init; } = Math.Max(1, Environment.ProcessorCount);
}

/// <summary>
/// Runs the Nexmark queries of perf/nexmark through the SQL layer, in process: the generator feeds the sources, the
/// results go to a blackhole sink, and the run is timed end to end (planning included, it is negligible).
/// A query the SQL layer cannot run yet comes back with its <c>not supported: ...</c> message instead of failing the run.
/// </summary>
internal sealed class NexmarkRunner
{
    private readonly NexmarkRunOptions _options;
    private readonly Func<ConnectorRegistry> _registry;

    /// <summary>Creates a runner; <paramref name="registry"/> builds the connectors (default: everything the CLI ships).</summary>
    public NexmarkRunner(NexmarkRunOptions options, Func<ConnectorRegistry>? registry = null)
    {
        _options = options;
        _registry = registry ?? (() => ConnectorCatalog.RegisterAll(new ConnectorRegistry()));
    }

    /// <summary>Where the generator is, for a progress display.</summary>
    public NexmarkProgress Progress { get; } = new();

    /// <summary>Runs <paramref name="query"/> (e.g. <c>q5</c>) once and measures it.</summary>
    public async Task<NexmarkResult> RunAsync(string query, CancellationToken cancellationToken)
    {
        Progress.Reset();
        var registry = Progress.Wrap(_registry());
        var session = new SqlSession(registry, Directory.GetCurrentDirectory(), new SqlSessionOptions { Parallelism = _options.Parallelism });
        var ddl = NexmarkQueries.Ddl(_options.Events, _options.Seed, _options.Rate, _options.Parallelism);
        var text = NexmarkQueries.Text(query);
        var cores = Environment.ProcessorCount;

        using var memory = PeakMemory.Start();
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        try
        {
            IReadOnlyList<PreparedStatement> statements;
            try
            {
                session.Prepare(ddl);
                statements = session.Prepare(text);
            }
            catch (SqlException ex)
            {
                return Failed(query, cores, $"line {ex.Position.Line}, column {ex.Position.Column}: {ex.Message}");
            }

            foreach (var statement in statements)
            {
                await statement.RunAsync(new DiscardOutput(), false, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NotSupportedException or JobExecutionException or ConnectorException or InvalidOperationException or ArgumentException)
        {
            return Failed(query, cores, Innermost(ex));
        }

        clock.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        return new NexmarkResult(query, _options.Events, clock.Elapsed.TotalSeconds, cpu, cores, memory.Stop(), Progress.RowsOut, null);
    }

    private static NexmarkResult Failed(string query, int cores, string error) => new(query, 0, 0, 0, cores, 0, 0, error);

    private static string Innermost(Exception ex)
    {
        // The runtime wraps an operator's failure; the reason a user can act on is the innermost message.
        var inner = ex;
        while (inner is JobExecutionException { InnerException: { } i })
        {
            inner = i;
        }

        return inner.Message;
    }

    /// <summary>Queries in the bench write to blackhole sinks; anything printed (SELECT, EXPLAIN) is dropped.</summary>
    private sealed class DiscardOutput : ISqlOutput
    {
        public ISinkWriter OpenRows(Engine.Data.Schema schema) => new Connectors.Blackhole.BlackholeSink().OpenWriter(0);

        public void WriteText(string text)
        {
        }
    }
}
