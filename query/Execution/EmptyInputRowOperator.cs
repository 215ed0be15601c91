using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Query.Execution;

/// <summary>
/// Follows a global (no GROUP BY) aggregate: when its result ends up with no row (the input was empty, or every row of an
/// updating input was retracted, so the aggregate deleted its group) it emits the one row a database answers (COUNT = 0,
/// every other aggregate NULL) at end of input. The aggregate runs in every parallel task but only one of them sees
/// rows, so the tasks share a <see cref="Tally"/> and the last one to finish decides.
/// </summary>
internal sealed class EmptyInputRowOperator(Schema schema, IReadOnlyList<object?> row, EmptyInputRowOperator.Tally tally, BatchPool pool) : IOperator
{
    /// <summary>Result rows (inserted minus retracted) and tasks finished, over all parallel instances of one operator.</summary>
    internal sealed class Tally(int tasks)
    {
        private long _rows;
        private int _finished;

        public void Saw(int rows) => Interlocked.Add(ref _rows, rows);

        /// <summary>True for the last task to finish when the result has no row.</summary>
        public bool FinishAndCheckEmpty() => Interlocked.Increment(ref _finished) == tasks && Interlocked.Read(ref _rows) == 0;
    }

    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        var rows = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch.IsLive(i))
            {
                rows += batch.KindOf(i) is RowKind.Insert or RowKind.UpdateAfter ? 1 : -1;
            }
        }

        tally.Saw(rows);
        output.Emit(batch);
    }

    public void OnEndOfInput(IOperatorOutput output)
    {
        if (!tally.FinishAndCheckEmpty())
        {
            return;
        }

        var batch = pool.Rent(schema);
        for (var c = 0; c < schema.Count; c++)
        {
            batch.Columns[c].SetBoxed(0, row[c]);
        }

        batch.Count = 1;
        output.Emit(batch);
    }
}
