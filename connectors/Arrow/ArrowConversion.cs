using Apache.Arrow;
using Apache.Arrow.Types;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using ArrowSchema = Apache.Arrow.Schema;
using Column = Streams.Engine.Data.Column;
using Schema = Streams.Engine.Data.Schema;

namespace Streams.Connectors.Arrow;

/// <summary>
/// Converts between Arrow record batches and <see cref="ColumnBatch"/>es. Types map BOOLEAN ↔ bool, INT ↔ int32,
/// BIGINT ↔ int64, DOUBLE ↔ float64, DECIMAL ↔ decimal128(38, 9), VARCHAR ↔ utf8, TIMESTAMP ↔ timestamp[ms, UTC].
/// Reading also widens int8/16/32 to BIGINT, integers and float32 to DOUBLE, and rescales timestamps in s/µs/ns to milliseconds.
/// </summary>
public static class ArrowConversion
{
    /// <summary>The scale DECIMAL columns are written with (decimal128 with precision 38).</summary>
    public const int DecimalScale = 9;

    private static readonly TimestampType Millis = new(TimeUnit.Millisecond, "UTC");

    /// <summary>The Arrow schema of <paramref name="schema"/>.</summary>
    public static ArrowSchema ToArrow(Schema schema)
    {
        var builder = new ArrowSchema.Builder();
        foreach (var f in schema.Fields)
        {
            builder.Field(new Apache.Arrow.Field(f.Name, ToArrow(f.Type), f.Nullable));
        }

        return builder.Build();
    }

    private static IArrowType ToArrow(DataType type) => type switch
    {
        DataType.Boolean => BooleanType.Default,
        DataType.Int32 => Int32Type.Default,
        DataType.Int64 => Int64Type.Default,
        DataType.Double => DoubleType.Default,
        DataType.Decimal => new Decimal128Type(38, DecimalScale),
        DataType.String => StringType.Default,
        DataType.Timestamp => Millis,
        _ => throw new ConnectorException($"type {type.SqlName()} has no Arrow counterpart"),
    };

    /// <summary>The live rows of <paramref name="batch"/> as an Arrow record batch of <paramref name="arrowSchema"/> (from <see cref="ToArrow(Schema)"/>).</summary>
    public static RecordBatch ToRecordBatch(ColumnBatch batch, ArrowSchema arrowSchema)
    {
        var live = batch.LiveCount();
        var arrays = new IArrowArray[batch.Columns.Length];
        for (var c = 0; c < arrays.Length; c++)
        {
            arrays[c] = ToArray(batch, batch.Columns[c], live);
        }

        return new RecordBatch(arrowSchema, arrays, live);
    }

    private static IArrowArray ToArray(ColumnBatch batch, Column column, int live)
    {
        var validity = new ArrowBuffer.BitmapBuilder(live);
        var nulls = 0;
        switch (column.Type)
        {
            case DataType.Int64:
            case DataType.Timestamp:
            {
                var values = new ArrowBuffer.Builder<long>(live);
                var src = ((Column<long>)column).Values;
                for (var r = 0; r < batch.Count; r++)
                {
                    if (batch.IsLive(r))
                    {
                        values.Append(src[r]);
                        nulls += Valid(validity, column, r);
                    }
                }

                var bitmap = Bitmap(validity, nulls);
                return column.Type == DataType.Timestamp
                    ? new TimestampArray(Millis, values.Build(), bitmap, live, nulls, 0)
                    : new Int64Array(values.Build(), bitmap, live, nulls, 0);
            }

            case DataType.Int32:
            {
                var values = new ArrowBuffer.Builder<int>(live);
                var src = ((Column<int>)column).Values;
                for (var r = 0; r < batch.Count; r++)
                {
                    if (batch.IsLive(r))
                    {
                        values.Append(src[r]);
                        nulls += Valid(validity, column, r);
                    }
                }

                return new Int32Array(values.Build(), Bitmap(validity, nulls), live, nulls, 0);
            }

            case DataType.Double:
            {
                var values = new ArrowBuffer.Builder<double>(live);
                var src = ((Column<double>)column).Values;
                for (var r = 0; r < batch.Count; r++)
                {
                    if (batch.IsLive(r))
                    {
                        values.Append(src[r]);
                        nulls += Valid(validity, column, r);
                    }
                }

                return new DoubleArray(values.Build(), Bitmap(validity, nulls), live, nulls, 0);
            }

            case DataType.Boolean:
            {
                var b = new BooleanArray.Builder();
                var src = ((Column<bool>)column).Values;
                for (var r = 0; r < batch.Count; r++)
                {
                    if (batch.IsLive(r))
                    {
                        if (column.IsNull(r))
                        {
                            b.AppendNull();
                        }
                        else
                        {
                            b.Append(src[r]);
                        }
                    }
                }

                return b.Build();
            }

            case DataType.Decimal:
            {
                var b = new Decimal128Array.Builder(new Decimal128Type(38, DecimalScale));
                var src = ((Column<decimal>)column).Values;
                for (var r = 0; r < batch.Count; r++)
                {
                    if (batch.IsLive(r))
                    {
                        if (column.IsNull(r))
                        {
                            b.AppendNull();
                        }
                        else
                        {
                            b.Append(decimal.Round(src[r], DecimalScale));
                        }
                    }
                }

                return b.Build();
            }

            default:
            {
                var b = new StringArray.Builder();
                var src = ((Column<string?>)column).Values;
                for (var r = 0; r < batch.Count; r++)
                {
                    if (batch.IsLive(r))
                    {
                        var s = column.IsNull(r) ? null : src[r];
                        if (s is null)
                        {
                            b.AppendNull();
                        }
                        else
                        {
                            b.Append(s);
                        }
                    }
                }

                return b.Build();
            }
        }
    }

