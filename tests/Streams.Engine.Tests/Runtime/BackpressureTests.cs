using System.Diagnostics;
using Streams.Engine.Data;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Sources;

namespace Streams.Engine.Tests.Runtime;

public class BackpressureTests : PooledBatchTest
{
    private static readonly Schema Wide = new([new Field("a", DataType.Int64), new Field("b", DataType.Int64), new Field("c", DataType.Int64), new Field("d", DataType.Int64)]);

    [Fact]
    public async Task A_sink_ten_times_slower_than_the_source_slows_the_source_and_keeps_memory_flat()
    {
        const int batches = 400;
        const int rows = 8192;
        var produced = 0L;
        var source = new GeneratorSource(Wide, 2, batches / 2 * rows, (partition, first, count, batch) =>
        {
            Interlocked.Add(ref produced, count);
            for (var c = 0; c < 4; c++)
            {
                batch.ColumnAt<long>(c).Values.AsSpan(0, count).Fill(first);
            }
        }, rows, Pool);

        // Unthrottled, 400 batches of 4 x 8K longs (~100 MB) take a few ms to produce; the sink takes ~1 ms per batch.
        var graph = new JobGraph(new JobOptions { Parallelism = 2, Pool = Pool, ChannelCapacity = 4 });
        GC.Collect();
        var baseline = GC.GetTotalMemory(true);
        long peakHeap = 0, peakOutstanding = 0, maxLead = 0, consumed = 0;
        graph.Source("fast", source, Wide).KeyBy(0).ForEach(batch =>
        {
            Thread.Sleep(1);
            consumed += batch.Count;
            peakOutstanding = Math.Max(peakOutstanding, Pool.Outstanding);
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            maxLead = Math.Max(maxLead, Interlocked.Read(ref produced) - consumed);
        });

        var watch = Stopwatch.StartNew();
        await graph.Build().RunAsync();

        Assert.Equal((long)batches * rows, consumed);
        Assert.True(watch.ElapsedMilliseconds >= batches, $"the job took {watch.ElapsedMilliseconds} ms: the sink was not the bottleneck");
        // Bounded channels: only a few channel-fulls of batches are ever in flight, whatever the total.
        Assert.True(peakOutstanding <= 30, $"{peakOutstanding} batches were in flight at once");
        Assert.True(maxLead <= 30L * rows, $"the source ran {maxLead / rows} batches ahead of the sink");
        Assert.True(peakHeap - baseline < 64L << 20, $"the heap grew by {(peakHeap - baseline) >> 20} MB");
    }
}
