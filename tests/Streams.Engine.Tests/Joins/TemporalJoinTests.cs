using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Joins;
using Streams.Engine.Operators.LookupJoin;

namespace Streams.Engine.Tests.Joins;

public class TemporalJoinTests
{
    private static readonly Schema Orders = new([new Field("id", DataType.Int64), new Field("currency", DataType.String), new Field("ts", DataType.Timestamp)], 2);
    private static readonly Schema Rates = new([new Field("currency", DataType.String), new Field("rate", DataType.Decimal), new Field("ts", DataType.Timestamp)], 2);

    private sealed record Event(JoinSide Side, RowKind Kind, string? Key, long Ts, long Base, int Id, decimal Rate);

    [Theory]
    [InlineData(41, JoinType.Inner, false)]
    [InlineData(42, JoinType.Left, false)]
    [InlineData(43, JoinType.Left, true)]
    public void Each_order_joins_the_rate_valid_at_its_event_time_whatever_the_arrival_order(int seed, JoinType type, bool restoreMidway)
    {
        var rng = new Random(seed);
        var pool = new BatchPool();
        var events = new List<Event>();
        for (var i = 0; i < 3000; i++)
        {
            var b = i * 4L;
            var ts = b + rng.Next(600);
            if (rng.Next(3) == 0)
            {
                var kind = rng.Next(8) switch { 0 => RowKind.Delete, 1 => RowKind.UpdateBefore, 2 or 3 => RowKind.UpdateAfter, _ => RowKind.Insert };
                events.Add(new Event(JoinSide.Right, kind, "C" + rng.Next(8), ts, b, i, rng.Next(1000) / 100m));
            }
            else
            {
                events.Add(new Event(JoinSide.Left, RowKind.Insert, rng.Next(20) == 0 ? null : "C" + rng.Next(9), ts, b, i, 0));
            }
        }

        TemporalJoinOperator Create() => new(Orders, Rates, [1], [0], type, outputBatchCapacity: 40);
        var op = Create();
        var output = new CollectingOutput();
        var at = 0;
        var maxVersions = 0;
        while (at < events.Count)
        {
            var chunk = events.Skip(at).Take(1 + rng.Next(50)).ToList();
            at += chunk.Count;
            var rates = chunk.Where(e => e.Side == JoinSide.Right).ToList();
            var orders = chunk.Where(e => e.Side == JoinSide.Left).ToList();
            // The two inputs interleave differently from their event times: which side comes first is random.
            var sides = rng.Next(2) == 0 ? new[] { JoinSide.Left, JoinSide.Right } : [JoinSide.Right, JoinSide.Left];
            foreach (var side in sides)
            {
                if (side == JoinSide.Right && rates.Count > 0)
                {
                    op.OnBatch(side, Batches.Of(pool, Rates, rates.Select(e => new object?[] { e.Key, e.Rate, e.Ts }).ToList(), rates.Select(e => e.Kind).ToList()), output);
                }
                else if (side == JoinSide.Left && orders.Count > 0)
                {
                    op.OnBatch(side, Batches.Of(pool, Orders, orders.Select(e => new object?[] { (long)e.Id, e.Key, e.Ts }).ToList()), output);
                }
            }

            op.OnWatermark(chunk[^1].Base, output);
            maxVersions = Math.Max(maxVersions, op.VersionCount);
            if (restoreMidway && at >= events.Count / 2 && at - chunk.Count < events.Count / 2)
            {
                var held = op.StateRowCount;
                op = Checkpointing.RoundTrip(op, Create);
                Assert.Equal(held, op.StateRowCount);
            }
        }

        op.OnWatermark(long.MaxValue, output);

        var expected = new List<string>();
        var versions = events.Where(e => e.Side == JoinSide.Right && e.Kind != RowKind.UpdateBefore).ToList();
        foreach (var o in events.Where(e => e.Side == JoinSide.Left))
        {
            // The latest version at or before the order's time; among equal times the later arrival wins.
            var valid = versions.Where(v => v.Key == o.Key && o.Key is not null && v.Ts <= o.Ts).OrderBy(v => v.Ts).ThenBy(v => v.Id).LastOrDefault();
            if (valid is not null && valid.Kind != RowKind.Delete)
            {
                expected.Add(Batches.Text((long)o.Id, o.Key, o.Ts, valid.Key, valid.Rate, valid.Ts));
            }
            else if (type == JoinType.Left)
            {
                expected.Add(Batches.Text((long)o.Id, o.Key, o.Ts, null, null, null));
            }
        }

        Assert.Equal(CollectingOutput.Sorted(expected), CollectingOutput.Sorted(output.Rows.Select(r => r.Text)));
        Assert.True(expected.Count(e => !e.EndsWith("NULL|NULL|NULL", StringComparison.Ordinal)) > 500);
        for (var i = 0; i < output.Rows.Count; i++)
        {
            Assert.True((long)output.Rows[i].Values[2]! > output.WatermarkBeforeRow[i], "a joined row must not be late");
        }

        // Only the versions still visible are kept: at most one at or before the watermark per key, plus newer ones.
        Assert.True(maxVersions < 100, $"held {maxVersions} versions; old versions should be pruned");
        Assert.Equal(0, op.StateRowCount);
        Assert.Empty(output.Errors);
        Assert.Equal(0, pool.Outstanding);
    }
}
