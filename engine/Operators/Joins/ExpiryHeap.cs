using System.Runtime.CompilerServices;

namespace Streams.Engine.Operators.Joins;

/// <summary>
/// A priority queue of (expiry time, slot): which stored rows the watermark frees next. Event time mostly arrives in order,
/// so entries not earlier than the last queued one go to a FIFO ring (O(1) push and pop); only out-of-order entries pay for a
/// binary min-heap. The minimum is the smaller of the two heads.
/// </summary>
internal sealed class ExpiryHeap
{
    private long[] _times = new long[64];
    private int[] _slots = new int[64];
    private int _heapCount;
    private long[] _ringTimes = new long[64];
    private int[] _ringSlots = new int[64];
    private int _ringHead;
    private int _ringCount;

    /// <summary>Entries held.</summary>
    public int Count => _heapCount + _ringCount;

    /// <summary>The earliest expiry time; only valid when <see cref="Count"/> &gt; 0.</summary>
    public long MinTime => FromRing() ? _ringTimes[_ringHead] : _times[0];

    /// <summary>The slot of the earliest entry.</summary>
    public int MinSlot => FromRing() ? _ringSlots[_ringHead] : _slots[0];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool FromRing() => _ringCount > 0 && (_heapCount == 0 || _ringTimes[_ringHead] <= _times[0]);

    public void Push(long time, int slot)
    {
        if (_ringCount == 0 || time >= _ringTimes[(_ringHead + _ringCount - 1) & (_ringTimes.Length - 1)])
        {
            if (_ringCount == _ringTimes.Length)
            {
                GrowRing();
            }

            var at = (_ringHead + _ringCount) & (_ringTimes.Length - 1);
            _ringTimes[at] = time;
            _ringSlots[at] = slot;
            _ringCount++;
            return;
        }

        HeapPush(time, slot);
    }

    public void Pop()
    {
        if (FromRing())
        {
            _ringHead = (_ringHead + 1) & (_ringTimes.Length - 1);
            _ringCount--;
            return;
        }

        HeapPop();
    }

    /// <summary>All entries, for snapshots and tests.</summary>
    public IEnumerable<(long Time, int Slot)> Entries()
    {
        for (var i = 0; i < _ringCount; i++)
        {
            var at = (_ringHead + i) & (_ringTimes.Length - 1);
            yield return (_ringTimes[at], _ringSlots[at]);
        }

        for (var i = 0; i < _heapCount; i++)
        {
            yield return (_times[i], _slots[i]);
        }
    }

    private void GrowRing()
    {
        var times = new long[_ringTimes.Length * 2];
        var slots = new int[times.Length];
        for (var i = 0; i < _ringCount; i++)
        {
            var at = (_ringHead + i) & (_ringTimes.Length - 1);
            times[i] = _ringTimes[at];
            slots[i] = _ringSlots[at];
        }

        _ringTimes = times;
        _ringSlots = slots;
        _ringHead = 0;
    }

    private void HeapPush(long time, int slot)
    {
        if (_heapCount == _times.Length)
        {
            Array.Resize(ref _times, _heapCount * 2);
            Array.Resize(ref _slots, _heapCount * 2);
        }

        var i = _heapCount++;
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

    private void HeapPop()
    {
        var last = --_heapCount;
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
}
