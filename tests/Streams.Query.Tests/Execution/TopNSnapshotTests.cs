using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.State;
using Streams.Query.Execution;
using Streams.Query.Planning;

namespace Streams.Query.Tests.Execution;

/// <summary>Top-N snapshotted halfway and restored into a fresh operator emits exactly the changelog an uninterrupted one does.</summary>
public class TopNSnapshotTests
{
    private static readonly Schema Input = new([new Field("k", DataType.String), new Field("v", DataType.Int64)]);
    private static readonly Schema Output = new([new Field("k", DataType.String), new Field("v", DataType.Int64), new Field("rn", DataType.Int64)]);

    private sealed class Rows : IOperatorOutput
    {
        public List<string> Lines { get; } = [];

        public void Emit(ColumnBatch batch)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                Lines.Add(batch.KindOf(i) + " " + string.Join("|", batch.Columns.Select(c => c.GetBoxed(i)?.ToString() ?? "NULL")));
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

        public void EmitSide(OutputTag tag, ColumnBatch batch) => batch.Dispose();
    }

    private static List<string> Run(BatchPool pool, int? roundTripAt)
    {
        var node = new TopNNode(null!, [0], [(1, true)], 3, 2, Output);
        var op = new TopNOperator(Input, node, pool);
        var output = new Rows();
        var random = new Random(3);
        for (var b = 0; b < 20; b++)
        {
            if (b == roundTripAt)
            {
                using var stream = new MemoryStream();
                op.Snapshot(new StateSnapshotWriter(stream, Path.GetTempPath()));
                stream.Position = 0;
                op = new TopNOperator(Input, node, pool);
                op.Restore(new StateSnapshotReader(stream, "snap", Path.GetTempPath()));
                Assert.Equal(stream.Length, stream.Position);
            }

            var batch = pool.Rent(Input, 64);
            for (var i = 0; i < 50; i++)
            {
                batch.Columns[0].SetBoxed(i, random.Next(9) == 0 ? null : "k" + random.Next(6));
                batch.Columns[1].SetBoxed(i, (long)random.Next(1000));
            }

            batch.Count = 50;
            op.OnBatch(batch, output);
        }

        op.OnEndOfInput(output);
        return output.Lines;
    }

    [Fact]
    public void Top_n_restored_from_a_snapshot_ranks_what_an_uninterrupted_one_does()
    {
        var pool = new BatchPool();
        var expected = Run(pool, null);

        // Applied in order, the changelog leaves the top 3 of each of the 7 keys (k0..k5 and NULL).
        var final = new List<string>();
        foreach (var line in expected)
        {
            var (kind, row) = (line[..line.IndexOf(' ', StringComparison.Ordinal)], line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
            if (kind is nameof(RowKind.Insert) or nameof(RowKind.UpdateAfter))
            {
                final.Add(row);
            }
            else
            {
                Assert.True(final.Remove(row), $"retracted {row}, which is not in the result");
            }
        }

        Assert.Equal(7 * 3, final.Count);
        Assert.Equal(expected, Run(pool, 9));
        Assert.Equal(expected, Run(pool, 1));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Each_batch_emits_the_changes_to_the_top_rows_it_caused()
    {
        var pool = new BatchPool();
        var node = new TopNNode(null!, [0], [(1, true)], 1, 2, Output);
        var op = new TopNOperator(Input, node, pool);
        var output = new Rows();

        void Feed(params (string K, long V)[] rows)
        {
            var batch = pool.Rent(Input, 8);
            for (var i = 0; i < rows.Length; i++)
            {
                batch.Columns[0].SetBoxed(i, rows[i].K);
                batch.Columns[1].SetBoxed(i, rows[i].V);
            }

            batch.Count = rows.Length;
            op.OnBatch(batch, output);
        }

        Feed(("a", 1), ("b", 2));
        Assert.Equal(["Insert a|1|1", "Insert b|2|1"], output.Lines.Order());
        output.Lines.Clear();
        Feed(("a", 5), ("b", 1));
        Assert.Equal(["UpdateBefore a|1|1", "UpdateAfter a|5|1"], output.Lines);
        output.Lines.Clear();
        op.OnEndOfInput(output);
        Assert.Empty(output.Lines);
        Assert.Equal(0, pool.Outstanding);
    }
}
