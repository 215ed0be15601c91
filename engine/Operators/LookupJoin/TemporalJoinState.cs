using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Operators.LookupJoin;

/// <summary>
/// What an event-time temporal join remembers: stream rows waiting for the watermark to reach their time, and per key the
/// table versions (rows, with a tombstone flag for deletes) that a waiting or future stream row may still need.
/// </summary>
internal sealed class TemporalJoinState
{
    public TemporalJoinState(Schema stream, Schema table, int[] streamKeys)
    {
        Keys = new KeyTable(JoinSchemas.KeyTypes(stream, streamKeys));
        Stream = new KeyedRowStore(stream, Keys);
        Versions = new KeyedRowStore(table, Keys);
        Tombstone = new bool[Versions.Rows.Capacity];
        Versions.Rows.Grown += cap =>
        {
            var t = Tombstone;
            Array.Resize(ref t, cap);
            Tombstone = t;
        };
    }

    /// <summary>Join keys of rows held on either side.</summary>
    public KeyTable Keys { get; }

    /// <summary>Stream rows whose time the watermark has not reached.</summary>
    public KeyedRowStore Stream { get; }

    /// <summary>Table versions per key.</summary>
    public KeyedRowStore Versions { get; }

    /// <summary>Per version slot: the version is a delete.</summary>
    public bool[] Tombstone { get; private set; }

    /// <summary>Waiting stream rows by event time.</summary>
    public ExpiryHeap Pending { get; } = new();

    /// <summary>The highest watermark seen.</summary>
    public long Watermark { get; set; } = long.MinValue;

    /// <summary>Rows held (stream rows waiting plus table versions).</summary>
    public int RowCount => Stream.Count + Versions.Count;
}
