using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Query.Execution;

namespace Streams.Query.Tests.Execution;

/// <summary>ReplicateRows (INTERSECT / EXCEPT ALL): each row as many times as its count, keeping its row kind, across batch boundaries.</summary>
public class ReplicateRowsOperatorTests
{
    private static readonly Schema Input = new([new Field("k", DataType.String), new Field("times", DataType.Int64)]);
    private static readonly Schema Output = new([new Field("k", DataType.String)]);

    private sealed class Rows : IOperatorOutput
    {
        public List<string> Lines { get; } = [];

        public int Batches { get; private set; }

        public void Emit(ColumnBatch batch)
        {
            Batches++;
            Assert.Single(batch.Columns);
            for (var i = 0; i < batch.Count; i++)
            {
                Lines.Add(batch.KindOf(i) + " " + (batch.Columns[0].GetBoxed(i) ?? "NULL"));
            }

            batch.Dispose();
        }

        public void EmitWatermark(long watermark)
        {
        }

        public void EmitBarrier(CheckpointBarrier barrier)
        {
        }

        public void EmitError(ColumnBatch batch, int row, string reason) => throw new InvalidOperationException(reason);
    }

    [Fact]
    public void Rows_come_out_count_times_with_their_kind_and_filtered_or_empty_counts_write_nothing()
    {
        var pool = new BatchPool();
        var batch = pool.Rent(Input, 8);
        (string? Key, long? Times, RowKind Kind)[] rows =
        [
            ("a", 2, RowKind.Insert), ("b", 0, RowKind.Insert), ("c", null, RowKind.Insert), ("d", 3, RowKind.UpdateBefore),
            ("e", 1, RowKind.UpdateAfter), (null, 2, RowKind.Delete), ("gone", 5, RowKind.Insert), ("f", -1, RowKind.Insert),
        ];
        for (var i = 0; i < rows.Length; i++)
        {
            batch.Columns[0].SetBoxed(i, rows[i].Key);
            batch.Columns[1].SetBoxed(i, rows[i].Times);
            batch.SetKind(i, rows[i].Kind);
        }

        batch.Count = rows.Length;
        batch.FilterOut(6);
        var output = new Rows();
        new ReplicateRowsOperator(Output).OnBatch(batch, output);

        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(["Insert a", "Insert a", "UpdateBefore d", "UpdateBefore d", "UpdateBefore d", "UpdateAfter e", "Delete NULL", "Delete NULL"], output.Lines);
    }

    [Fact]
    public void More_copies_than_a_batch_holds_continue_in_new_batches()
    {
        var pool = new BatchPool();
        var batch = pool.Rent(Input, 4);
        batch.Columns[0].SetBoxed(0, "x");
        batch.Columns[1].SetBoxed(0, 20_000L);
        batch.Count = 1;
        var output = new Rows();
        new ReplicateRowsOperator(Output).OnBatch(batch, output);

        Assert.Equal(20_000, output.Lines.Count);
        Assert.All(output.Lines, l => Assert.Equal("Insert x", l));
        Assert.Equal(3, output.Batches);
        Assert.Equal(0, pool.Outstanding);
    }
}
