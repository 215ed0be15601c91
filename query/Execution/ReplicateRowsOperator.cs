using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Query.Execution;

/// <summary>
/// Copies each live row (and its row kind) as many times as its last column, a BIGINT count, says; the copies leave that
/// column out. A NULL or non-positive count writes nothing.
/// </summary>
internal sealed class ReplicateRowsOperator(Schema output) : IOperator, Streams.Engine.State.IStatelessOperator
{
    public void OnBatch(ColumnBatch batch, IOperatorOutput output1)
    {
        var width = output.Count;
        var times = batch.ColumnAt<long>(width);
        var result = batch.Pool.Rent(output);
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.IsLive(i) || times.IsNull(i))
            {
                continue;
            }

            var kind = batch.KindOf(i);
            for (var copy = 0L; copy < times.Values[i]; copy++)
            {
                if (result.IsFull)
                {
                    output1.Emit(result);
                    result = batch.Pool.Rent(output);
                }

                var o = result.Count;
                for (var c = 0; c < width; c++)
                {
                    batch.Columns[c].CopyRowTo(i, result.Columns[c], o);
                }

                result.SetKind(o, kind);
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
