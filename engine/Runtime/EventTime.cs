namespace Streams.Engine.Runtime;

/// <summary>Limits on event-time values, so window arithmetic never overflows.</summary>
public static class EventTime
{
    /// <summary>0001-01-01T00:00:00Z in Unix milliseconds: the earliest event time accepted.</summary>
    public const long MinValid = -62_135_596_800_000;

    /// <summary>9999-12-31T23:59:59.999Z in Unix milliseconds: the latest event time accepted.</summary>
    public const long MaxValid = 253_402_300_799_999;

    /// <summary>Whether <paramref name="timestamp"/> is a usable event time.</summary>
    public static bool IsValid(long timestamp) => timestamp is >= MinValid and <= MaxValid;
}
