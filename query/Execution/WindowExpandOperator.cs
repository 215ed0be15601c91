using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Query.Planning;

namespace Streams.Query.Execution;

/// <summary>
/// Window TVFs whose windows overlap (HOP, CUMULATE): writes one copy of each row per window it belongs to, with
/// window_start, window_end and window_time (end - 1 ms) appended. HOP(slide, size): the windows starting at multiples of
/// slide that contain the row. CUMULATE(step, size): in the size-aligned window [ws, ws + size), every [ws, ws + k * step)
/// that ends after the row.
/// </summary>
internal sealed class WindowExpandOperator(Schema input, Schema output, WindowDef window) : IOperator, Streams.Engine.State.IStatelessOperator
{
    public void OnBatch(ColumnBatch batch, IOperatorOutput output1)
    {
        var times = (Column<long>)batch.Columns[window.TimeColumn];
        var n = input.Count;
        var result = batch.Pool.Rent(output);
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.IsLive(i) || times.IsNull(i))
            {
                continue;
            }

            var t = times.Values[i];
            if (window.Kind == "HOP")
            {
                var last = t - Mod(t, window.SlideMs);
                for (var start = last - window.SizeMs + window.SlideMs; start <= last; start += window.SlideMs)
                {
                    Append(ref result, batch, i, start, start + window.SizeMs, output1, n);
                }
            }
            else
            {
                var start = t - Mod(t, window.SizeMs);
                for (var end = start + ((((t - start) / window.StepMs) + 1) * window.StepMs); end <= start + window.SizeMs; end += window.StepMs)
                {
                    Append(ref result, batch, i, start, end, output1, n);
                }
            }
        }

        batch.Dispose();
        if (result.Count > 0)
        {
            output1.Emit(result);
        }
        else
        {
            result.Dispose();
        }
    }

    private static long Mod(long t, long m) => ((t % m) + m) % m;

    private void Append(ref ColumnBatch result, ColumnBatch batch, int row, long start, long end, IOperatorOutput output1, int n)
    {
        if (result.IsFull)
        {
            output1.Emit(result);
            result = batch.Pool.Rent(output);
        }

        var o = result.Count;
        for (var c = 0; c < n; c++)
        {
            batch.Columns[c].CopyRowTo(row, result.Columns[c], o);
        }

        Set(result, n, o, start);
        Set(result, n + 1, o, end);
        Set(result, n + 2, o, end - 1);
        result.Count = o + 1;
    }

    private static void Set(ColumnBatch batch, int column, int row, long value)
    {
        var c = (Column<long>)batch.Columns[column];
        c.Values[row] = value;
        c.SetNull(row, false);
    }
}
