using Streams.Engine.Connectors;

namespace Streams.Connectors.Files;

/// <summary>The data formats the file connector reads and writes (<c>format='...'</c>).</summary>
public enum FileFormat
{
    /// <summary>Newline-delimited JSON, one object per line (<c>json</c> or <c>ndjson</c>).</summary>
    Json,
    /// <summary>CSV with a header row (<c>csv</c>).</summary>
    Csv,
    /// <summary>Apache Arrow IPC, file or stream form (<c>arrow</c>).</summary>
    Arrow,
    /// <summary>Debezium JSON change events, one per line (<c>debezium-json</c>): a changelog of inserts, updates and deletes.</summary>
    DebeziumJson,
}

/// <summary>Reading the <c>format</c> option.</summary>
public static class FileFormats
{
    /// <summary>The format named by <paramref name="options"/>' <c>format</c> key; without one, guessed from the path's extension (JSON by default).</summary>
    public static FileFormat Parse(IReadOnlyDictionary<string, string> options, string path)
    {
        if (!options.TryGetValue("format", out var name))
        {
            var ext = Path.GetExtension(path).ToLowerInvariant();
            return ext switch
            {
                ".csv" => FileFormat.Csv,
                ".arrow" or ".arrows" or ".feather" or ".ipc" => FileFormat.Arrow,
                _ => FileFormat.Json,
            };
        }

        return name.Trim().ToLowerInvariant() switch
        {
            "json" or "ndjson" => FileFormat.Json,
            "csv" => FileFormat.Csv,
            "arrow" => FileFormat.Arrow,
            "debezium-json" => FileFormat.DebeziumJson,
            _ => throw new ConnectorException($"unknown format '{name}' (expected 'json', 'csv', 'arrow' or 'debezium-json')"),
        };
    }

    /// <summary>The file-name extension part files of <paramref name="format"/> get.</summary>
    public static string Extension(this FileFormat format) => format switch
    {
        FileFormat.Csv => ".csv",
        FileFormat.Arrow => ".arrow",
        _ => ".ndjson",
    };

    /// <summary>The CSV field delimiter (<c>csv.field-delimiter</c>, one ASCII character, default comma).</summary>
    public static byte CsvDelimiter(IReadOnlyDictionary<string, string> options)
    {
        if (!options.TryGetValue("csv.field-delimiter", out var d))
        {
            return (byte)',';
        }

        d = d == "\\t" ? "\t" : d;
        if (d.Length != 1 || d[0] > 127 || d[0] is '"' or '\n' or '\r')
        {
            throw new ConnectorException($"csv.field-delimiter '{d}' must be one ASCII character other than a quote or line break");
        }

        return (byte)d[0];
    }
}
