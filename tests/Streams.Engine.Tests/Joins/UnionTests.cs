using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Union;

namespace Streams.Engine.Tests.Joins;

public class UnionTests
{
    private static readonly Schema A = new([new Field("k", DataType.Int64), new Field("ts", DataType.Timestamp)], 1);
    private static readonly Schema B = new([new Field("key", DataType.Int64), new Field("time", DataType.Timestamp)], 1);

    [Fact]
    public void N_ary_union_keeps_every_row_and_emits_the_minimum_watermark()
    {
        var pool = new BatchPool();
        var union = new UnionOperator(A, B, A);
        var output = new CollectingOutput();
        var rng = new Random(5);
        var expected = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var input = rng.Next(3);
            var rows = Enumerable.Range(0, rng.Next(1, 5)).Select(j => new object?[] { (long)(i * 10 + j), (long)i }).ToList();
            expected.AddRange(rows.Select(r => Batches.Text(r)));
            union.OnInputBatch(input, Batches.Of(pool, input == 1 ? B : A, rows), output);
        }

        Assert.Equal(CollectingOutput.Sorted(expected), CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));

        union.OnInputWatermark(0, 100, output);
        union.OnInputWatermark(1, 50, output);
        Assert.Empty(output.Watermarks);            // input 2 has not reported yet
        union.OnInputWatermark(2, 70, output);
        Assert.Equal([50L], output.Watermarks);
        union.OnInputWatermark(1, 200, output);
        Assert.Equal([50L, 70L], output.Watermarks);
        union.OnInputWatermark(1, 150, output);      // an input going back changes nothing
        union.OnInputEnd(2, output);
        Assert.Equal([50L, 70L, 100L], output.Watermarks);
        union.OnInputEnd(0, output);
        union.OnInputEnd(1, output);
        Assert.True(union.AllEnded);
        Assert.Equal([50L, 70L, 100L, 200L, long.MaxValue], output.Watermarks);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Barriers_are_forwarded_once_every_input_delivered_them()
    {
        var union = new UnionOperator(A, B);
        var output = new CollectingOutput();
        var barrier = new CheckpointBarrier(3, 1000);
        Assert.False(union.OnInputBarrier(0, barrier, output));
        Assert.Empty(output.Barriers);
        Assert.True(union.OnInputBarrier(1, barrier, output));
        Assert.Equal([barrier], output.Barriers);
    }

    [Fact]
    public void Two_input_use_forwards_batches_and_rising_watermarks_and_refuses_other_types()
    {
        var pool = new BatchPool();
        ITwoInputOperator union = new UnionOperator(A, B);
        var output = new CollectingOutput();
        union.OnBatch(JoinSide.Left, Batches.Of(pool, A, [[1L, 1L]]), output);
        union.OnBatch(JoinSide.Right, Batches.Of(pool, B, [[2L, 2L]]), output);
        union.OnWatermark(10, output);
        union.OnWatermark(10, output);
        union.OnWatermark(20, output);
        Assert.Equal(2, output.Rows.Count);
        Assert.Equal([10L, 20L], output.Watermarks);

        var other = new Schema([new Field("s", DataType.String)]);
        var ex = Assert.Throws<ArgumentException>(() => union.OnBatch(JoinSide.Right, Batches.Of(pool, other, [["x"]]), output));
        Assert.Contains("union input 1", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new UnionOperator(A, other));
        Assert.Equal(0, pool.Outstanding);
    }
}
