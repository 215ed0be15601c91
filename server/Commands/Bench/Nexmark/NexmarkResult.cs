namespace Streams.Server.Commands.Bench.Nexmark;

/// <summary>One query's measurement, or the reason it did not run (<see cref="Error"/>).</summary>
/// <param name="Query">The query name (q0 .. q12).</param>
/// <param name="Events">Generated events over all three tables (the Nexmark throughput unit).</param>
/// <param name="Seconds">Wall-clock time from the first statement to the end of the job.</param>
/// <param name="CpuSeconds">Process CPU time used meanwhile (all threads).</param>
/// <param name="Cores">Cores the process may use (the per-core divisor).</param>
/// <param name="PeakMemoryBytes">Peak resident set size during the query.</param>
/// <param name="RowsOut">Rows the blackhole sink received.</param>
/// <param name="Error">Null when the query ran; otherwise the engine's message (e.g. <c>not supported: ...</c>).</param>
internal sealed record NexmarkResult(
    string Query,
    long Events,
    double Seconds,
    double CpuSeconds,
    int Cores,
    long PeakMemoryBytes,
    long RowsOut,
    string? Error)
{
    /// <summary>True when the query ran to the end.</summary>
    public bool Ok => Error is null;

    /// <summary>Events per wall-clock second.</summary>
    public double EventsPerSecond => Seconds > 0 ? Events / Seconds : 0;

    /// <summary>Events per second divided by the cores available.</summary>
    public double EventsPerSecondPerCore => EventsPerSecond / Math.Max(1, Cores);
}
