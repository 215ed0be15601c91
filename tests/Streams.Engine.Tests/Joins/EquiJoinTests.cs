using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.EquiJoin;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Tests.Joins;

public class EquiJoinTests
{
    private static readonly Schema LeftSchema = new([new Field("k", DataType.Int64), new Field("id", DataType.Int64), new Field("name", DataType.String)]);
    private static readonly Schema RightSchema = new([new Field("v", DataType.Double, Nullable: false), new Field("k", DataType.Int64)]);

    [Theory]
    [InlineData(11, JoinType.Inner)]
    [InlineData(12, JoinType.Left)]
    [InlineData(13, JoinType.Inner)]
    [InlineData(14, JoinType.Left)]
    [InlineData(15, JoinType.Left, true)]
    public void Random_changelogs_materialize_to_the_nested_loop_join(int seed, JoinType type, bool restoreMidway = false)
    {
        var rng = new Random(seed);
        var pool = new BatchPool();
        var op = new EquiJoinOperator(LeftSchema, RightSchema, [0], [1], type, outputBatchCapacity: 32);
        var output = new CollectingOutput();
        var left = new List<object?[]>();
        var right = new List<object?[]>();
        long? Key() => rng.Next(12) == 0 ? null : rng.Next(15);

        for (var round = 0; round < 150; round++)
        {
            var side = rng.Next(2) == 0 ? JoinSide.Left : JoinSide.Right;
            var live = side == JoinSide.Left ? left : right;
            var rows = new List<object?[]>();
            var kinds = new List<RowKind>();
            var ops = 1 + rng.Next(12);
            for (var o = 0; o < ops; o++)
            {
                var dice = rng.Next(10);
                if (live.Count == 0 || dice < 5)
                {
                    object?[] row = dice == 0 && live.Count > 0
                        ? (object?[])live[rng.Next(live.Count)].Clone()   // an exact duplicate
                        : side == JoinSide.Left ? [Key(), (long)rng.Next(1000), "n" + rng.Next(5)] : [rng.Next(100) / 4.0, Key()];
                    live.Add(row);
                    rows.Add(row);
                    kinds.Add(RowKind.Insert);
                }
                else if (dice < 8)
                {
                    var at = rng.Next(live.Count);
                    var old = live[at];
                    object?[] updated = side == JoinSide.Left
                        ? [rng.Next(3) == 0 ? Key() : old[0], (long)rng.Next(1000), old[2]]
                        : [rng.Next(100) / 4.0, rng.Next(3) == 0 ? Key() : old[1]];
                    live[at] = updated;
                    rows.Add(old);
                    kinds.Add(RowKind.UpdateBefore);
                    rows.Add(updated);
                    kinds.Add(RowKind.UpdateAfter);
                }
                else
                {
                    var at = rng.Next(live.Count);
                    rows.Add(live[at]);
                    kinds.Add(RowKind.Delete);
                    live.RemoveAt(at);
                }
            }

            op.OnBatch(side, Batches.Of(pool, side == JoinSide.Left ? LeftSchema : RightSchema, rows, kinds), output);
            if (restoreMidway && round == 75)
            {
                var held = op.StateRowCount;
                op = Checkpointing.RoundTrip(op, () => new EquiJoinOperator(LeftSchema, RightSchema, [0], [1], type, outputBatchCapacity: 32));
                Assert.Equal(held, op.StateRowCount);
            }

            if (round % 10 == 9)
            {
                Assert.Equal(Reference(left, right, type), output.Materialize());
            }
        }

        Assert.Equal(Reference(left, right, type), output.Materialize());
        Assert.Contains(output.Rows, r => r.Kind == RowKind.Delete);
        Assert.True(output.Materialize().Count > 20, "the data should produce a meaningful join");

        // Deleting everything empties the result and the state.
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, left, left.Select(_ => RowKind.Delete).ToList(), capacity: Math.Max(16, left.Count)), output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, right, right.Select(_ => RowKind.Delete).ToList(), capacity: Math.Max(16, right.Count)), output);
        Assert.Empty(output.Materialize());
        Assert.Equal(0, op.StateRowCount);
        Assert.Equal(0, op.StateKeyCount);
        Assert.Empty(output.Errors);
        Assert.Equal(0, pool.Outstanding);
    }

    private static List<string> Reference(List<object?[]> left, List<object?[]> right, JoinType type)
    {
        var result = new List<string>();
        foreach (var l in left)
        {
            var matched = false;
            foreach (var r in right)
            {
                if (l[0] is long lk && r[1] is long rk && lk == rk)
                {
                    result.Add(Batches.Text(l[0], l[1], l[2], r[0], r[1]));
                    matched = true;
                }
            }

            if (!matched && type == JoinType.Left)
            {
                result.Add(Batches.Text(l[0], l[1], l[2], null, null));
            }
        }

        return CollectingOutput.Sorted(result);
    }

    [Fact]
    public void Left_join_changelog_replaces_the_padded_row_when_a_partner_arrives_and_restores_it_when_it_leaves()
    {
        var pool = new BatchPool();
        var op = new EquiJoinOperator(LeftSchema, RightSchema, [0], [1], JoinType.Left);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[1L, 10L, "a"]]), output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, [[2.5, 1L], [3.5, 1L]]), output);
        op.OnBatch(JoinSide.Right, Batches.Of(pool, RightSchema, [[2.5, 1L], [3.5, 1L]], [RowKind.Delete, RowKind.UpdateBefore]), output);
        var log = output.Rows.Select(r => $"{r.Kind}:{r.Text}").ToList();
        Assert.Equal(
        [
            "Insert:1|10|a|NULL|NULL",
            "Delete:1|10|a|NULL|NULL",
            "Insert:1|10|a|2.5|1",
            "Insert:1|10|a|3.5|1",
            "Delete:1|10|a|2.5|1",
            "Delete:1|10|a|3.5|1",
            "Insert:1|10|a|NULL|NULL",
        ], log);
        Assert.True(output.LastSchema!.Fields.Skip(3).All(f => f.Nullable), "right columns of a LEFT join are nullable");
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Retracting_an_unknown_row_goes_to_the_error_output_and_changes_nothing()
    {
        var pool = new BatchPool();
        var op = new EquiJoinOperator(LeftSchema, RightSchema, [0], [1]);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[1L, 10L, "a"]]), output);
        op.OnBatch(JoinSide.Left, Batches.Of(pool, LeftSchema, [[1L, 11L, "a"], [2L, 10L, "a"]], [RowKind.Delete, RowKind.Delete]), output);
        Assert.Equal(2, output.Errors.Count);
        Assert.Equal(2, op.UnmatchedRetractions);
        Assert.Equal(1, op.StateRowCount);
        ((ITwoInputOperator)op).OnWatermark(42, output);
        Assert.Equal([42L], output.Watermarks);
        Assert.Equal(0, pool.Outstanding);
    }
}
