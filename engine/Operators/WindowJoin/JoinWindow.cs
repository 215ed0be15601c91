namespace Streams.Engine.Operators.WindowJoin;

/// <summary>The kind of window a window join groups rows by.</summary>
public enum JoinWindowKind : byte
{
    /// <summary>Fixed, non-overlapping windows of <see cref="JoinWindow.SizeMs"/>.</summary>
    Tumble = 0,
    /// <summary>Windows of <see cref="JoinWindow.SizeMs"/> starting every <see cref="JoinWindow.SlideMs"/>; a row belongs to several.</summary>
    Hop = 1,
    /// <summary>Per key, rows closer than <see cref="JoinWindow.GapMs"/> form one window <c>[first, last + gap)</c>; windows that overlap or touch merge.</summary>
    Session = 2,
}

/// <summary>The windows of a window join, as in Flink's TUMBLE / HOP / SESSION table-valued functions.</summary>
/// <param name="Kind">Tumble, hop or session.</param>
/// <param name="SizeMs">Window length (tumble, hop).</param>
/// <param name="SlideMs">Distance between window starts (hop; equals the size for tumble).</param>
/// <param name="GapMs">Session gap (session).</param>
/// <param name="OffsetMs">Shift of window starts from the epoch (tumble, hop).</param>
public readonly record struct JoinWindow(JoinWindowKind Kind, long SizeMs, long SlideMs, long GapMs, long OffsetMs = 0)
{
    /// <summary>Tumbling windows of <paramref name="sizeMs"/>.</summary>
    public static JoinWindow Tumble(long sizeMs, long offsetMs = 0) => new(JoinWindowKind.Tumble, sizeMs, sizeMs, 0, offsetMs);

    /// <summary>Hopping windows of <paramref name="sizeMs"/> every <paramref name="slideMs"/> (Flink's HOP argument order: slide, size).</summary>
    public static JoinWindow Hop(long slideMs, long sizeMs, long offsetMs = 0) => new(JoinWindowKind.Hop, sizeMs, slideMs, 0, offsetMs);

    /// <summary>Session windows with gap <paramref name="gapMs"/>, partitioned by the join key.</summary>
    public static JoinWindow Session(long gapMs) => new(JoinWindowKind.Session, 0, 0, gapMs);

    internal void Validate()
    {
        var ok = Kind switch
        {
            JoinWindowKind.Tumble => SizeMs > 0 && SlideMs == SizeMs,
            JoinWindowKind.Hop => SizeMs > 0 && SlideMs > 0,
            JoinWindowKind.Session => GapMs > 0,
            _ => false,
        };
        if (!ok)
        {
            throw new ArgumentException($"invalid window for a window join: {this}");
        }
    }

    /// <summary>The start of the last window (tumble/hop) that contains <paramref name="ts"/>.</summary>
    internal long LastStart(long ts)
    {
        var m = (ts - OffsetMs) % SlideMs;
        if (m < 0)
        {
            m += SlideMs;
        }

        return ts - m;
    }
}
