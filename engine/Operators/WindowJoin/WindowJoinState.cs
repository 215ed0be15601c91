using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Operators.WindowJoin;

/// <summary>The rows of one window (tumble/hop) waiting for it to fire: slots of each side.</summary>
internal sealed class WindowBucket
{
    public long Start;
    public int[] Left = new int[16];
    public int LeftCount;
    public int[] Right = new int[16];
    public int RightCount;

    public void Add(JoinSide side, int slot)
    {
        if (side == JoinSide.Left)
        {
            if (LeftCount == Left.Length)
            {
                Array.Resize(ref Left, LeftCount * 2);
            }

            Left[LeftCount++] = slot;
        }
        else
        {
            if (RightCount == Right.Length)
            {
                Array.Resize(ref Right, RightCount * 2);
            }

            Right[RightCount++] = slot;
        }
    }
}

/// <summary>
/// What a window join remembers until its windows fire: rows of both sides (columnar), interned keys and, for tumble/hop,
/// the open windows with the slots they contain (a row in several hop windows is stored once and reference-counted); for
/// sessions, rows per key and a heap of when each key may next have a finished session.
/// </summary>
internal sealed class WindowJoinState
{
    public WindowJoinState(Schema left, Schema right, int[] leftKeys)
    {
        Keys = new KeyTable(JoinSchemas.KeyTypes(left, leftKeys));
        Left = new KeyedRowStore(left, Keys);
        Right = new KeyedRowStore(right, Keys);
        LeftWindows = new int[Left.Rows.Capacity];
        RightWindows = new int[Right.Rows.Capacity];
        Left.Rows.Grown += cap =>
        {
            var a = LeftWindows;
            Array.Resize(ref a, cap);
            LeftWindows = a;
        };
        Right.Rows.Grown += cap =>
        {
            var a = RightWindows;
            Array.Resize(ref a, cap);
            RightWindows = a;
        };
        NextCheck = new long[Keys.IdCapacity];
        Array.Fill(NextCheck, long.MaxValue);
        Keys.Keys.Grown += cap =>
        {
            var a = NextCheck;
            var old = a.Length;
            Array.Resize(ref a, cap);
            a.AsSpan(old).Fill(long.MaxValue);
            NextCheck = a;
        };
    }

    /// <summary>Join keys of rows held by either side.</summary>
    public KeyTable Keys { get; }

    /// <summary>Left rows waiting for their windows.</summary>
    public KeyedRowStore Left { get; }

    /// <summary>Right rows waiting for their windows.</summary>
    public KeyedRowStore Right { get; }

    /// <summary>Per left slot: open windows that still contain it (tumble/hop).</summary>
    public int[] LeftWindows { get; private set; }

    /// <summary>Per right slot: open windows that still contain it (tumble/hop).</summary>
    public int[] RightWindows { get; private set; }

    /// <summary>Open windows by start (tumble/hop).</summary>
    public Dictionary<long, WindowBucket> Windows { get; } = [];

    /// <summary>Window ends in firing order (tumble/hop); the start is end - size.</summary>
    public ExpiryHeap WindowEnds { get; } = new();

    /// <summary>Per key id: the earliest watermark at which the key may have a finished session (session).</summary>
    public long[] NextCheck { get; private set; }

    /// <summary>(check time, key id) entries; stale ones differ from <see cref="NextCheck"/> and are skipped (session).</summary>
    public ExpiryHeap SessionChecks { get; } = new();

    /// <summary>The highest watermark seen.</summary>
    public long Watermark { get; set; } = long.MinValue;

    /// <summary>Rows held on both sides (state-size metric).</summary>
    public int RowCount => Left.Count + Right.Count;
}
