using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.IntervalJoin;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Tests.Joins;

public class IntervalJoinTests
{
    private static readonly Schema LeftSchema = new([new Field("k", DataType.Int64), new Field("ts", DataType.Timestamp), new Field("id", DataType.Int64)], 1);
    private static readonly Schema RightSchema = new([new Field("k", DataType.Int64), new Field("ts", DataType.Timestamp), new Field("v", DataType.String)], 1);

    private sealed record Event(JoinSide Side, long? Key, long Ts, long Base, int Id);

    [Theory]
    [InlineData(1, JoinType.Inner, -5000L, 0L)]
    [InlineData(2, JoinType.Left, -5000L, 0L)]
    [InlineData(3, JoinType.Inner, -300L, 700L)]
    [InlineData(4, JoinType.Left, 200L, 900L)]
    [InlineData(5, JoinType.Left, 0L, 0L)]
    [InlineData(6, JoinType.Left, -2000L, 500L, true)]
    [InlineData(7, JoinType.Left, -900L, -200L)]
    public void Random_streams_give_the_nested_loop_result_and_free_state(int seed, JoinType type, long lower, long upper, bool restoreMidway = false)
    {
        var rng = new Random(seed);
        var pool = new BatchPool();
        var events = new List<Event>();
        const int step = 7;
        const int disorder = 1500;
        for (var i = 0; i < 3000; i++)
        {
            var b = (long)i * step;
            long? key = rng.Next(20) == 0 ? null : rng.Next(40);
            events.Add(new Event(rng.Next(2) == 0 ? JoinSide.Left : JoinSide.Right, key, b + rng.Next(disorder), b, i));
        }

        var op = new IntervalJoinOperator(LeftSchema, RightSchema, [0], [0], lower, upper, type, outputBatchCapacity: 64);
        var output = new CollectingOutput();
        var maxState = 0;
        var at = 0;
        while (at < events.Count)
        {
            var chunk = events.Skip(at).Take(1 + rng.Next(60)).ToList();
            at += chunk.Count;
            foreach (var side in new[] { JoinSide.Left, JoinSide.Right })
            {
                var rows = chunk.Where(e => e.Side == side).Select(e => side == JoinSide.Left
                    ? new object?[] { e.Key, e.Ts, (long)e.Id }
                    : new object?[] { e.Key, e.Ts, "r" + e.Id }).ToList();
                if (rows.Count > 0)
                {
                    op.OnBatch(side, Batches.Of(pool, side == JoinSide.Left ? LeftSchema : RightSchema, rows), output);
                }
            }

            op.OnWatermark(chunk[^1].Base, output);
            maxState = Math.Max(maxState, op.StateRowCount);
            if (restoreMidway && at >= events.Count / 2 && at - chunk.Count < events.Count / 2)
            {
                var rows = op.StateRowCount;
                Assert.True(rows > 10);
                op = Checkpointing.RoundTrip(op, () => new IntervalJoinOperator(LeftSchema, RightSchema, [0], [0], lower, upper, type, outputBatchCapacity: 64));
                Assert.Equal(rows, op.StateRowCount);
            }
        }

        op.OnWatermark(long.MaxValue, output);
        op.OnEndOfInput(output);

        var expected = new List<string>();
        var lefts = events.Where(e => e.Side == JoinSide.Left).ToList();
        var rights = events.Where(e => e.Side == JoinSide.Right).ToList();
        foreach (var l in lefts)
        {
            var matched = false;
            foreach (var r in rights)
            {
                if (l.Key is not null && l.Key == r.Key && r.Ts >= l.Ts + lower && r.Ts <= l.Ts + upper)
                {
                    expected.Add(Batches.Text(l.Key, l.Ts, (long)l.Id, r.Key, r.Ts, "r" + r.Id));
                    matched = true;
                }
            }

            if (!matched && type == JoinType.Left)
            {
                expected.Add(Batches.Text(l.Key, l.Ts, (long)l.Id, null, null, null));
            }
        }

        Assert.Equal(CollectingOutput.Sorted(expected), CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));
        Assert.All(output.Rows, r => Assert.Equal(RowKind.Insert, r.Kind));
        Assert.True(expected.Count > 100, "the data should produce a meaningful number of matches");

        // No joined row is late: its event time (left ts) is above every watermark emitted before it.
        for (var i = 0; i < output.Rows.Count; i++)
        {
            Assert.True((long)output.Rows[i].Values[1]! > output.WatermarkBeforeRow[i], $"row {output.Rows[i].Text} emitted after watermark {output.WatermarkBeforeRow[i]}");
        }

        Assert.Equal(long.MaxValue, output.Watermarks[^1]);
        Assert.True(output.Watermarks.SequenceEqual(output.Watermarks.Order()), "watermarks must not go back");

