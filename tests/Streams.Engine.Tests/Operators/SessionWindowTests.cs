using Streams.Engine.Operators.WindowAggregate;

namespace Streams.Engine.Tests.Operators;

public class SessionWindowTests : PooledBatchTest
{
    [Fact]
    public async Task An_out_of_order_event_bridging_two_sessions_merges_them()
    {
        // Gap 500: 0 → [0,500), 1000 → [1000,1500); 500 touches both, so all three form [0,1500).
        var rows = new List<object?[]>
        {
            new object?[] { 1L, 1L, 0L }, new object?[] { 1L, 2L, 1000L }, new object?[] { 2L, 9L, 200L },
            new object?[] { 1L, 4L, 500L }, new object?[] { 1L, 8L, 10_000L },
        };
        var result = await WindowTestKit.RunAsync(Pool, [rows], WindowSpec.Session(500), 2000, parallelism: 2);
        Assert.Equal(
            new[] { WindowTestKit.Row(1, 0, 1500, [1, 2, 4]), WindowTestKit.Row(1, 10_000, 10_500, [8]), WindowTestKit.Row(2, 200, 700, [9]) }.Order(StringComparer.Ordinal),
            result.Rows);
    }

    [Fact]
    public async Task Sessions_match_a_reference_for_random_input_at_any_parallelism()
    {
        var random = new Random(7);
        var rows = new List<object?[]>();
        long ts = 0;
        for (var i = 0; i < 1500; i++)
        {
            ts += random.Next(0, 120);
            rows.Add([(long)random.Next(0, 5), (long)random.Next(0, 100), ts]);
        }

        // Bounded disorder: swap close neighbours.
        for (var i = 1; i < rows.Count; i += 2)
        {
            (rows[i], rows[i - 1]) = (rows[i - 1], rows[i]);
        }

        var expected = new List<string>();
        foreach (var key in rows.GroupBy(r => (long)r[0]!))
        {
            var ordered = key.OrderBy(r => (long)r[2]!).ToList();
            var start = (long)ordered[0][2]!;
            var end = start + 300;
            var values = new List<long>();
            foreach (var r in ordered)
            {
                var t = (long)r[2]!;
                if (t > end)
                {
                    expected.Add(WindowTestKit.Row(key.Key, start, end, values));
                    start = t;
                    values = [];
                }

                end = t + 300;
                values.Add((long)r[1]!);
            }

            expected.Add(WindowTestKit.Row(key.Key, start, end, values));
        }

        expected.Sort(StringComparer.Ordinal);
        var one = await WindowTestKit.RunAsync(Pool, [rows], WindowSpec.Session(300), 1000, parallelism: 1);
        var four = await WindowTestKit.RunAsync(Pool, [rows], WindowSpec.Session(300), 1000, parallelism: 4, batchSize: 7);
        Assert.Equal(expected, one.Rows);
        Assert.Equal(expected, four.Rows);
    }

    [Fact]
    public async Task A_row_whose_session_ended_before_the_watermark_is_late()
    {
        var rows = new List<object?[]> { new object?[] { 1L, 1L, 0L }, new object?[] { 1L, 1L, 5000L }, new object?[] { 1L, 3L, 100L } };
        var result = await WindowTestKit.RunAsync(Pool, [rows], WindowSpec.Session(500), 0, parallelism: 1, batchSize: 1);
        Assert.Equal(["+I[1, 3, 100]"], result.Late);
        Assert.Equal(new[] { WindowTestKit.Row(1, 0, 500, [1]), WindowTestKit.Row(1, 5000, 5500, [1]) }.Order(StringComparer.Ordinal), result.Rows);
    }
}
