using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Operators.IntervalJoin;

/// <summary>
/// What an interval join remembers: the rows of both sides that can still meet a future row, interned keys, per left row
/// whether it found a partner (for LEFT joins), and per side a heap of expiry times that the watermark drains.
/// Everything a checkpoint must capture is here.
/// </summary>
internal sealed class IntervalJoinState
{
    public IntervalJoinState(Schema left, Schema right, int[] leftKeys)
    {
        Keys = new KeyTable(JoinSchemas.KeyTypes(left, leftKeys));
        Left = new KeyedRowStore(left, Keys);
        Right = new KeyedRowStore(right, Keys);
        Matched = new bool[Left.Rows.Capacity];
        Left.Rows.Grown += cap =>
        {
            var m = Matched;
            Array.Resize(ref m, cap);
            Matched = m;
        };
    }

    /// <summary>Join keys of rows held by either side.</summary>
    public KeyTable Keys { get; }

    /// <summary>Left rows that a future right row may still match.</summary>
    public KeyedRowStore Left { get; }

    /// <summary>Right rows that a future left row may still match.</summary>
    public KeyedRowStore Right { get; }

    /// <summary>Per left slot: found at least one partner.</summary>
    public bool[] Matched { get; private set; }

    /// <summary>Left slots by the watermark at which they can no longer match (left ts + upper bound).</summary>
    public ExpiryHeap LeftExpiry { get; } = new();

    /// <summary>Right slots by the watermark at which they can no longer match (right ts - lower bound).</summary>
    public ExpiryHeap RightExpiry { get; } = new();

    /// <summary>The highest watermark seen.</summary>
    public long Watermark { get; set; } = long.MinValue;

    /// <summary>The last watermark sent downstream.</summary>
    public long EmittedWatermark { get; set; } = long.MinValue;

    /// <summary>Rows held on both sides (the state-size metric).</summary>
    public int RowCount => Left.Count + Right.Count;
}
