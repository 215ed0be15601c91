using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Query.Execution;

/// <summary>
/// Follows a global (no GROUP BY) aggregate: when the whole input was empty it emits the one row a database answers
/// (COUNT = 0, every other aggregate NULL) at end of input. The aggregate runs in every parallel task but only one
/// of them sees rows, so the tasks share a <see cref="Tally"/> and the last one to finish decides.
/// </summary>
internal sealed class EmptyInputRowOperator(Schema schema, IReadOnlyList<object?> row, EmptyInputRowOperator.Tally tally, BatchPool pool) : IOperator
{
    /// <summary>Rows seen and tasks finished, over all parallel instances of one operator.</summary>
    internal sealed class Tally(int tasks)
    {
        private long _rows;
        private int _finished;

        public void Saw(int rows) => Interlocked.Add(ref _rows, rows);

        /// <summary>True for the last task to finish when no task saw a row.</summary>
        public bool FinishAndCheckEmpty() => Interlocked.Increment(ref _finished) == tasks && Interlocked.Read(ref _rows) == 0;
    }

    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        tally.Saw(batch.Count);
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
