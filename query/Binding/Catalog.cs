using Streams.Engine.Data;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

/// <summary>A declared stream, table or view.</summary>
internal sealed class CatalogEntry
{
    public required string Name { get; init; }

    /// <summary>STREAM, TABLE or VIEW.</summary>
    public required string Kind { get; init; }

    /// <summary>The columns a connector reads (for views: the view's output).</summary>
    public required Schema Schema { get; init; }

    /// <summary>Computed columns (name AS expr) appended after the physical ones.</summary>
    public IReadOnlyList<ColumnDef> Computed { get; init; } = [];

    public IReadOnlyList<KeyValuePair<string, string>> Options { get; init; } = [];

    /// <summary>How far behind the largest event time seen the watermark trails.</summary>
    public long WatermarkDelayMs { get; init; }

    public IReadOnlyList<string> PrimaryKey { get; init; } = [];

    /// <summary>The computed column the WATERMARK is declared on, when it is not a physical one.</summary>
    public string? ComputedWatermark { get; init; }

    /// <summary>The defining query of a view.</summary>
    public QueryExpr? ViewQuery { get; init; }

    public SourcePosition Pos { get; init; }

    public string? Option(string key) => Options.LastOrDefault(o => o.Key.Equals(key, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>
    /// True when the connector reads a changelog (format <c>debezium-json</c>): its rows insert, update and delete, so
    /// every operator above it takes retractions, and writing to it keeps every change instead of the final result.
    /// </summary>
    public bool IsChangelog => (Option("format") ?? Option("value.format")) is { } format && format.Equals("debezium-json", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The names a script has declared, resolved case-insensitively.</summary>
internal sealed class Catalog
{
    private readonly Dictionary<string, CatalogEntry> _entries = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<CatalogEntry> Entries => _entries.Values;

    public bool TryGet(string name, out CatalogEntry entry) => _entries.TryGetValue(name, out entry!);

    public CatalogEntry Get(string name, SourcePosition pos)
    {
        if (_entries.TryGetValue(name, out var e))
        {
            return e;
        }

        throw new SqlException(pos, $"unknown stream or table `{name}`" + NameSuggestion.Hint(name, _entries.Values.Select(v => v.Name)));
    }

    public void Add(CatalogEntry entry, bool ifNotExists)
    {
        if (_entries.ContainsKey(entry.Name))
        {
            if (ifNotExists)
            {
                return;
            }

            throw new SqlException(entry.Pos, $"`{entry.Name}` already exists");
        }

        _entries[entry.Name] = entry;
    }

    public bool Remove(string name) => _entries.Remove(name);
}
