using System.Runtime.CompilerServices;

namespace Streams.Connectors.Formats;

/// <summary>
/// Parses and prints ISO-8601 timestamps as epoch milliseconds (UTC) straight on UTF-8 bytes, without allocating.
/// Parsing accepts <c>YYYY-MM-DD</c>, <c>YYYY-MM-DDThh:mm[:ss[.fraction]]</c> (a space works in place of <c>T</c>, as Flink prints it)
/// with an optional <c>Z</c> or <c>±hh[:mm]</c> offset; no offset means UTC. Printing gives <c>2024-01-01T00:00:10Z</c>,
/// with <c>.fff</c> only when the milliseconds are not zero.
/// </summary>
public static class IsoTimestamp
{
    /// <summary>The longest text <see cref="Format"/> writes (a six-digit signed year with milliseconds).</summary>
    public const int MaxLength = 32;

    private const long MillisPerDay = 86_400_000;

    /// <summary>Parses <paramref name="text"/>; false when it is not an ISO-8601 date or timestamp.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out long epochMillis)
    {
        epochMillis = 0;
        text = text.Trim((byte)' ');
        if (text.Length < 10 || text[4] != '-' || text[7] != '-')
        {
            return false;
        }

        if (!Digits(text, 0, 4, out var year) || !Digits(text, 5, 2, out var month) || !Digits(text, 8, 2, out var day))
        {
            return false;
        }

        if (month is < 1 or > 12 || day < 1 || day > DaysInMonth(year, month))
        {
            return false;
        }

        long millisOfDay = 0;
        long offsetMillis = 0;
        var i = 10;
        if (i < text.Length)
        {
            if (text[i] is not ((byte)'T' or (byte)'t' or (byte)' ') || text.Length < i + 6 || text[i + 3] != ':')
            {
                return false;
            }

            if (!Digits(text, i + 1, 2, out var hour) || !Digits(text, i + 4, 2, out var minute) || hour > 23 || minute > 59)
            {
                return false;
            }

            var second = 0;
            var fractionMillis = 0;
            i += 6;
            if (i < text.Length && text[i] == ':')
            {
                if (!Digits(text, i + 1, 2, out second) || second > 59)
                {
                    return false;
                }

                i += 3;
                if (i < text.Length && (text[i] == '.' || text[i] == ','))
                {
                    i++;
                    var start = i;
                    while (i < text.Length && (uint)(text[i] - '0') <= 9)
                    {
                        // Digits past milliseconds are truncated: TIMESTAMP(3) keeps milliseconds.
                        if (i - start < 3)
                        {
                            fractionMillis = (fractionMillis * 10) + (text[i] - '0');
                        }

                        i++;
                    }

                    if (i == start)
                    {
                        return false;
                    }

                    for (var d = i - start; d < 3; d++)
                    {
                        fractionMillis *= 10;
                    }
                }
            }

            millisOfDay = (((hour * 60L) + minute) * 60L + second) * 1000L + fractionMillis;
            if (i < text.Length && !TryOffset(text[i..], out offsetMillis))
            {
                return false;
            }
        }

        epochMillis = (DaysFromCivil(year, month, day) * MillisPerDay) + millisOfDay - offsetMillis;
        return true;
    }

    private static bool TryOffset(ReadOnlySpan<byte> text, out long offsetMillis)
    {
        offsetMillis = 0;
        if (text.Length == 1 && (text[0] == 'Z' || text[0] == 'z'))
        {
            return true;
        }

        if (text.Length < 3 || (text[0] != '+' && text[0] != '-') || !Digits(text, 1, 2, out var hours) || hours > 23)
        {
            return false;
        }

        var minutes = 0;
        if (text.Length == 6 && text[3] == ':')
        {
            if (!Digits(text, 4, 2, out minutes))
            {
                return false;
            }
        }
        else if (text.Length == 5)
        {
            if (!Digits(text, 3, 2, out minutes))
            {
                return false;
            }
        }
        else if (text.Length != 3)
        {
            return false;
        }

        if (minutes > 59)
        {
            return false;
        }

        offsetMillis = ((hours * 60L) + minutes) * 60_000L * (text[0] == '-' ? -1 : 1);
        return true;
    }

