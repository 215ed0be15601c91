using Streams.Engine.Data;
using Streams.Engine.State;

namespace Streams.Engine.Operators.Joins;

/// <summary>
/// Writes and reads the rows a join keeps, columnar (one value block and one null block per column), after a
/// <see cref="SnapshotHeader"/> naming the join kind and its input schemas. Hash tables are not written:
/// restore re-inserts the rows, which rebuilds keys, chains, heaps and windows exactly.
/// </summary>
internal static class JoinStateSnapshot
{
    /// <summary>Every stored slot of <paramref name="store"/>, key by key in arrival order.</summary>
    public static int[] LiveSlots(KeyedRowStore store, int keyCapacity)
    {
        var slots = new int[store.Count];
        var n = 0;
        for (var k = 0; k < keyCapacity; k++)
        {
            for (var s = store.First(k); s >= 0; s = store.Next(s))
            {
                slots[n++] = s;
            }
        }

        return slots;
    }

    /// <summary>Writes the rows at <paramref name="slots"/> of <paramref name="arena"/>.</summary>
    public static void WriteRows(IStateSnapshotWriter writer, RowArena arena, int[] slots)
    {
        writer.WriteInt32(slots.Length);
        writer.WriteInt32(arena.Columns.Length);
        var nulls = new bool[slots.Length];
        foreach (var column in arena.Columns)
        {
            writer.WriteInt32((int)column.Type);
            for (var i = 0; i < slots.Length; i++)
            {
                nulls[i] = column.IsNull(slots[i]);
            }

            writer.WriteValues<bool>(nulls);
            switch (column)
            {
                case ArenaColumn<long> c: writer.WriteValues<long>(Gather(c.Values, slots)); break;
                case ArenaColumn<int> c: writer.WriteValues<int>(Gather(c.Values, slots)); break;
                case ArenaColumn<double> c: writer.WriteValues<double>(Gather(c.Values, slots)); break;
                case ArenaColumn<bool> c: writer.WriteValues<bool>(Gather(c.Values, slots)); break;
                case ArenaColumn<decimal> c: writer.WriteValues<decimal>(Gather(c.Values, slots)); break;
                case ArenaColumn<string?> c:
                    foreach (var s in slots)
                    {
                        writer.WriteString(c.Values[s]);
                    }

                    break;
                default: throw new NotSupportedException($"cannot snapshot a {column.Type} column");
            }
        }
    }

    /// <summary>Reads rows written by <see cref="WriteRows"/> into a batch of <paramref name="schema"/> (the caller disposes it).</summary>
    public static ColumnBatch ReadRows(IStateSnapshotReader reader, Schema schema, BatchPool pool)
    {
        var count = reader.ReadInt32();
        var columns = reader.ReadInt32();
        if (columns != schema.Count)
        {
            throw new InvalidDataException($"join state snapshot holds {columns} columns, the schema {schema} has {schema.Count}");
        }

        var batch = pool.Rent(schema, Math.Max(1, count));
        try
        {
            for (var c = 0; c < columns; c++)
            {
                var type = (DataType)reader.ReadInt32();
                if (type != schema[c].Type && !(type is DataType.Int64 or DataType.Timestamp && schema[c].Type is DataType.Int64 or DataType.Timestamp))
                {
                    throw new InvalidDataException($"join state snapshot column {c} is {type}, the schema says {schema[c].Type}");
                }

                var nulls = reader.ReadValues<bool>();
                var column = batch.Columns[c];
                switch (column)
                {
                    case Column<long> col: Scatter(reader.ReadValues<long>(), col.Values); break;
                    case Column<int> col: Scatter(reader.ReadValues<int>(), col.Values); break;
                    case Column<double> col: Scatter(reader.ReadValues<double>(), col.Values); break;
                    case Column<bool> col: Scatter(reader.ReadValues<bool>(), col.Values); break;
                    case Column<decimal> col: Scatter(reader.ReadValues<decimal>(), col.Values); break;
                    case Column<string?> col:
                        for (var i = 0; i < count; i++)
                        {
                            col.Values[i] = reader.ReadString();
                        }

                        break;
                    default: throw new NotSupportedException($"cannot restore a {column.Type} column");
                }

                for (var i = 0; i < count; i++)
                {
                    if (nulls[i])
                    {
                        column.SetNull(i);
                    }
                }
            }

            batch.Count = count;
            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    private static T[] Gather<T>(T[] values, int[] slots)
    {
        var result = new T[slots.Length];
        for (var i = 0; i < slots.Length; i++)
        {
            result[i] = values[slots[i]];
        }

        return result;
    }

    private static void Scatter<T>(T[] from, T[] to)
    {
        if (from.Length > to.Length)
        {
            throw new InvalidDataException("join state snapshot column is longer than its row count");
        }

        from.AsSpan().CopyTo(to);
    }

    /// <summary>Per-slot values (flags, counters) in the order of <paramref name="slots"/>.</summary>
    public static T[] PerSlot<T>(T[] values, int[] slots) => Gather(values, slots);
}
