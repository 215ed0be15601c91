using System.Linq.Expressions;
using System.Reflection;
using Streams.Engine.Data;

namespace Streams.Engine.Embedding;

/// <summary>Maps between CLR values and column types: DateTime/DateTimeOffset are TIMESTAMP (Unix ms, UTC).</summary>
internal static class ClrTypes
{
    public static DataType ToDataType(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(bool)) return DataType.Boolean;
        if (t == typeof(int) || t == typeof(short) || t == typeof(byte)) return DataType.Int32;
        if (t == typeof(long)) return DataType.Int64;
        if (t == typeof(double) || t == typeof(float)) return DataType.Double;
        if (t == typeof(decimal)) return DataType.Decimal;
        if (t == typeof(string)) return DataType.String;
        if (t == typeof(DateTime) || t == typeof(DateTimeOffset)) return DataType.Timestamp;
        throw new NotSupportedException($"a member of type {type.Name} cannot be a column (use bool, int, long, double, decimal, string, DateTime or DateTimeOffset)");
    }

    /// <summary>Converts a CLR value to the column's storage value (boxed).</summary>
    public static object? ToStorage(object? value) => value switch
    {
        null => null,
        DateTime d => new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d.ToUniversalTime()).ToUnixTimeMilliseconds(),
        DateTimeOffset o => o.ToUnixTimeMilliseconds(),
        short s => (int)s,
        byte b => (int)b,
        float f => (double)f,
        _ => value,
    };

    /// <summary>Converts a stored value (boxed) to <paramref name="target"/>.</summary>
    public static object? FromStorage(object? value, Type target)
    {
        if (value is null)
        {
            return null;
        }

        var t = Nullable.GetUnderlyingType(target) ?? target;
        if (t == typeof(DateTime))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)value).UtcDateTime;
        }

        if (t == typeof(DateTimeOffset))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)value);
        }

        return t == value.GetType() ? value : Convert.ChangeType(value, t, System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The columns of an event type <typeparamref name="T"/>: its public readable properties and fields in declaration
/// order, and compiled code that writes one event into a batch row.
/// </summary>
internal sealed class EventMapping<T>
{
    private readonly Action<T, ColumnBatch, int> _write;

    public EventMapping(string? eventTimeMember)
    {
        Members = typeof(T).GetMembers(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m is PropertyInfo { CanRead: true } p && p.GetIndexParameters().Length == 0 || m is FieldInfo)
            .OrderBy(m => m.MetadataToken)
            .ToArray();
        var fields = Members.Select(m => new Field(m.Name, ClrTypes.ToDataType(TypeOf(m)))).ToArray();
        var eventTime = eventTimeMember is null ? -1 : Array.FindIndex(Members, m => m.Name == eventTimeMember);
        if (eventTimeMember is not null && (eventTime < 0 || fields[eventTime].Type != DataType.Timestamp))
        {
            throw new ArgumentException($"{typeof(T).Name}.{eventTimeMember} must be a DateTime or DateTimeOffset member to be the event time");
        }

        Schema = new Schema(fields, eventTime);
        _write = CompileWriter();
    }

    public MemberInfo[] Members { get; }

    public Schema Schema { get; }

    public void Write(T item, ColumnBatch batch, int row) => _write(item, batch, row);

    public static Type TypeOf(MemberInfo m) => m is PropertyInfo p ? p.PropertyType : ((FieldInfo)m).FieldType;

    private Action<T, ColumnBatch, int> CompileWriter()
    {
        var item = Expression.Parameter(typeof(T), "item");
        var batch = Expression.Parameter(typeof(ColumnBatch), "batch");
        var row = Expression.Parameter(typeof(int), "row");
        var body = new List<Expression>();
        for (var c = 0; c < Members.Length; c++)
        {
            var member = Expression.MakeMemberAccess(item, Members[c]);
            var storage = Schema[c].Type.ClrType();
            var column = Expression.Call(batch, typeof(ColumnBatch).GetMethod(nameof(ColumnBatch.ColumnAt))!.MakeGenericMethod(storage), Expression.Constant(c));
            var values = Expression.Property(column, "Values");
            var memberType = member.Type;
            var underlying = Nullable.GetUnderlyingType(memberType);
            Expression value = underlying is null ? member : Expression.Property(member, "Value");
            Expression converted = (underlying ?? memberType) switch
            {
                var t when t == typeof(DateTime) => Expression.Call(typeof(EventMapping<T>).GetMethod(nameof(DateTimeMs), BindingFlags.NonPublic | BindingFlags.Static)!, value),
                var t when t == typeof(DateTimeOffset) => Expression.Call(value, typeof(DateTimeOffset).GetMethod(nameof(DateTimeOffset.ToUnixTimeMilliseconds))!),
                var t when t != storage => Expression.Convert(value, storage),
                _ => value,
            };
            var assign = Expression.Assign(Expression.ArrayAccess(values, row), converted);
            var setNotNull = Expression.Call(column, typeof(Column).GetMethod(nameof(Column.SetNull), [typeof(int), typeof(bool)])!, row, Expression.Constant(false));
            var setNull = Expression.Call(column, typeof(Column).GetMethod(nameof(Column.SetNull), [typeof(int)])!, row);
            if (underlying is not null)
            {
                body.Add(Expression.IfThenElse(Expression.Property(member, "HasValue"), Expression.Block(assign, setNotNull), setNull));
            }
            else if (!memberType.IsValueType)
            {
                body.Add(Expression.IfThenElse(Expression.Equal(member, Expression.Constant(null, memberType)), setNull, Expression.Block(Expression.Assign(Expression.ArrayAccess(values, row), Expression.Convert(member, storage)), setNotNull)));
            }
            else
            {
                body.Add(assign);
            }
        }

        body.Add(Expression.Empty());
        return Expression.Lambda<Action<T, ColumnBatch, int>>(Expression.Block(body), item, batch, row).Compile();
    }

    private static long DateTimeMs(DateTime d) => (long)ClrTypes.ToStorage(d)!;
}

/// <summary>Builds <typeparamref name="T"/> values from batch rows: by constructor (records, anonymous types) when one takes every column, else by settable members matched by name.</summary>
internal sealed class RowReader<T>
{
    private readonly Func<object?[], T> _create;

    public RowReader(Schema schema)
    {
        var ctor = typeof(T).GetConstructors().FirstOrDefault(c => c.GetParameters().Length == schema.Count);
        if (ctor is not null)
        {
            var parameters = ctor.GetParameters();
            _create = values => (T)ctor.Invoke(values.Select((v, i) => ClrTypes.FromStorage(v, parameters[i].ParameterType)).ToArray());
            return;
        }

        var members = schema.Fields.Select(f => typeof(T).GetMember(f.Name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase).FirstOrDefault()).ToArray();
        if (typeof(T).GetConstructor(Type.EmptyTypes) is null || members.Any(m => m is null))
        {
            throw new ArgumentException($"{typeof(T).Name} needs a constructor taking the {schema.Count} result columns {schema} in order, or settable members with their names");
        }

        _create = values =>
        {
            var item = Activator.CreateInstance<T>();
            object boxed = item!;
            for (var i = 0; i < values.Length; i++)
            {
                switch (members[i])
                {
                    case PropertyInfo p: p.SetValue(boxed, ClrTypes.FromStorage(values[i], p.PropertyType)); break;
                    case FieldInfo f: f.SetValue(boxed, ClrTypes.FromStorage(values[i], f.FieldType)); break;
                }
            }

            return (T)boxed;
        };
    }

    public T Read(ColumnBatch batch, int row)
    {
        var values = new object?[batch.Columns.Length];
        for (var c = 0; c < values.Length; c++)
        {
            values[c] = batch.Columns[c].GetBoxed(row);
        }

        return _create(values);
    }
}
