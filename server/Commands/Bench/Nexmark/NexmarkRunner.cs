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

    /// <summary>Events of an untimed run before the measured one, so JIT tiering and pools are warm (0: none).</summary>
    public long WarmupEvents { get; init; } = 500_000;
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
        var warmup = Math.Min(_options.WarmupEvents, _options.Events / 2);
        if (warmup > 0 && await MeasureAsync(query, warmup, cancellationToken).ConfigureAwait(false) is { Ok: false } failed)
        {
            return failed;
        }

        return await MeasureAsync(query, _options.Events, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a script of <paramref name="sql"/> (named <paramref name="name"/>) over the Nexmark tables once and measures it, without warm-up.</summary>
    public Task<NexmarkResult> RunScriptAsync(string name, string sql, CancellationToken cancellationToken) =>
        MeasureAsync(name, _options.Events, cancellationToken, sql);

    private async Task<NexmarkResult> MeasureAsync(string query, long events, CancellationToken cancellationToken, string? sql = null)
    {
        Progress.Reset();
        var registry = Progress.Wrap(_registry());
        var session = new SqlSession(registry, Directory.GetCurrentDirectory(), new SqlSessionOptions { Parallelism = _options.Parallelism });
        var ddl = NexmarkQueries.Ddl(events, _options.Seed, _options.Rate, _options.Parallelism);
        var text = sql ?? NexmarkQueries.Text(query);
        var cores = Environment.ProcessorCount;

        using var memory = PeakMemory.Start();
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
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
                return Failed(query, cores, $"line {ex.Position.Line}, column {ex.Position.Column}: {ex.Message}", ex);
            }

            foreach (var statement in statements)
            {
                await statement.RunAsync(new DiscardOutput(), false, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NotSupportedException or JobExecutionException or ConnectorException or InvalidOperationException or ArgumentException)
        {
            return Failed(query, cores, Innermost(ex), ex);
        }

        clock.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        return new NexmarkResult(query, events, clock.Elapsed.TotalSeconds, cpu, cores, memory.Stop(), Progress.RowsOut, allocated, null);
    }

    private static NexmarkResult Failed(string query, int cores, string error, Exception failure) =>
        new(query, 0, 0, 0, cores, 0, 0, 0, error) { Failure = failure };

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
