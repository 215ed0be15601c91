namespace Streams.Server.Commands.Bench.Nexmark;

/// <summary>
/// Measures the peak resident set size over one query: the kernel's high-water mark (VmHWM, reset through
/// /proc/self/clear_refs) where Linux allows it, and a 20 ms sampler of the working set otherwise.
/// </summary>
internal sealed class PeakMemory : IDisposable
{
    private readonly Timer _timer;
    private readonly bool _kernelPeak;
    private long _sampled;

    private PeakMemory()
    {
        // Start from a compacted heap with its free memory given back to the OS (Aggressive decommits; Forced keeps the
        // pages resident), so the previous query's heap does not count against this one.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        _kernelPeak = TryResetKernelPeak();
        _sampled = Environment.WorkingSet;
        _timer = new Timer(_ => Sample(), null, 20, 20);
    }

    public static PeakMemory Start() => new();

    /// <summary>Stops sampling and returns the peak resident set size in bytes.</summary>
    public long Stop()
    {
        _timer.Dispose();
        Sample();
        var peak = Interlocked.Read(ref _sampled);
        return _kernelPeak && ReadKernelPeak() is { } hwm ? Math.Max(peak, hwm) : peak;
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var now = Environment.WorkingSet;
        var seen = Interlocked.Read(ref _sampled);
        while (now > seen)
        {
            var was = Interlocked.CompareExchange(ref _sampled, now, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    private static bool TryResetKernelPeak()
    {
        try
        {
            // "5" resets the peak RSS counter of this process (Linux 4.0+).
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    private static long? ReadKernelPeak()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }

        return null;
    }
}
