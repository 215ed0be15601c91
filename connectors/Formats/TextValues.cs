using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Streams.Engine.Data;

namespace Streams.Connectors.Formats;

/// <summary>
/// Converts a value written as UTF-8 text (a CSV field, a quoted JSON value) into a typed column cell.
/// Shared by the decoders so every format coerces the same way.
/// </summary>
internal static class TextValues
{
    /// <summary>Stores <paramref name="text"/> into row <paramref name="row"/> of <paramref name="column"/>; returns null or the reason it does not fit.</summary>
    public static string? TryStore(Column column, int row, ReadOnlySpan<byte> text)
    {
        switch (column.Type)
        {
            case DataType.Int64:
                if (long.TryParse(Trim(text), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    ((Column<long>)column).Values[row] = l;
                    break;
                }

                return Misfit(text, column.Type);
            case DataType.Int32:
                if (int.TryParse(Trim(text), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                {
                    ((Column<int>)column).Values[row] = n;
                    break;
                }

                return Misfit(text, column.Type);
            case DataType.Double:
                if (double.TryParse(Trim(text), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                {
                    ((Column<double>)column).Values[row] = d;
                    break;
                }

                return Misfit(text, column.Type);
            case DataType.Decimal:
                if (decimal.TryParse(Trim(text), NumberStyles.Float, CultureInfo.InvariantCulture, out var m))
                {
                    ((Column<decimal>)column).Values[row] = m;
                    break;
                }

                return Misfit(text, column.Type);
            case DataType.Boolean:
                var t = Trim(text);
                if (Ascii.EqualsIgnoreCase(t, "true"u8))
                {
                    ((Column<bool>)column).Values[row] = true;
                    break;
                }

                if (Ascii.EqualsIgnoreCase(t, "false"u8))
                {
                    ((Column<bool>)column).Values[row] = false;
                    break;
                }

                return Misfit(text, column.Type);
            case DataType.Timestamp:
                if (TryTimestamp(Trim(text), out var ts))
                {
                    ((Column<long>)column).Values[row] = ts;
                    break;
                }

                return Misfit(text, column.Type);
            case DataType.String:
                ((Column<string?>)column).Values[row] = Encoding.UTF8.GetString(text);
                break;
            default:
                return $"columns of type {column.Type.SqlName()} cannot be read";
        }

        column.SetNull(row, false);
        return null;
    }

    /// <summary>A timestamp as ISO-8601 text or as an integer count of epoch milliseconds.</summary>
    public static bool TryTimestamp(ReadOnlySpan<byte> text, out long epochMillis) =>
        IsoTimestamp.TryParse(text, out epochMillis) ||
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out epochMillis);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text) => text.Trim(" \t"u8);

    /// <summary>The dead-letter reason for a value that does not convert to <paramref name="type"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static string Misfit(ReadOnlySpan<byte> text, DataType type) =>
        $"value '{Shorten(Encoding.UTF8.GetString(text))}' is not a valid {type.SqlName()}";

    /// <summary>Cuts long values in messages so a reason stays readable.</summary>
    public static string Shorten(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 61), "...");
}
