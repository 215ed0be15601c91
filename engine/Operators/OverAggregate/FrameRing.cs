namespace Streams.Engine.Operators.OverAggregate;

/// <summary>A growable double-ended queue over a power-of-two array: the rows of a frame, oldest first.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal sealed class FrameRing<T>
{
    private T[] _items = new T[4];
    private int _head;

    /// <summary>How many elements are held.</summary>
    public int Count { get; private set; }

    /// <summary>The element <paramref name="index"/> places from the front.</summary>
    public ref T this[int index] => ref _items[(_head + index) & (_items.Length - 1)];

    /// <summary>The oldest element.</summary>
    public ref T Front => ref _items[_head];

    /// <summary>The newest element.</summary>
    public ref T Back => ref this[Count - 1];

    public void PushBack(T item)
    {
        if (Count == _items.Length)
        {
            Grow();
        }

        _items[(_head + Count) & (_items.Length - 1)] = item;
        Count++;
    }

    public void PopFront()
    {
        _items[_head] = default!;
        _head = (_head + 1) & (_items.Length - 1);
        Count--;
    }

    public void PopBack()
    {
        Count--;
        _items[(_head + Count) & (_items.Length - 1)] = default!;
    }

    /// <summary>The elements oldest first, as a new array (snapshots).</summary>
    public T[] ToArray()
    {
        var result = new T[Count];
        for (var i = 0; i < Count; i++)
        {
            result[i] = this[i];
        }

        return result;
    }

    /// <summary>Replaces the contents with <paramref name="items"/> (restore).</summary>
    public void Load(ReadOnlySpan<T> items)
    {
        _head = 0;
        Count = 0;
        foreach (var item in items)
        {
            PushBack(item);
        }
    }

    private void Grow()
    {
        var bigger = new T[_items.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            bigger[i] = this[i];
        }

        _items = bigger;
        _head = 0;
    }
}
