using Streams.Engine.Data;
using Streams.Engine.State;

namespace Streams.Engine.Operators.Aggregates;

/// <summary>
/// Checkpoint encoding of the key table: the keys in id order, a key column at a time. Restore replays them through
/// <see cref="Lookup"/> so every key gets back its id and the hash index is rebuilt by the same code that built it.
/// </summary>
internal sealed partial class GroupKeyTable
{
    public void Snapshot(IStateSnapshotWriter writer)
    {
        writer.WriteInt32(_keyColumns.Length);
        writer.WriteInt32(Count);
        if (_keyColumns.Length == 0)
        {
            return;
        }

        for (var k = 0; k < _keyColumns.Length; k++)
        {
            var nulls = new bool[Count];
            for (var id = 0; id < Count; id++)
            {
                nulls[id] = KeyValue(id, k) is null;
            }

            writer.WriteValues<bool>(nulls);
            switch (KeyTypes[k])
            {
                case DataType.String:
                    for (var id = 0; id < Count; id++)
                    {
                        writer.WriteString((string?)KeyValue(id, k));
                    }

                    break;
                case DataType.Boolean:
                    writer.WriteValues<bool>(Values<bool>(k));
                    break;
                case DataType.Int32:
                    writer.WriteValues<int>(Values<int>(k));
                    break;
                case DataType.Double:
                    writer.WriteValues<double>(Values<double>(k));
                    break;
                case DataType.Decimal:
                    writer.WriteValues<decimal>(Values<decimal>(k));
                    break;
                default:
                    writer.WriteValues<long>(Values<long>(k));
                    break;
            }
        }
    }

    /// <summary>Refills an empty table with the keys <see cref="Snapshot"/> wrote; <paramref name="input"/> is the operator's input schema.</summary>
    public void Restore(IStateSnapshotReader reader, Schema input)
    {
        if (Count != 0 && _keyColumns.Length > 0)
        {
            throw new InvalidOperationException("a key table is restored only before its first batch");
        }

        var keyColumns = reader.ReadInt32();
        if (keyColumns != _keyColumns.Length)
        {
            throw new InvalidDataException($"aggregate snapshot groups by {keyColumns} keys but the operator groups by {_keyColumns.Length}");
        }

        var count = reader.ReadInt32();
        if (_keyColumns.Length == 0)
        {
            Count = count;
            return;
        }

        var columns = new object?[_keyColumns.Length][];
        for (var k = 0; k < _keyColumns.Length; k++)
        {
            var nulls = reader.ReadValues<bool>();
            var values = new object?[count];
            switch (KeyTypes[k])
            {
                case DataType.String:
                    for (var id = 0; id < count; id++)
                    {
                        values[id] = reader.ReadString();
                    }

                    break;
                case DataType.Boolean:
                    Box(reader.ReadValues<bool>(), values);
                    break;
                case DataType.Int32:
                    Box(reader.ReadValues<int>(), values);
                    break;
                case DataType.Double:
                    Box(reader.ReadValues<double>(), values);
                    break;
                case DataType.Decimal:
                    Box(reader.ReadValues<decimal>(), values);
                    break;
                default:
                    Box(reader.ReadValues<long>(), values);
                    break;
            }

            if (nulls.Length != count)
            {
                throw new InvalidDataException($"aggregate snapshot key column {k} holds {nulls.Length} keys where {count} were expected");
            }

            for (var id = 0; id < count; id++)
            {
                if (nulls[id])
                {
                    values[id] = null;
                }
            }

            columns[k] = values;
        }

        var ids = new int[BatchPool.DefaultCapacity];
        for (var first = 0; first < count; first += BatchPool.DefaultCapacity)
        {
            var n = Math.Min(BatchPool.DefaultCapacity, count - first);
            using var batch = BatchPool.Shared.Rent(input, BatchPool.DefaultCapacity);
            for (var k = 0; k < _keyColumns.Length; k++)
            {
                var column = batch.Columns[_keyColumns[k]];
                for (var i = 0; i < n; i++)
                {
                    column.SetBoxed(i, columns[k][first + i]);
                }
            }

            batch.Count = n;
            Lookup(batch, ids);
            for (var i = 0; i < n; i++)
            {
                if (ids[i] != first + i)
                {
                    throw new InvalidDataException($"aggregate snapshot holds key #{first + i} twice: the snapshot is damaged");
                }
            }
        }
    }

    private object? KeyValue(int id, int k)
    {
        if (_singleInteger)
        {
            return id == _nullId ? null : KeyTypes[0] == DataType.Int32 ? (int)_longKeys[id] : _longKeys[id];
        }

        return _tupleKeys[id][k];
    }

    private T[] Values<T>(int k)
    {
        var values = new T[Count];
        for (var id = 0; id < Count; id++)
        {
            values[id] = KeyValue(id, k) is T v ? v : default!;
        }

        return values;
    }

    private static void Box<T>(T[] from, object?[] to)
    {
        if (from.Length != to.Length)
        {
            throw new InvalidDataException($"aggregate snapshot key column holds {from.Length} keys where {to.Length} were expected");
        }

        for (var i = 0; i < from.Length; i++)
        {
            to[i] = from[i];
        }
    }
}
