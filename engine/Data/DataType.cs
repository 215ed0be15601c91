namespace Streams.Engine.Data;

/// <summary>The logical value types a column can hold. Each maps to one physical CLR element type.</summary>
public enum DataType : byte
{
    /// <summary>The type of an untyped NULL literal; never the type of a stored column.</summary>
    Null = 0,
    /// <summary>BOOLEAN, stored as <see cref="bool"/>.</summary>
    Boolean,
    /// <summary>INT, stored as <see cref="int"/>.</summary>
    Int32,
    /// <summary>BIGINT, stored as <see cref="long"/>.</summary>
    Int64,
    /// <summary>DOUBLE, stored as <see cref="double"/>.</summary>
    Double,
    /// <summary>DECIMAL(p,s), stored as <see cref="decimal"/>.</summary>
    Decimal,
    /// <summary>VARCHAR / STRING, stored as <see cref="string"/>.</summary>
    String,
    /// <summary>TIMESTAMP(3), stored as <see cref="long"/> milliseconds since the Unix epoch, UTC.</summary>
    Timestamp,
}

/// <summary>Facts about <see cref="DataType"/> values.</summary>
public static class DataTypes
{
    /// <summary>The CLR element type a column of <paramref name="type"/> stores.</summary>
    public static Type ClrType(this DataType type) => type switch
    {
        DataType.Boolean => typeof(bool),
        DataType.Int32 => typeof(int),
        DataType.Int64 => typeof(long),
        DataType.Double => typeof(double),
        DataType.Decimal => typeof(decimal),
        DataType.String => typeof(string),
        DataType.Timestamp => typeof(long),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no storage type"),
    };

    /// <summary>The SQL spelling of the type, as shown by DESCRIBE and in error messages.</summary>
    public static string SqlName(this DataType type) => type switch
    {
        DataType.Null => "NULL",
        DataType.Boolean => "BOOLEAN",
        DataType.Int32 => "INT",
        DataType.Int64 => "BIGINT",
        DataType.Double => "DOUBLE",
        DataType.Decimal => "DECIMAL",
        DataType.String => "VARCHAR",
        DataType.Timestamp => "TIMESTAMP(3)",
        _ => type.ToString(),
    };

    /// <summary>True for types that take part in arithmetic.</summary>
    public static bool IsNumeric(this DataType type) =>
        type is DataType.Int32 or DataType.Int64 or DataType.Double or DataType.Decimal;
}
