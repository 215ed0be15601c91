namespace Streams.Engine.Data;

/// <summary>A named, typed column of a <see cref="Schema"/>.</summary>
/// <param name="Name">The name with the case it was declared with.</param>
/// <param name="Type">The logical type.</param>
/// <param name="Nullable">Whether the column may hold NULL.</param>
public sealed record Field(string Name, DataType Type, bool Nullable = true);

/// <summary>
/// The ordered columns of a stream. Names resolve case-insensitively, as in Flink SQL; the declared case is kept for output.
/// Schemas are immutable and compared by reference on hot paths, so build one per stream and share it.
/// </summary>
public sealed class Schema : IEquatable<Schema>
{
    private readonly Field[] _fields;
    private readonly Dictionary<string, int> _index;

    /// <summary>Creates a schema. <paramref name="eventTimeIndex"/> names the event-time column, or -1 when there is none.</summary>
    public Schema(IEnumerable<Field> fields, int eventTimeIndex = -1)
    {
        _fields = fields.ToArray();
        _index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < _fields.Length; i++)
        {
            _index.TryAdd(_fields[i].Name, i);
        }

        if (eventTimeIndex >= _fields.Length || (eventTimeIndex >= 0 && _fields[eventTimeIndex].Type != DataType.Timestamp))
        {
            throw new ArgumentException("the event-time column must be a TIMESTAMP column of the schema", nameof(eventTimeIndex));
        }

        EventTimeIndex = eventTimeIndex;
    }

    /// <summary>The columns in order.</summary>
    public IReadOnlyList<Field> Fields => _fields;

    /// <summary>How many columns there are.</summary>
    public int Count => _fields.Length;

    /// <summary>The column at <paramref name="index"/>.</summary>
    public Field this[int index] => _fields[index];

    /// <summary>The index of the event-time (rowtime) column, or -1.</summary>
    public int EventTimeIndex { get; }

    /// <summary>The index of the column called <paramref name="name"/> (case-insensitive), or -1.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out var i) ? i : -1;

    /// <summary>A copy of this schema with another event-time column.</summary>
    public Schema WithEventTime(int eventTimeIndex) => new(_fields, eventTimeIndex);

    /// <inheritdoc />
    public bool Equals(Schema? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            (EventTimeIndex == other.EventTimeIndex && _fields.AsSpan().SequenceEqual(other._fields)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Schema);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(EventTimeIndex);
        foreach (var f in _fields)
        {
            hash.Add(f);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() =>
        "(" + string.Join(", ", _fields.Select((f, i) => $"{f.Name} {f.Type.SqlName()}{(i == EventTimeIndex ? " ROWTIME" : "")}")) + ")";
}