        // The watermark freed everything, and while running only a window of rows was held.
        Assert.Equal(0, op.StateRowCount);
        Assert.Equal(0, op.StateKeyCount);
        Assert.True(maxState < 1000, $"state held {maxState} of 3000 rows; the watermark should keep it to the interval plus disorder");
        Assert.Empty(output.Errors);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Sql_between_bounds_are_inclusive_and_null_keys_never_match()
    {
        var pool = new BatchPool();
        var op = new IntervalJoinOperator(LeftSchema, RightSchema, [0], [0], -5000, 0, JoinType.Left);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, [[1L, 5000L, "at-lower"], [1L, 10_000L, "at-upper"], [1L, 4999L, "too-early"], [1L, 10_001L, "too-late"], [null, 10_000L, "null-key"]]), output);
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[1L, 10_000L, 1L], [null, 10_000L, 2L]]), output);

        // The NULL-key left row can never match, so a LEFT join pads it at once; the other waits for its interval to close.
        Assert.Equal(
            CollectingOutput.Sorted([Batches.Text(1L, 10_000L, 1L, 1L, 5000L, "at-lower"), Batches.Text(1L, 10_000L, 1L, 1L, 10_000L, "at-upper"), Batches.Text(null, 10_000L, 2L, null, null, null)]),
            CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));
        op.OnWatermark(long.MaxValue, output);
        Assert.Equal(3, output.Rows.Count);
        Assert.Equal(0, op.StateRowCount);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Left_row_without_partner_is_padded_exactly_when_the_watermark_passes_its_bound()
    {
        var pool = new BatchPool();
        var op = new IntervalJoinOperator(LeftSchema, RightSchema, [0], [0], -1000, 2000, JoinType.Left);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[7L, 10_000L, 1L]]), output);
        op.OnWatermark(11_999, output);
        Assert.Empty(output.Rows);
        op.OnWatermark(12_000, output);
        Assert.Equal([Batches.Text(7L, 10_000L, 1L, null, null, null)], output.Rows.Select(r => r.Text));
        Assert.Equal(0, op.StateRowCount);

        // A left row that already matched is not padded later.
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[8L, 20_000L, 2L]]), output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, [[8L, 21_000L, "x"]]), output);
        op.OnWatermark(long.MaxValue, output);
        Assert.Equal(2, output.Rows.Count);
        Assert.Equal(Batches.Text(8L, 20_000L, 2L, 8L, 21_000L, "x"), output.Rows[1].Text);

        // Output watermark is held back by the interval so joined rows are not late.
        Assert.Equal([11_999 - 2000, 12_000 - 2000, long.MaxValue], output.Watermarks);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Multi_column_string_keys_compare_every_column()
    {
        var left = new Schema([new Field("a", DataType.String), new Field("b", DataType.Int32), new Field("ts", DataType.Timestamp)], 2);
        var right = new Schema([new Field("ts", DataType.Timestamp), new Field("b", DataType.Int32), new Field("a", DataType.String)], 0);
        var pool = new BatchPool();
        var op = new IntervalJoinOperator(left, right, [0, 1], [2, 1], -10, 10);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Left, Batches.Of(pool, left, [["x", 1, 100L], ["x", 2, 100L], ["y", 1, 100L], [null, 1, 100L]]), output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, right, [[105L, 1, "x"], [105L, 2, "y"], [105L, 1, null]]), output);
        Assert.Equal([Batches.Text("x", 1, 100L, 105L, 1, "x")], output.Rows.Select(r => r.Text));
        Assert.Equal(6, output.LastSchema!.Count);
        Assert.Equal(2, output.LastSchema.EventTimeIndex);
        op.OnWatermark(long.MaxValue, output);
        Assert.Equal(0, op.StateKeyCount);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Retractions_and_null_times_go_to_the_error_output()
    {
        var pool = new BatchPool();
        var op = new IntervalJoinOperator(LeftSchema, RightSchema, [0], [0], -10, 10);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[1L, 5L, 1L], [1L, null, 2L]], [RowKind.Delete, RowKind.Insert]), output);
        Assert.Equal(2, output.Errors.Count);
        Assert.Contains("append-only", output.Errors[0], StringComparison.Ordinal);
        Assert.Contains("NULL", output.Errors[1], StringComparison.Ordinal);
        Assert.Equal(0, op.StateRowCount);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Mismatched_key_types_are_rejected_with_the_column_names()
    {
        var ex = Assert.Throws<ArgumentException>(() => new IntervalJoinOperator(LeftSchema, RightSchema, [0], [2], 0, 1));
        Assert.Contains("k BIGINT", ex.Message, StringComparison.Ordinal);
        Assert.Contains("v VARCHAR", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_is_refused_by_a_different_join_or_schema()
    {
        var pool = new BatchPool();
        var op = new IntervalJoinOperator(LeftSchema, RightSchema, [0], [0], -10, 10);
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[1L, 5L, 1L]]), new CollectingOutput());
        var wrongKind = Assert.Throws<InvalidDataException>(() => Checkpointing.RoundTrip<Streams.Engine.State.ICheckpointableOperator>(op,
            () => new Streams.Engine.Operators.EquiJoin.EquiJoinOperator(LeftSchema, RightSchema, [0], [0])));
        Assert.Contains("interval-join/1", wrongKind.Message, StringComparison.Ordinal);
        var otherRight = new Schema([new Field("k", DataType.Int64), new Field("ts", DataType.Timestamp), new Field("w", DataType.Double)], 1);
        var wrongSchema = Assert.Throws<InvalidDataException>(() => Checkpointing.RoundTrip<Streams.Engine.State.ICheckpointableOperator>(op,
            () => new IntervalJoinOperator(LeftSchema, otherRight, [0], [0], -10, 10)));
        Assert.Contains("w DOUBLE", wrongSchema.Message, StringComparison.Ordinal);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Double_and_decimal_keys_match_by_value_not_by_representation()
    {
        var left = new Schema([new Field("d", DataType.Double), new Field("m", DataType.Decimal), new Field("ts", DataType.Timestamp)], 2);
        var pool = new BatchPool();
        var op = new IntervalJoinOperator(left, left, [0, 1], [0, 1], 0, 0);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Left, Batches.Of(pool, left, [[0.0, 1.0m, 1L], [2.5, 3m, 1L]]), output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, left, [[-0.0, 1.00m, 1L], [2.5, 3.000m, 1L], [2.5, 3.001m, 1L]]), output);
        Assert.Equal(2, output.Rows.Count);
        Assert.Equal(0, pool.Outstanding);
    }
}
