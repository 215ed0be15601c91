using Streams.Engine.Data;

namespace Streams.Engine.Operators.Project;

/// <summary>
/// Computes the output columns of <paramref name="output"/> from <paramref name="input"/>, row for row (0..input.Count).
/// It may skip rows that are filtered out in the input; the operator copies the filter bits and row kinds itself.
/// </summary>
/// <param name="input">The batch read from.</param>
/// <param name="output">A batch of the projected schema, same capacity, to write into.</param>
public delegate void BatchProjector(ColumnBatch input, ColumnBatch output);

/// <summary>
/// SELECT list: turns each batch into a batch of the output schema through a compiled projector. If the projector
/// throws, the batch is projected row by row and only the failing rows go to the dead letters.
/// </summary>
public sealed class ProjectOperator(Schema outputSchema, BatchProjector projector) : IOperator, State.IStatelessOperator
{
    /// <summary>The schema of the batches this operator emits.</summary>
    public Schema OutputSchema { get; } = outputSchema;

    /// <inheritdoc />
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        var result = batch.Pool.Rent(OutputSchema, batch.Capacity);
        result.Count = batch.Count;
        var retried = false;
        try
        {
            projector(batch, result);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One bad row must not fail the batch: project row by row and dead-letter only the failures.
            _ = ex;
            SingleRowRetry.Project(batch, result, projector, output);
            retried = true;
        }

        if (batch.HasFiltered && !retried)
        {
            batch.FilteredBits.CopyTo(result.FilteredBits);
            result.MarkFiltered();
        }

        if (batch.HasRowKinds)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                result.SetKind(i, batch.KindOf(i));
            }
        }

        batch.Dispose();
        output.Emit(result);
    }
}
