using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Tests.Joins;

public class ExpiryHeapTests
{
    [Fact]
    public void Pops_in_time_order_whatever_mix_of_in_order_and_out_of_order_pushes()
    {
        var rng = new Random(9);
        var heap = new ExpiryHeap();
        var reference = new List<(long, int)>();
        var popped = new List<long>();
        var t = 0L;
        for (var i = 0; i < 20_000; i++)
        {
            t += rng.Next(3);
            var time = rng.Next(4) == 0 ? t - rng.Next(500) : t;
            heap.Push(time, i);
            reference.Add((time, i));
            if (rng.Next(3) == 0)
            {
                var limit = t - 300;
                var drained = new List<long>();
                while (heap.Count > 0 && heap.MinTime <= limit)
                {
                    drained.Add(heap.MinTime);
                    heap.Pop();
                }

                // Each drain comes out sorted and leaves nothing at or below the limit.
                Assert.Equal(drained.Order(), drained);
                Assert.True(heap.Count == 0 || heap.MinTime > limit);
                popped.AddRange(drained);
            }
        }

        Assert.Equal(reference.Count - popped.Count, heap.Count);
        Assert.Equal(heap.Count, heap.Entries().Count());
        var rest = new List<long>();
        while (heap.Count > 0)
        {
            rest.Add(heap.MinTime);
            heap.Pop();
        }

        Assert.Equal(rest.Order(), rest);
        Assert.Equal(reference.Select(r => r.Item1).Order(), popped.Concat(rest).Order());
    }
}