    /// <summary>Writes <paramref name="epochMillis"/> as ISO-8601 UTC into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes); returns the length.</summary>
    public static int Format(long epochMillis, Span<byte> destination)
    {
        var days = Math.DivRem(epochMillis, MillisPerDay, out var millisOfDay);
        if (millisOfDay < 0)
        {
            millisOfDay += MillisPerDay;
            days--;
        }

        CivilFromDays(days, out var year, out var month, out var day);
        var p = 0;
        if (year is >= 0 and <= 9999)
        {
            Write(destination, ref p, year, 4);
        }
        else
        {
            // Years outside 0..9999 use the ISO-8601 expanded form: a sign and six digits.
            destination[p++] = year < 0 ? (byte)'-' : (byte)'+';
            Write(destination, ref p, Math.Abs(year), 6);
        }

        destination[p++] = (byte)'-';
        Write(destination, ref p, month, 2);
        destination[p++] = (byte)'-';
        Write(destination, ref p, day, 2);
        destination[p++] = (byte)'T';
        var ms = (int)millisOfDay;
        Write(destination, ref p, ms / 3_600_000, 2);
        destination[p++] = (byte)':';
        Write(destination, ref p, ms / 60_000 % 60, 2);
        destination[p++] = (byte)':';
        Write(destination, ref p, ms / 1000 % 60, 2);
        if (ms % 1000 != 0)
        {
            destination[p++] = (byte)'.';
            Write(destination, ref p, ms % 1000, 3);
        }

        destination[p++] = (byte)'Z';
        return p;
    }

    /// <summary>The ISO-8601 text of <paramref name="epochMillis"/>; allocates, for messages and tests.</summary>
    public static string ToString(long epochMillis)
    {
        Span<byte> buffer = stackalloc byte[MaxLength];
        return System.Text.Encoding.ASCII.GetString(buffer[..Format(epochMillis, buffer)]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write(Span<byte> destination, ref int p, int value, int digits)
    {
        for (var d = digits - 1; d >= 0; d--)
        {
            destination[p + d] = (byte)('0' + (value % 10));
            value /= 10;
        }

        p += digits;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Digits(ReadOnlySpan<byte> text, int start, int count, out int value)
    {
        value = 0;
        if (start + count > text.Length)
        {
            return false;
        }

        for (var i = start; i < start + count; i++)
        {
            var d = (uint)(text[i] - '0');
            if (d > 9)
            {
                return false;
            }

            value = (value * 10) + (int)d;
        }

        return true;
    }

    private static int DaysInMonth(int year, int month) =>
        month == 2 ? (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28) : (month is 4 or 6 or 9 or 11 ? 30 : 31);

    // Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian calendar, any year.
    private static long DaysFromCivil(long y, int m, int d)
    {
        y -= m <= 2 ? 1 : 0;
        var era = (y >= 0 ? y : y - 399) / 400;
        var yoe = y - (era * 400);
        var doy = ((153 * (m + (m > 2 ? -3 : 9))) + 2) / 5 + d - 1;
        var doe = (yoe * 365) + (yoe / 4) - (yoe / 100) + doy;
        return (era * 146097) + doe - 719468;
    }

    private static void CivilFromDays(long z, out int year, out int month, out int day)
    {
        z += 719468;
        var era = (z >= 0 ? z : z - 146096) / 146097;
        var doe = z - (era * 146097);
        var yoe = (doe - (doe / 1460) + (doe / 36524) - (doe / 146096)) / 365;
        var y = yoe + (era * 400);
        var doy = doe - ((365 * yoe) + (yoe / 4) - (yoe / 100));
        var mp = ((5 * doy) + 2) / 153;
        day = (int)(doy - (((153 * mp) + 2) / 5) + 1);
        month = (int)(mp < 10 ? mp + 3 : mp - 9);
        year = (int)(y + (month <= 2 ? 1 : 0));
    }
}
