using Streams.Engine.Data;

namespace Streams.Engine.Embedding;

/// <summary>Builds the functions that read one result row as a typed value.</summary>
internal static class RowReaders
{
    public static Func<ColumnBatch, int, T> For<T>(Schema schema)
    {
        var type = typeof(T);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(WindowResult<,>))
        {
            return WindowResultReader<T>(schema, type.GetGenericArguments()[0], type.GetGenericArguments()[1]);
        }

        var reader = new RowReader<T>(schema);
        return reader.Read;
    }

    private static Func<ColumnBatch, int, T> WindowResultReader<T>(Schema schema, Type keyType, Type valuesType)
    {
        // Columns: keys..., window_start, window_end, aggregates...
        var windowStart = schema.IndexOf("window_start");
        var keyCount = windowStart;
        var valueCount = schema.Count - windowStart - 2;
        var keyCtor = keyCount == 1 && !IsComposite(keyType, 1) ? null : keyType.GetConstructors().FirstOrDefault(c => c.GetParameters().Length == keyCount);
        var scalarValue = valueCount == 1 && !IsComposite(valuesType, 1);
        var valuesCtor = scalarValue ? null : (valuesType.GetConstructors().FirstOrDefault(c => c.GetParameters().Length == valueCount)
            ?? throw new ArgumentException($"{valuesType.Name} needs a constructor with the {valueCount} aggregates"));
        var ctor = typeof(T).GetConstructors()[0];
        return (batch, row) =>
        {
            object? key;
            if (keyCount == 0)
            {
                key = keyType.IsValueType ? Activator.CreateInstance(keyType) : null;
            }
            else if (keyCtor is null)
            {
                key = ClrTypes.FromStorage(batch.Columns[0].GetBoxed(row), keyType);
            }
            else
            {
                var ps = keyCtor.GetParameters();
                key = keyCtor.Invoke(ps.Select((p, i) => ClrTypes.FromStorage(batch.Columns[i].GetBoxed(row), p.ParameterType)).ToArray());
            }

            var values = valuesCtor is null
                ? ClrTypes.FromStorage(batch.Columns[windowStart + 2].GetBoxed(row), valuesType)
                : valuesCtor.Invoke(valuesCtor.GetParameters().Select((p, i) => ClrTypes.FromStorage(batch.Columns[windowStart + 2 + i].GetBoxed(row), p.ParameterType)).ToArray());
            var start = DateTimeOffset.FromUnixTimeMilliseconds(batch.ColumnAt<long>(windowStart).Values[row]).UtcDateTime;
            var end = DateTimeOffset.FromUnixTimeMilliseconds(batch.ColumnAt<long>(windowStart + 1).Values[row]).UtcDateTime;
            return (T)ctor.Invoke([key, start, end, values]);
        };
    }

    private static bool IsComposite(Type type, int columns) =>
        !(type.IsPrimitive || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTime) || type == typeof(DateTimeOffset) || Nullable.GetUnderlyingType(type) is not null)
        && type.GetConstructors().Any(c => c.GetParameters().Length == columns);
}
