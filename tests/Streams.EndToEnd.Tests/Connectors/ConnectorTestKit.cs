using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.EndToEnd.Tests.Connectors;

/// <summary>A folder under the temp directory, deleted with everything in it.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "streams-connectors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name, string content)
    {
        var full = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllText(full, content);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>Keeps dead letters in memory so tests can look at them.</summary>
internal sealed class DeadLetterList : IDeadLetterSink
{
    public List<DeadLetter> Letters { get; } = [];

    public void Report(DeadLetter letter)
    {
        lock (Letters)
        {
            Letters.Add(letter);
        }
    }
}

internal static class ConnectorTestKit
{
    public static ConnectorContext Context(
        Schema schema, string baseDirectory, IDeadLetterSink? deadLetters = null, BatchPool? pool = null, string? allowedRoot = null, params (string Key, string Value)[] options) =>
        new("s", schema, options.ToDictionary(o => o.Key, o => o.Value, StringComparer.OrdinalIgnoreCase), baseDirectory, allowedRoot,
            deadLetters ?? new DeadLetterList(), pool ?? new BatchPool());

    /// <summary>Every live row of every batch of <paramref name="reader"/>, boxed, disposing the batches.</summary>
    public static async Task<List<object?[]>> ReadAll(ISourceReader reader, int maxBatches = int.MaxValue)
    {
        var rows = new List<object?[]>();
        for (var b = 0; b < maxBatches; b++)
        {
            using var batch = await reader.ReadAsync(CancellationToken.None);
            if (batch is null)
            {
                break;
            }

            rows.AddRange(Rows(batch));
        }

        return rows;
    }

    public static List<object?[]> Rows(ColumnBatch batch)
    {
        var rows = new List<object?[]>();
        for (var r = 0; r < batch.Count; r++)
        {
            if (batch.IsLive(r))
            {
                rows.Add(batch.Columns.Select(c => c.GetBoxed(r)).ToArray());
            }
        }

        return rows;
    }

    /// <summary>A batch of <paramref name="schema"/> filled with <paramref name="rows"/> (null = SQL NULL).</summary>
    public static ColumnBatch Batch(BatchPool pool, Schema schema, params object?[][] rows)
    {
        var batch = pool.Rent(schema);
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++)
            {
                batch.Columns[c].SetBoxed(batch.Count, row[c]);
            }

            batch.Count++;
        }

        return batch;
    }

    public static long Millis(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
}