    private static int Valid(ArrowBuffer.BitmapBuilder validity, Column column, int row)
    {
        var isNull = column.IsNull(row);
        validity.Append(!isNull);
        return isNull ? 1 : 0;
    }

    private static ArrowBuffer Bitmap(ArrowBuffer.BitmapBuilder validity, int nulls) => nulls == 0 ? ArrowBuffer.Empty : validity.Build();

    /// <summary>For each schema column, the index of the Arrow column with its name (case-insensitive), or -1; checks that types convert.</summary>
    public static int[] MapColumns(Schema schema, ArrowSchema arrow, string location)
    {
        var map = new int[schema.Count];
        for (var c = 0; c < schema.Count; c++)
        {
            map[c] = -1;
            for (var a = 0; a < arrow.FieldsList.Count; a++)
            {
                if (string.Equals(arrow.FieldsList[a].Name, schema[c].Name, StringComparison.OrdinalIgnoreCase))
                {
                    map[c] = a;
                    if (!Converts(arrow.FieldsList[a].DataType, schema[c].Type))
                    {
                        throw new ConnectorException($"{location}: column '{schema[c].Name}' has Arrow type {arrow.FieldsList[a].DataType.Name}, which cannot be read as {schema[c].Type.SqlName()}");
                    }

                    break;
                }
            }
        }

        return map;
    }

    private static bool Converts(IArrowType from, DataType to) => (from.TypeId, to) switch
    {
        (ArrowTypeId.Boolean, DataType.Boolean) => true,
        (ArrowTypeId.Int8 or ArrowTypeId.Int16 or ArrowTypeId.Int32, DataType.Int32 or DataType.Int64 or DataType.Double) => true,
        (ArrowTypeId.Int64, DataType.Int64 or DataType.Double) => true,
        (ArrowTypeId.Float or ArrowTypeId.Double, DataType.Double) => true,
        (ArrowTypeId.Decimal128, DataType.Decimal or DataType.Double) => true,
        (ArrowTypeId.String, DataType.String) => true,
        (ArrowTypeId.Timestamp, DataType.Timestamp) => true,
        (ArrowTypeId.Int64, DataType.Timestamp) => true,
        _ => false,
    };

    /// <summary>Copies rows [<paramref name="start"/>, start + count) of <paramref name="source"/> to the end of <paramref name="target"/>.</summary>
    public static void CopyRows(RecordBatch source, int[] map, int start, int count, ColumnBatch target)
    {
        var at = target.Count;
        for (var c = 0; c < map.Length; c++)
        {
            var column = target.Columns[c];
            if (map[c] < 0)
            {
                for (var i = 0; i < count; i++)
                {
                    column.SetNull(at + i);
                }

                continue;
            }

            var array = source.Column(map[c]);
            for (var i = 0; i < count; i++)
            {
                var r = start + i;
                if (array.IsNull(r))
                {
                    if (column is Column<string?> strings)
                    {
                        strings.Values[at + i] = null;
                    }

                    column.SetNull(at + i);
                    continue;
                }

                column.SetNull(at + i, false);
                Store(array, r, column, at + i);
            }
        }

        target.Count = at + count;
    }

    private static void Store(IArrowArray array, int r, Column column, int row)
    {
        switch (column.Type)
        {
            case DataType.Boolean:
                ((Column<bool>)column).Values[row] = ((BooleanArray)array).GetValue(r) ?? false;
                break;
            case DataType.Int32:
                ((Column<int>)column).Values[row] = (int)Integer(array, r);
                break;
            case DataType.Int64:
                ((Column<long>)column).Values[row] = Integer(array, r);
                break;
            case DataType.Double:
                ((Column<double>)column).Values[row] = array switch
                {
                    DoubleArray d => d.Values[r],
                    FloatArray f => f.Values[r],
                    Decimal128Array m => (double)(m.GetValue(r) ?? 0m),
                    _ => Integer(array, r),
                };
                break;
            case DataType.Decimal:
                ((Column<decimal>)column).Values[row] = ((Decimal128Array)array).GetValue(r) ?? 0m;
                break;
            case DataType.String:
                ((Column<string?>)column).Values[row] = ((StringArray)array).GetString(r);
                break;
            case DataType.Timestamp:
                ((Column<long>)column).Values[row] = array is TimestampArray t ? ToMillis(t.Values[r], ((TimestampType)t.Data.DataType).Unit) : Integer(array, r);
                break;
        }
    }

    private static long Integer(IArrowArray array, int r) => array switch
    {
        Int64Array a => a.Values[r],
        Int32Array a => a.Values[r],
        Int16Array a => a.Values[r],
        Int8Array a => a.Values[r],
        _ => 0,
    };

    private static long ToMillis(long value, TimeUnit unit) => unit switch
    {
        TimeUnit.Second => value * 1000,
        TimeUnit.Microsecond => Math.DivRem(value, 1000, out var rem) - (rem < 0 ? 1 : 0),
        TimeUnit.Nanosecond => Math.DivRem(value, 1_000_000, out var rem) - (rem < 0 ? 1 : 0),
        _ => value,
    };
}
