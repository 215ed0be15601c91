using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Query.Execution;

/// <summary>
/// CUMULATE(step, size) windows: a row at time t in the size-aligned window [ws, ws + size) belongs to every cumulative
/// window [ws, ws + k * step) whose end is after t. This operator writes one copy of the row per such window with that
/// end in an extra column; a tumbling aggregate of <c>size</c> keyed also by the end then computes every cumulative window.
/// </summary>
internal sealed class CumulateExpandOperator(Schema input, Schema output, int timeColumn, long stepMs, long sizeMs) : IOperator
{
    public void OnBatch(ColumnBatch batch, IOperatorOutput output1)
    {
        var times = (Column<long>)batch.Columns[timeColumn];
        var result = batch.Pool.Rent(output);
        var end = (Column<long>)result.Columns[input.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.IsLive(i) || times.IsNull(i))
            {
                continue;
            }

            var t = times.Values[i];
            var start = t - (((t % sizeMs) + sizeMs) % sizeMs);
            for (var e = start + ((((t - start) / stepMs) + 1) * stepMs); e <= start + sizeMs; e += stepMs)
            {
                if (result.IsFull)
                {
                    output1.Emit(result);
                    result = batch.Pool.Rent(output);
                    end = (Column<long>)result.Columns[input.Count];
                }

                var o = result.Count;
                for (var c = 0; c < input.Count; c++)
                {
                    batch.Columns[c].CopyRowTo(i, result.Columns[c], o);
                }

                end.Values[o] = e;
                end.SetNull(o, false);
                result.Count = o + 1;
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
}
