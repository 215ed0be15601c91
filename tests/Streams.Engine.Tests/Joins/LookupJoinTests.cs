using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Joins;
using Streams.Engine.Operators.LookupJoin;

namespace Streams.Engine.Tests.Joins;

public class LookupJoinTests
{
    private static readonly Schema Orders = new([new Field("id", DataType.Int64), new Field("currency", DataType.String), new Field("ts", DataType.Timestamp)], 2);
    private static readonly Schema Rates = new([new Field("currency", DataType.String), new Field("rate", DataType.Decimal)]);

    [Theory]
    [InlineData(21, JoinType.Inner)]
    [InlineData(22, JoinType.Left)]
    [InlineData(23, JoinType.Left, true)]
    public void Each_stream_row_sees_the_latest_table_row_of_its_key_at_arrival(int seed, JoinType type, bool restoreMidway = false)
    {
        var rng = new Random(seed);
        var pool = new BatchPool();
        var op = new LookupJoinOperator(Orders, Rates, [1], [0], type, outputBatchCapacity: 16);
        var output = new CollectingOutput();
        var table = new Dictionary<string, decimal>();
        var expected = new List<string>();
        string? Currency() => rng.Next(15) == 0 ? null : "C" + rng.Next(12);
        long id = 0;
        for (var round = 0; round < 200; round++)
        {
            if (restoreMidway && round == 100)
            {
                op = Checkpointing.RoundTrip(op, () => new LookupJoinOperator(Orders, Rates, [1], [0], type, outputBatchCapacity: 16));
                Assert.Equal(table.Count, op.StateRowCount);
            }

            if (rng.Next(3) == 0)
            {
                var rows = new List<object?[]>();
                var kinds = new List<RowKind>();
                for (var o = rng.Next(1, 8); o > 0; o--)
                {
                    var c = "C" + rng.Next(12);
                    var dice = rng.Next(6);
                    if (dice < 3)
                    {
                        var rate = rng.Next(1000) / 100m;
                        rows.Add([c, rate]);
                        kinds.Add(table.ContainsKey(c) ? RowKind.UpdateAfter : RowKind.Insert);
                        table[c] = rate;
                    }
                    else if (dice < 5 && table.TryGetValue(c, out var old))
                    {
                        // A retract-style update: -U old, +U new.
                        var rate = rng.Next(1000) / 100m;
                        rows.Add([c, old]);
                        kinds.Add(RowKind.UpdateBefore);
                        rows.Add([c, rate]);
                        kinds.Add(RowKind.UpdateAfter);
                        table[c] = rate;
                    }
                    else
                    {
                        // Upsert delete: a key that is absent is a no-op.
                        rows.Add([c, null]);
                        kinds.Add(RowKind.Delete);
                        table.Remove(c);
                    }
                }

                op.OnBatch(JoinSide.Right, Batches.Of(pool, Rates, rows, kinds), output);
            }
            else
            {
                var rows = new List<object?[]>();
                for (var o = rng.Next(1, 20); o > 0; o--)
                {
                    var c = Currency();
                    object?[] row = [id++, c, id * 10];
                    rows.Add(row);
                    if (c is not null && table.TryGetValue(c, out var rate))
                    {
                        expected.Add(Batches.Text(row[0], row[1], row[2], c, rate));
                    }
                    else if (type == JoinType.Left)
                    {
                        expected.Add(Batches.Text(row[0], row[1], row[2], null, null));
                    }
                }

                op.OnBatch(JoinSide.Left, Batches.Of(pool, Orders, rows), output);
            }
        }

        Assert.Equal(expected, output.Rows.Select(r => r.Text));
        Assert.True(expected.Count > 200);
        Assert.Equal(table.Count, op.StateRowCount);
        Assert.Empty(output.Errors);
        Assert.Equal(2, output.LastSchema!.EventTimeIndex);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Stream_row_kinds_pass_through_and_null_table_keys_are_errors()
    {
        var pool = new BatchPool();
        var op = new LookupJoinOperator(Orders, Rates, [1], [0], JoinType.Left);
        var output = new CollectingOutput();
        op.OnBatch(JoinSide.Right, Batches.Of(pool, Rates, [["EUR", 1.1m], [null, 2m]]), output);
        op.OnBatch(JoinSide.Left, Batches.Of(pool, Orders, [[1L, "EUR", 5L], [1L, "EUR", 5L]], [RowKind.Insert, RowKind.Delete]), output);
        Assert.Equal(["Insert:1|EUR|5|EUR|1.1", "Delete:1|EUR|5|EUR|1.1"], output.Rows.Select(r => $"{r.Kind}:{r.Text}"));
        Assert.Single(output.Errors);
        Assert.Contains("NULL primary key", output.Errors[0], StringComparison.Ordinal);
        Assert.Equal(1, op.StateRowCount);
        Assert.Equal(0, pool.Outstanding);
    }
}
