using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Streams.Query.Compilation;

/// <summary>
/// The scalar functions compiled expressions call. Arguments are never NULL here: the compiled code checks nulls
/// before calling, so each function is plain C# on values.
/// </summary>
internal static class SqlFunctions
{
    public static string Upper(string s) => s.ToUpperInvariant();

    public static string Lower(string s) => s.ToLowerInvariant();

    /// <summary>SQL SUBSTRING: 1-based start; positions before 1 shorten the result (PostgreSQL and Flink agree).</summary>
    public static string Substring(string s, int start, int length)
    {
        if (length < 0)
        {
            ThrowNegativeLength();
        }

        long from = start;
        long to = (long)start + length;
        return Slice(s, from, to);
    }

    public static string Substring(string s, int start)
    {
        return Slice(s, start, long.MaxValue);
    }

    private static string Slice(string s, long from, long to)
    {
        var f = Math.Max(from, 1);
        var t = Math.Min(to, (long)s.Length + 1);
        return t <= f ? "" : s.Substring((int)f - 1, (int)(t - f));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ThrowNegativeLength() => throw new SqlRuntimeException("negative substring length not allowed");

    public static string Concat(string a, string b) => string.Concat(a, b);

    public static int CharLength(string s) => s.Length;

    public static string Trim(string mode, string chars, string s)
    {
        var set = chars.ToCharArray();
        return mode switch
        {
            "LEADING" => s.TrimStart(set),
            "TRAILING" => s.TrimEnd(set),
            _ => s.Trim(set),
        };
    }

    public static string Replace(string s, string from, string to) => from.Length == 0 ? s : s.Replace(from, to, StringComparison.Ordinal);

    public static int Position(string needle, string haystack) => haystack.IndexOf(needle, StringComparison.Ordinal) + 1;

    public static string InitCap(string s)
    {
        var sb = new StringBuilder(s.Length);
        var start = true;
        foreach (var c in s)
        {
            sb.Append(start ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            start = !char.IsLetterOrDigit(c);
        }

        return sb.ToString();
    }

    public static string Lpad(string s, int len, string pad)
    {
        if (len <= s.Length)
        {
            return s[..Math.Max(0, len)];
        }

        if (pad.Length == 0)
        {
            return s;
        }

        var sb = new StringBuilder(len);
        while (sb.Length < len - s.Length)
        {
            sb.Append(pad);
        }

        sb.Length = len - s.Length;
        return sb.Append(s).ToString();
    }

    public static string Rpad(string s, int len, string pad)
    {
        if (len <= s.Length)
        {
            return s[..Math.Max(0, len)];
        }

        if (pad.Length == 0)
        {
            return s;
        }

        var sb = new StringBuilder(len).Append(s);
        while (sb.Length < len)
        {
            sb.Append(pad);
        }

        sb.Length = len;
        return sb.ToString();
    }

    public static string Reverse(string s)
    {
        var a = s.ToCharArray();
        Array.Reverse(a);
        return new string(a);
    }

    public static string? RegexpExtract(string s, Regex regex, int group)
    {
        var m = regex.Match(s);
        return m.Success && group <= m.Groups.Count - 1 ? m.Groups[group].Value : null;
    }

    public static string RegexpReplace(string s, Regex regex, string replacement) => regex.Replace(s, replacement.Replace("$", "$$", StringComparison.Ordinal));

    public static bool RegexpMatches(string s, Regex regex) => regex.IsMatch(s);

    /// <summary>Flink SPLIT_INDEX: the 0-based piece of <paramref name="s"/> split by <paramref name="sep"/>, or NULL.</summary>
    public static string? SplitIndex(string s, string sep, int index)
    {
        if (index < 0 || sep.Length == 0)
        {
            return null;
        }

        var parts = s.Split(sep);
        return index < parts.Length ? parts[index] : null;
    }

    public static bool Like(string s, Regex regex) => regex.IsMatch(s);

    /// <summary>Turns a LIKE pattern (% and _) into an anchored regex.</summary>
    public static Regex LikeRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(Regex.Escape(pattern[++i].ToString()));
            }
            else if (c == '%')
            {
                sb.Append(".*");
            }
            else if (c == '_')
            {
                sb.Append('.');
            }
            else
            {
                sb.Append(Regex.Escape(c.ToString()));
            }
        }

