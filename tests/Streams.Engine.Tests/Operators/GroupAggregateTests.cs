using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.GroupAggregate;

namespace Streams.Engine.Tests.Operators;

public class GroupAggregateTests : PooledBatchTest
{
    private static readonly Schema Orders = new([new Field("customer", DataType.String), new Field("amount", DataType.Int32)]);

    private sealed class Collector : IOperatorOutput
    {
        public List<string> Rows { get; } = [];

        public void Emit(ColumnBatch batch)
        {
            Rows.AddRange(Engine.Runtime.Sinks.CollectingSink.RowsOf(batch).Select(r => r.ToString()));
            batch.Dispose();
        }

        public void EmitWatermark(long watermark)
        {
        }

        public void EmitBarrier(CheckpointBarrier barrier)
        {
        }

        public void EmitError(ColumnBatch batch, int row, string reason) => Rows.Add("error: " + reason);
    }

    private ColumnBatch Batch(params (RowKind Kind, string Customer, int Amount)[] rows)
    {
        var batch = Pool.Rent(Orders, 16);
        for (var i = 0; i < rows.Length; i++)
        {
            batch.Columns[0].SetBoxed(i, rows[i].Customer);
            batch.Columns[1].SetBoxed(i, rows[i].Amount);
            batch.SetKind(i, rows[i].Kind);
        }

        batch.Count = rows.Length;
        return batch;
    }

    [Fact]
    public void Emits_insert_update_and_delete_changes_and_retracts_min_max_exactly()
    {
        var spec = new GroupAggregateSpec([0], [AggregateSpec.CountStar("n"), AggregateSpec.Sum(1, "total"), AggregateSpec.Max(1, "top"), AggregateSpec.Avg(1, "mean")]);
        Assert.Equal(DataType.Int64, spec.OutputSchema(Orders)[2].Type);
        Assert.Equal(DataType.Int32, spec.OutputSchema(Orders)[4].Type);
        var op = new GroupAggregateOperator(Orders, spec, Pool);
        var output = new Collector();

        op.OnBatch(Batch((RowKind.Insert, "ann", 10), (RowKind.Insert, "bob", 5), (RowKind.Insert, "ann", 3)), output);
        Assert.Equal(["+I[ann, 2, 13, 10, 6]", "+I[bob, 1, 5, 5, 5]"], output.Rows);

        output.Rows.Clear();
        op.OnBatch(Batch((RowKind.Delete, "ann", 10), (RowKind.Insert, "bob", 0)), output);
        Assert.Equal(["-U[ann, 2, 13, 10, 6]", "+U[ann, 1, 3, 3, 3]", "-U[bob, 1, 5, 5, 5]", "+U[bob, 2, 5, 5, 2]"], output.Rows);

        output.Rows.Clear();
        op.OnBatch(Batch((RowKind.UpdateBefore, "bob", 5), (RowKind.UpdateAfter, "bob", 5)), output);
        Assert.Empty(output.Rows);

        op.OnBatch(Batch((RowKind.Delete, "ann", 3)), output);
        Assert.Equal(["-D[ann, 1, 3, 3, 3]"], output.Rows);
    }

    [Fact]
    public void Append_only_input_keeps_one_max_per_group_emits_only_changes_and_dead_letters_a_retraction()
    {
        var spec = new GroupAggregateSpec([0], [AggregateSpec.Max(1, "top"), AggregateSpec.CountStar("n")], AppendOnlyInput: true);
        var op = new GroupAggregateOperator(Orders, spec, Pool);
        var output = new Collector();

        op.OnBatch(Batch((RowKind.Insert, "ann", 10), (RowKind.Insert, "bob", 5)), output);
        op.OnBatch(Batch((RowKind.Insert, "ann", 7)), output);
        Assert.Equal(["+I[ann, 10, 1]", "+I[bob, 5, 1]", "-U[ann, 10, 1]", "+U[ann, 10, 2]"], output.Rows);

        output.Rows.Clear();
        op.OnBatch(Batch((RowKind.Delete, "bob", 5), (RowKind.Insert, "bob", 9)), output);
        Assert.Equal(["error: group aggregate: input must be append-only, got a Delete row", "-U[bob, 5, 1]", "+U[bob, 9, 2]"], output.Rows);
    }

    [Fact]
    public void An_unchanged_group_emits_nothing_and_a_batch_of_more_changes_than_its_capacity_is_split()
    {
        var spec = new GroupAggregateSpec([0], [AggregateSpec.Max(1, "top")], AppendOnlyInput: true);
        var op = new GroupAggregateOperator(Orders, spec, Pool, batchSize: 3);
        var output = new Collector();
        op.OnBatch(Batch((RowKind.Insert, "a", 1), (RowKind.Insert, "b", 1), (RowKind.Insert, "c", 1), (RowKind.Insert, "d", 1)), output);
        output.Rows.Clear();

        // a and c do not change (1 is not above 1), b and d do: -U/+U pairs never straddle two batches.
        op.OnBatch(Batch((RowKind.Insert, "a", 1), (RowKind.Insert, "b", 2), (RowKind.Insert, "c", 0), (RowKind.Insert, "d", 3)), output);
        Assert.Equal(["-U[b, 1]", "+U[b, 2]", "-U[d, 1]", "+U[d, 3]"], output.Rows);
    }
}
