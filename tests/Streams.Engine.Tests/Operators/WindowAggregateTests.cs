using Streams.Engine.Operators.WindowAggregate;

namespace Streams.Engine.Tests.Operators;

public class WindowAggregateTests : PooledBatchTest
{
    private const long Delay = 300;

    /// <summary>Events ts = i*7 with bounded disorder (each moved by less than Delay), spread round-robin over partitions.</summary>
    private static List<object?[]> Events(int seed, int count)
    {
        var random = new Random(seed);
        var events = Enumerable.Range(0, count)
            .Select(i => (Order: i * 7 + random.Next(0, (int)Delay), Row: new object?[] { (long)random.Next(0, 12), (long)random.Next(-50, 1000), (long)i * 7 }))
            .OrderBy(e => e.Order)
            .Select(e => e.Row)
            .ToList();
        return events;
    }

    private static IReadOnlyList<IReadOnlyList<object?[]>> Split(List<object?[]> events, int partitions) =>
        Enumerable.Range(0, partitions).Select(p => (IReadOnlyList<object?[]>)events.Where((_, i) => i % partitions == p).ToList()).ToList();

    private static List<string> Reference(List<object?[]> events, WindowSpec window, bool twoPhase)
    {
        var groups = new Dictionary<(long Key, long Start), List<long>>();
        foreach (var e in events)
        {
            var (key, value, ts) = ((long)e[0]!, (long)e[1]!, (long)e[2]!);
            var last = ts - (((ts - window.OffsetMs) % window.SlideMs) + window.SlideMs) % window.SlideMs;
            for (var start = last; start > ts - window.SizeMs; start -= window.SlideMs)
            {
                if (!groups.TryGetValue((key, start), out var list))
                {
                    groups[(key, start)] = list = [];
                }

                list.Add(value);
            }
        }

        return groups.Select(g => WindowTestKit.Row(g.Key.Key, g.Key.Start, g.Key.Start + window.SizeMs, g.Value, twoPhase)).Order(StringComparer.Ordinal).ToList();
    }

    public static TheoryData<string, bool> Windows() => new()
    {
        { "tumble", false }, { "hop", false }, { "hop-uneven", false }, { "tumble", true }, { "hop", true }, { "hop-uneven", true },
    };

    private static WindowSpec WindowOf(string name) => name switch
    {
        "tumble" => WindowSpec.Tumble(1000),
        "hop" => WindowSpec.Hop(500, 2000),
        _ => WindowSpec.Hop(300, 1000),
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public async Task Windowed_results_do_not_depend_on_arrival_order_or_parallelism_and_match_a_reference(string windowName, bool twoPhase)
    {
        var window = WindowOf(windowName);
        for (var seed = 1; seed <= 3; seed++)
        {
            var events = Events(seed, 2500);
            var expected = Reference(events, window, twoPhase);
            var serial = await WindowTestKit.RunAsync(Pool, Split(events, 1), window, Delay, parallelism: 1, twoPhase: twoPhase);
            var parallel = await WindowTestKit.RunAsync(Pool, Split(events, 3), window, Delay, parallelism: 4, batchSize: 11, twoPhase: twoPhase);
            var reordered = events.ToList();
            // Another arrival order with the same disorder bound: swap neighbours less than Delay apart.
            var random = new Random(seed * 31);
            for (var i = 1; i < reordered.Count; i++)
            {
                if (random.Next(2) == 0 && Math.Abs((long)reordered[i][2]! - (long)reordered[i - 1][2]!) < Delay / 2)
                {
                    (reordered[i], reordered[i - 1]) = (reordered[i - 1], reordered[i]);
                }
            }

            var shuffled = await WindowTestKit.RunAsync(Pool, Split(reordered, 2), window, Delay, parallelism: 4, batchSize: 64, twoPhase: twoPhase);
            Assert.Equal(expected, serial.Rows);
            Assert.Equal(expected, parallel.Rows);
            Assert.Equal(expected, shuffled.Rows);
            Assert.Empty(serial.Late);
            Assert.Empty(parallel.Late);
            Assert.Equal(0, parallel.Job.Metrics.LateRecords);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Late_events_go_to_the_side_output_with_a_count_and_leave_on_time_results_alone(bool twoPhase)
    {
        var onTime = Enumerable.Range(0, 100).Select(i => new object?[] { 1L, 1L, i * 100L }).ToList();
        var withLate = onTime.Concat([new object?[] { 1L, 1000L, 50L }, new object?[] { 2L, 7L, 120L }]).ToList();

        var clean = await WindowTestKit.RunAsync(Pool, [onTime], WindowSpec.Tumble(1000), 0, parallelism: 2, twoPhase: twoPhase);
        var result = await WindowTestKit.RunAsync(Pool, [withLate], WindowSpec.Tumble(1000), 0, parallelism: 2, twoPhase: twoPhase);

        Assert.Equal(clean.Rows, result.Rows);
        Assert.Equal(["+I[1, 1000, 50]", "+I[2, 7, 120]"], result.Late);
        Assert.Equal(2, result.Job.Metrics.LateRecords);
        Assert.Equal(2, result.Job.Metrics["window"].LateRecords);
    }

    [Fact]
    public async Task Allowed_lateness_delays_firing_so_a_late_but_allowed_row_is_counted()
    {
        var rows = Enumerable.Range(0, 30).Select(i => new object?[] { 1L, 1L, i * 100L }).Append([1L, 5L, 10L]).ToList();
        var result = await WindowTestKit.RunAsync(Pool, [rows], WindowSpec.Tumble(1000), 0, parallelism: 1, allowedLateness: 2000);
        Assert.Contains(WindowTestKit.Row(1, 0, 1000, [.. Enumerable.Repeat(1L, 10), 5L]), result.Rows);
        Assert.Empty(result.Late);
    }

    [Fact]
    public async Task End_of_input_fires_the_windows_still_open()
    {
        var result = await WindowTestKit.RunAsync(Pool, [[new object?[] { 4L, 9L, 123_456L }]], WindowSpec.Tumble(60_000), 10_000, parallelism: 2);
        Assert.Equal([WindowTestKit.Row(4, 120_000, 180_000, [9L])], result.Rows);
    }
}
