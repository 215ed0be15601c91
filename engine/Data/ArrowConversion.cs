using Apache.Arrow;
using Apache.Arrow.Types;

namespace Streams.Engine.Data;

/// <summary>
/// Converts between <see cref="ColumnBatch"/> and Apache Arrow <see cref="RecordBatch"/> at the edges (Arrow Flight,
/// Parquet, Python/Rust interop). TIMESTAMP maps to Arrow timestamp[ms, UTC], DECIMAL to decimal128(38, 18);
/// filtered-out rows are left out and row kinds are dropped (Arrow has no changelog notion).
/// </summary>
public static class ArrowConversion
{
    /// <summary>The Arrow schema for <paramref name="schema"/>.</summary>
    public static Apache.Arrow.Schema ToArrowSchema(Schema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var builder = new Apache.Arrow.Schema.Builder();
        foreach (var f in schema.Fields)
        {
            builder.Field(new Apache.Arrow.Field(f.Name, ArrowTypeOf(f.Type), f.Nullable));
        }

        return builder.Build();
    }

    /// <summary>Copies the live rows of <paramref name="batch"/> into a new record batch (the batch keeps its ownership).</summary>
    public static RecordBatch ToRecordBatch(ColumnBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var rows = new List<int>(batch.Count);
        for (var r = 0; r < batch.Count; r++)
        {
            if (batch.IsLive(r))
            {
                rows.Add(r);
            }
        }

        var arrays = new IArrowArray[batch.Columns.Length];
        for (var c = 0; c < arrays.Length; c++)
        {
            arrays[c] = ToArrowArray(batch.Columns[c], rows);
        }

        return new RecordBatch(ToArrowSchema(batch.Schema), arrays, rows.Count);
    }

    /// <summary>Reads <paramref name="record"/> into batches of <paramref name="schema"/> rented from <paramref name="pool"/> (columns matched by position).</summary>
    public static IEnumerable<ColumnBatch> FromRecordBatch(RecordBatch record, Schema schema, BatchPool pool, int batchSize = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(pool);
        if (record.ColumnCount != schema.Count)
        {
            throw new ArgumentException($"the record batch has {record.ColumnCount} columns, the schema {schema.Count}: {schema}");
        }

        for (var offset = 0; offset < record.Length; offset += batchSize)
        {
            var n = Math.Min(batchSize, record.Length - offset);
            var batch = pool.Rent(schema, batchSize);
            try
            {
                for (var c = 0; c < schema.Count; c++)
                {
                    ReadColumn(record.Column(c), offset, n, batch.Columns[c], schema[c]);
                }
            }
            catch
            {
                batch.Dispose();
                throw;
            }

            batch.Count = n;
            yield return batch;
        }
    }

    private static IArrowType ArrowTypeOf(DataType type) => type switch
    {
        DataType.Boolean => BooleanType.Default,
        DataType.Int32 => Int32Type.Default,
        DataType.Int64 => Int64Type.Default,
        DataType.Double => DoubleType.Default,
        DataType.Decimal => new Decimal128Type(38, 18),
        DataType.String => StringType.Default,
        DataType.Timestamp => new TimestampType(TimeUnit.Millisecond, "UTC"),
        _ => throw new NotSupportedException($"no Arrow type for {type.SqlName()}"),
    };

    private static IArrowArray ToArrowArray(Column column, List<int> rows)
    {
        switch (column)
        {
            case Column<bool> c:
            {
                var b = new BooleanArray.Builder();
                foreach (var r in rows) { if (c.IsNull(r)) b.AppendNull(); else b.Append(c.Values[r]); }
                return b.Build();
            }

            case Column<int> c:
            {
                var b = new Int32Array.Builder();
                foreach (var r in rows) { if (c.IsNull(r)) b.AppendNull(); else b.Append(c.Values[r]); }
                return b.Build();
            }

            case Column<long> c when column.Type == DataType.Timestamp:
            {
                var b = new TimestampArray.Builder(new TimestampType(TimeUnit.Millisecond, "UTC"));
                foreach (var r in rows) { if (c.IsNull(r)) b.AppendNull(); else b.Append(DateTimeOffset.FromUnixTimeMilliseconds(c.Values[r])); }
                return b.Build();
            }

            case Column<long> c:
            {
                var b = new Int64Array.Builder();
                foreach (var r in rows) { if (c.IsNull(r)) b.AppendNull(); else b.Append(c.Values[r]); }
                return b.Build();
            }

            case Column<double> c:
            {
                var b = new DoubleArray.Builder();
                foreach (var r in rows) { if (c.IsNull(r)) b.AppendNull(); else b.Append(c.Values[r]); }
                return b.Build();
            }

            case Column<decimal> c:
            {
                var b = new Decimal128Array.Builder(new Decimal128Type(38, 18));
                foreach (var r in rows) { if (c.IsNull(r)) b.AppendNull(); else b.Append(c.Values[r]); }
                return b.Build();
            }

            case Column<string?> c:
            {
                var b = new StringArray.Builder();
                foreach (var r in rows) { if (c.IsNull(r) || c.Values[r] is null) b.AppendNull(); else b.Append(c.Values[r]); }
                return b.Build();
            }

            default:
                throw new NotSupportedException($"no Arrow conversion for {column.Type.SqlName()}");
        }
    }

    private static void ReadColumn(IArrowArray array, int offset, int count, Column target, Field field)
    {
        for (var i = 0; i < count; i++)
        {
            var row = offset + i;
            if (array.IsNull(row))
            {
                target.SetNull(i);
                continue;
            }

            switch (array, target)
            {
                case (BooleanArray a, Column<bool> t): t.Values[i] = a.GetValue(row)!.Value; break;
                case (Int32Array a, Column<int> t): t.Values[i] = a.GetValue(row)!.Value; break;
                case (Int64Array a, Column<long> t): t.Values[i] = a.GetValue(row)!.Value; break;
                case (TimestampArray a, Column<long> t): t.Values[i] = a.GetTimestamp(row)!.Value.ToUnixTimeMilliseconds(); break;
                case (DoubleArray a, Column<double> t): t.Values[i] = a.GetValue(row)!.Value; break;
                case (Decimal128Array a, Column<decimal> t): t.Values[i] = a.GetValue(row)!.Value; break;
                case (StringArray a, Column<string?> t): t.Values[i] = a.GetString(row); break;
                default:
                    throw new ArgumentException($"column '{field.Name}': Arrow {array.Data.DataType.Name} cannot be read as {field.Type.SqlName()}");
            }
        }
    }
}
