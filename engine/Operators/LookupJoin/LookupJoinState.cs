using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Operators.LookupJoin;

/// <summary>The table side of a stream-to-table join: the latest row per primary key, columnar.</summary>
internal sealed class LookupJoinState
{
    public LookupJoinState(Schema table, int[] tableKeys)
    {
        Keys = new KeyTable(JoinSchemas.KeyTypes(table, tableKeys));
        Rows = new RowArena(table);
        SlotOf = new int[Keys.IdCapacity];
        Keys.Keys.Grown += cap =>
        {
            var s = SlotOf;
            Array.Resize(ref s, cap);
            SlotOf = s;
        };
    }

    /// <summary>Primary keys present in the table.</summary>
    public KeyTable Keys { get; }

    /// <summary>The current table rows.</summary>
    public RowArena Rows { get; }

    /// <summary>Per key id: the slot of its current row in <see cref="Rows"/>.</summary>
    public int[] SlotOf { get; private set; }

    /// <summary>Rows in the table (state-size metric).</summary>
    public int RowCount => Rows.Count;
}