        return new Regex(sb.Append('$').ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }

    public static double RoundDouble(double x, int digits)
    {
        if (digits >= 0)
        {
            return Math.Round(x, Math.Min(digits, 15), MidpointRounding.AwayFromZero);
        }

        var f = Math.Pow(10, -digits);
        return Math.Round(x / f, MidpointRounding.AwayFromZero) * f;
    }

    public static decimal RoundDecimal(decimal x, int digits) =>
        digits >= 0 ? Math.Round(x, Math.Min(digits, 28), MidpointRounding.AwayFromZero) : Math.Round(x / Pow10(-digits), MidpointRounding.AwayFromZero) * Pow10(-digits);

    public static long RoundLong(long x, int digits)
    {
        if (digits >= 0)
        {
            return x;
        }

        var f = (long)Pow10(-digits);
        return (long)Math.Round((decimal)x / f, MidpointRounding.AwayFromZero) * f;
    }

    private static decimal Pow10(int n)
    {
        decimal r = 1;
        for (var i = 0; i < n && i < 28; i++)
        {
            r *= 10;
        }

        return r;
    }

    public static int ModInt(int a, int b) => b == 0 ? 0 : a % b;

    public static long ModLong(long a, long b) => b == 0 ? 0 : a % b;

    public static int DivInt(int a, int b) => b == 0 ? 0 : (b == -1 ? unchecked(-a) : a / b);

    public static long DivLong(long a, long b) => b == 0 ? 0 : (b == -1 ? unchecked(-a) : a / b);

    public static decimal DivDecimal(decimal a, decimal b) => b == 0 ? 0 : a / b;

    // ----------------------------------------------------------------- time

    public static DateTime ToDateTime(long ms) => DateTime.UnixEpoch.AddTicks(ms * TimeSpan.TicksPerMillisecond);

    public static long Extract(string unit, long ms)
    {
        var dt = ToDateTime(ms);
        return unit switch
        {
            "YEAR" => dt.Year,
            "QUARTER" => (dt.Month + 2) / 3,
            "MONTH" => dt.Month,
            "WEEK" => ISOWeek.GetWeekOfYear(dt),
            "DAY" or "DAYOFMONTH" => dt.Day,
            "DOW" or "DAYOFWEEK" => (int)dt.DayOfWeek + (unit == "DAYOFWEEK" ? 1 : 0),
            "DOY" or "DAYOFYEAR" => dt.DayOfYear,
            "HOUR" => dt.Hour,
            "MINUTE" => dt.Minute,
            "SECOND" => dt.Second,
            "MILLISECOND" => (dt.Second * 1000) + dt.Millisecond,
            "EPOCH" => ms / 1000,
            _ => 0,
        };
    }

