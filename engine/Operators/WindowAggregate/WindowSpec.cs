using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;

namespace Streams.Engine.Operators.WindowAggregate;

/// <summary>The kind of event-time window.</summary>
public enum WindowKind : byte
{
    /// <summary>Fixed, non-overlapping windows of <see cref="WindowSpec.SizeMs"/>.</summary>
    Tumble,
    /// <summary>Windows of <see cref="WindowSpec.SizeMs"/> starting every <see cref="WindowSpec.SlideMs"/> (they overlap when slide &lt; size).</summary>
    Hop,
    /// <summary>Per-key sessions: an event opens [ts, ts+gap); windows that overlap or touch merge.</summary>
    Session,
}

/// <summary>A window definition; build one with <see cref="Tumble"/>, <see cref="Hop"/> or <see cref="Session"/>.</summary>
/// <param name="Kind">Tumble, hop or session.</param>
/// <param name="SizeMs">Window length (tumble, hop).</param>
/// <param name="SlideMs">Distance between window starts (hop; equals size for tumble).</param>
/// <param name="GapMs">Inactivity gap that closes a session.</param>
/// <param name="OffsetMs">Shifts window boundaries (windows start at offset + k*slide).</param>
public sealed record WindowSpec(WindowKind Kind, long SizeMs, long SlideMs, long GapMs, long OffsetMs = 0)
{
    /// <summary>TUMBLE(..., INTERVAL size).</summary>
    public static WindowSpec Tumble(long sizeMs, long offsetMs = 0) =>
        sizeMs > 0 ? new(WindowKind.Tumble, sizeMs, sizeMs, 0, offsetMs) : throw new ArgumentOutOfRangeException(nameof(sizeMs), sizeMs, "window size must be positive");

    /// <summary>HOP(..., INTERVAL slide, INTERVAL size) — Flink's argument order: slide first.</summary>
    public static WindowSpec Hop(long slideMs, long sizeMs, long offsetMs = 0) =>
        slideMs <= 0 || sizeMs <= 0 ? throw new ArgumentOutOfRangeException(nameof(slideMs), "window slide and size must be positive")
        : new(WindowKind.Hop, sizeMs, slideMs, 0, offsetMs);

    /// <summary>SESSION(..., INTERVAL gap).</summary>
    public static WindowSpec Session(long gapMs) =>
        gapMs > 0 ? new(WindowKind.Session, 0, 0, gapMs) : throw new ArgumentOutOfRangeException(nameof(gapMs), gapMs, "session gap must be positive");
}

/// <summary>
/// A keyed window aggregate: group rows by <see cref="KeyColumns"/> and window, compute <see cref="Aggregates"/>,
/// and emit one row per (key, window) once the watermark passes the window's end (+ allowed lateness).
/// Output schema (<see cref="OutputSchema"/>): key columns..., window_start, window_end, aggregates... .
/// Rows for windows that already fired go to the late-data side output (input schema), or to the dead letters when nobody reads it.
/// </summary>
/// <param name="EventTimeColumn">The TIMESTAMP input column windows are assigned by.</param>
/// <param name="Window">The window definition.</param>
/// <param name="KeyColumns">GROUP BY columns (may be empty: one global group). NULL is a key value of its own.</param>
/// <param name="Aggregates">The aggregates, in output order.</param>
/// <param name="AllowedLatenessMs">Extra time a window waits after its end before it fires (and its state is dropped); results are still emitted once.</param>
public sealed record WindowAggregateSpec(int EventTimeColumn, WindowSpec Window, int[] KeyColumns, AggregateSpec[] Aggregates, long AllowedLatenessMs = 0)
{
    /// <summary>The output schema for <paramref name="input"/>: keys, window_start, window_end, aggregates. window_end is not marked as event time; use its index for a cascaded window.</summary>
    public Schema OutputSchema(Schema input)
    {
        Validate(input);
        var fields = new List<Field>();
        foreach (var k in KeyColumns)
        {
            fields.Add(input[k]);
        }

        fields.Add(new Field("window_start", DataType.Timestamp, false));
        fields.Add(new Field("window_end", DataType.Timestamp, false));
        foreach (var a in Aggregates)
        {
            fields.Add(new Field(a.OutputName, a.OutputType(input), a.Kind is not (AggregateKind.Count or AggregateKind.CountStar or AggregateKind.CountDistinct)));
        }

        return new Schema(fields);
    }

    /// <summary>Checks column indexes and types against <paramref name="input"/>.</summary>
    public void Validate(Schema input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (EventTimeColumn < 0 || EventTimeColumn >= input.Count || input[EventTimeColumn].Type != DataType.Timestamp)
        {
            throw new ArgumentException($"window: event-time column {EventTimeColumn} is not a TIMESTAMP column of {input}");
        }

        foreach (var k in KeyColumns)
        {
            if (k < 0 || k >= input.Count)
            {
                throw new ArgumentException($"window: key column {k} is not a column of {input}");
            }
        }

        foreach (var a in Aggregates)
        {
            a.Validate(input);
        }

        if (AllowedLatenessMs < 0)
        {
            throw new ArgumentException("window: allowed lateness cannot be negative");
        }
    }
}
