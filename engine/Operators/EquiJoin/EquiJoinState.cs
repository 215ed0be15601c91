using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Operators.EquiJoin;

/// <summary>
/// What a regular join remembers: every live row of both sides (a multiset per key; duplicates are separate slots) and,
/// for the left side of a LEFT join, how many right rows each left row currently matches. Kept until retracted (TTL later).
/// </summary>
internal sealed class EquiJoinState
{
    public EquiJoinState(Schema left, Schema right, int[] leftKeys)
    {
        Keys = new KeyTable(JoinSchemas.KeyTypes(left, leftKeys));
        Left = new KeyedRowStore(left, Keys);
        Right = new KeyedRowStore(right, Keys);
        Matches = new int[Left.Rows.Capacity];
        Left.Rows.Grown += cap =>
        {
            var m = Matches;
            Array.Resize(ref m, cap);
            Matches = m;
        };
    }

    /// <summary>Join keys of rows held by either side.</summary>
    public KeyTable Keys { get; }

    /// <summary>Live left rows.</summary>
    public KeyedRowStore Left { get; }

    /// <summary>Live right rows.</summary>
    public KeyedRowStore Right { get; }

    /// <summary>Per left slot: right rows it currently joins with.</summary>
    public int[] Matches { get; private set; }

    /// <summary>Rows held on both sides (state-size metric).</summary>
    public int RowCount => Left.Count + Right.Count;
}
