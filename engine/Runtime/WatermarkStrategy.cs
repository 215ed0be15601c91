namespace Streams.Engine.Runtime;

/// <summary>
/// How a source derives event-time watermarks, per partition (Flink's bounded out-of-orderness strategy):
/// the watermark trails the largest event time seen by <see cref="MaxOutOfOrdernessMs"/>, so rows at most that much out
/// of order are still on time. A partition that delivers nothing for <see cref="IdleTimeout"/> stops holding the
/// job's watermark back until it delivers again.
/// </summary>
/// <param name="EventTimeColumn">Index of the TIMESTAMP column carrying event time.</param>
/// <param name="MaxOutOfOrdernessMs">The delay from the WATERMARK clause (<c>ts - INTERVAL '5' SECOND</c> → 5000).</param>
/// <param name="IdleTimeout">When set, a partition silent this long is marked idle.</param>
public sealed record WatermarkStrategy(int EventTimeColumn, long MaxOutOfOrdernessMs = 0, TimeSpan? IdleTimeout = null)
{
    /// <summary>The watermark after seeing <paramref name="maxEventTime"/>: no row at or below it is expected any more.</summary>
    public long WatermarkFor(long maxEventTime) =>
        maxEventTime == long.MinValue ? long.MinValue : maxEventTime - MaxOutOfOrdernessMs - 1;
}
