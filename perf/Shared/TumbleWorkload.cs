namespace Streams.Perf.Shared;

/// <summary>The issue-5 tumble workload as columns: ts = i ms, key = (i * 2654435761) % keys, price = i % 997.</summary>
internal sealed class TumbleWorkload
{
    public TumbleWorkload(int events, int keys)
    {
        Ts = new long[events];
        Key = new long[events];
        Price = new long[events];
        for (var i = 0; i < events; i++)
        {
            Ts[i] = i;
            Key[i] = (long)((ulong)i * 2654435761UL % (ulong)keys);
            Price[i] = i % 997;
        }
    }

    /// <summary>Event time in milliseconds.</summary>
    public long[] Ts { get; }

    /// <summary>The grouping key.</summary>
    public long[] Key { get; }

    /// <summary>The summed value.</summary>
    public long[] Price { get; }
}