    /// <summary>Floors a timestamp to a unit (FLOOR(ts TO HOUR), DATE_TRUNC).</summary>
    public static long Truncate(string unit, long ms)
    {
        var dt = ToDateTime(ms);
        DateTime r = unit switch
        {
            "YEAR" => new DateTime(dt.Year, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            "MONTH" => new DateTime(dt.Year, dt.Month, 1, 0, 0, 0, DateTimeKind.Utc),
            "DAY" => dt.Date,
            "HOUR" => new DateTime(dt.Year, dt.Month, dt.Day, dt.Hour, 0, 0, DateTimeKind.Utc),
            "MINUTE" => new DateTime(dt.Year, dt.Month, dt.Day, dt.Hour, dt.Minute, 0, DateTimeKind.Utc),
            "SECOND" => new DateTime(dt.Year, dt.Month, dt.Day, dt.Hour, dt.Minute, dt.Second, DateTimeKind.Utc),
            _ => dt,
        };
        return (r.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
    }

    /// <summary>Converts a Java-style date pattern (Flink DATE_FORMAT) into a .NET custom format.</summary>
    public static string JavaToNetFormat(string pattern)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            var run = 1;
            while (i + run < pattern.Length && pattern[i + run] == c)
            {
                run++;
            }

            switch (c)
            {
                case 'y': sb.Append(run == 2 ? "yy" : "yyyy"); break;
                case 'M': sb.Append('M', Math.Min(run, 4)); break;
                case 'd': sb.Append('d', Math.Min(run, 2)); break;
                case 'H': sb.Append('H', Math.Min(run, 2)); break;
                case 'h': sb.Append('h', Math.Min(run, 2)); break;
                case 'm': sb.Append('m', Math.Min(run, 2)); break;
                case 's': sb.Append('s', Math.Min(run, 2)); break;
                case 'S': sb.Append('f', Math.Min(run, 7)); break;
                case 'a': sb.Append("tt"); break;
                case 'E': sb.Append(run >= 4 ? "dddd" : "ddd"); break;
                case '\'':
                    var end = pattern.IndexOf('\'', i + 1);
                    end = end < 0 ? pattern.Length : end;
                    sb.Append('"').Append(pattern, i + 1, end - i - 1).Append('"');
                    run = end - i + 1;
                    break;
                default:
                    if (char.IsLetter(c))
                    {
                        sb.Append(c, run);
                    }
                    else
                    {
                        for (var k = 0; k < run; k++)
                        {
                            sb.Append('\\').Append(c);
                        }
                    }

                    break;
            }

            i += run;
        }

        return sb.ToString();
    }

    public static string DateFormat(long ms, string netFormat) => ToDateTime(ms).ToString(netFormat, CultureInfo.InvariantCulture);

    public static string FormatTimestamp(long ms) => ToDateTime(ms).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    public static bool TryParseTimestamp(string s, out long ms)
    {
        s = s.Trim();
        if (DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt))
        {
            ms = (dt.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
            return true;
        }

        ms = 0;
        return false;
    }

    public static long? ParseTimestamp(string s) => TryParseTimestamp(s, out var ms) ? ms : null;

    public static long? ParseTimestampWithFormat(string s, string netFormat) =>
        DateTime.TryParseExact(s.Trim(), netFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt)
            ? (dt.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond
            : null;

    /// <summary>The start of the tumbling window of <paramref name="size"/> that contains <paramref name="ts"/> (floor, also for negative times).</summary>
    public static long WindowStart(long ts, long size) => ts - (((ts % size) + size) % size);

    public static long NowMillis() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    // ----------------------------------------------------------------- casts

    public static string FormatDouble(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }

        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.', StringComparison.Ordinal) || s.Contains('E', StringComparison.Ordinal) ? s : s + ".0";
    }

    public static string FormatDecimal(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    public static string FormatBool(bool b) => b ? "TRUE" : "FALSE";

    public static int? ParseInt(string s) => int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    public static long? ParseLong(string s) => long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    public static double? ParseDouble(string s) => double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    public static decimal? ParseDecimal(string s) => decimal.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    public static bool? ParseBool(string s) => s.Trim().ToUpperInvariant() switch
    {
        "TRUE" or "T" or "1" or "YES" => true,
        "FALSE" or "F" or "0" or "NO" => false,
        _ => null,
    };

    public static int CompareStrings(string? a, string? b) => string.CompareOrdinal(a, b);
}

/// <summary>A value cannot be computed (e.g. a negative SUBSTRING length); the row goes to the dead-letter output.</summary>
public sealed class SqlRuntimeException(string message) : Exception(message);
