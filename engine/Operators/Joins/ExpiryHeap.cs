namespace Streams.Engine.Operators.Joins;

/// <summary>A binary min-heap of (expiry time, slot) in two parallel arrays: which stored rows the watermark frees next.</summary>
internal sealed class ExpiryHeap
{
    private long[] _times = new long[64];
    private int[] _slots = new int[64];

    /// <summary>Entries held.</summary>
    public int Count { get; private set; }

    /// <summary>The earliest expiry time; only valid when <see cref="Count"/> &gt; 0.</summary>
    public long MinTime => _times[0];

    /// <summary>The slot of the earliest entry.</summary>
    public int MinSlot => _slots[0];

    public void Push(long time, int slot)
    {
        if (Count == _times.Length)
        {
            Array.Resize(ref _times, Count * 2);
            Array.Resize(ref _slots, Count * 2);
        }

        var i = Count++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (_times[parent] <= time)
            {
                break;
            }

            _times[i] = _times[parent];
            _slots[i] = _slots[parent];
            i = parent;
        }

        _times[i] = time;
        _slots[i] = slot;
    }

    public void Pop()
    {
        var last = --Count;
        if (last == 0)
        {
            return;
        }

        var time = _times[last];
        var slot = _slots[last];
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= last)
            {
                break;
            }

            if (child + 1 < last && _times[child + 1] < _times[child])
            {
                child++;
            }

            if (_times[child] >= time)
            {
                break;
            }

            _times[i] = _times[child];
            _slots[i] = _slots[child];
            i = child;
        }

        _times[i] = time;
        _slots[i] = slot;
    }

    /// <summary>Entries in heap order, for snapshots.</summary>
    public IEnumerable<(long Time, int Slot)> Entries()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return (_times[i], _slots[i]);
        }
    }
}
