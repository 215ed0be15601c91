using System.Globalization;
using System.Reflection;

namespace Streams.Server.Commands.Bench.Nexmark;

/// <summary>
/// The Nexmark SQL texts of perf/nexmark (embedded into the CLI at build time, so the bench runs from any directory):
/// the shared source DDL with its placeholders filled in, followed by one query's sink and INSERT.
/// </summary>
internal static class NexmarkQueries
{
    /// <summary>Every query, in the order the benchmark runs them.</summary>
    public static IReadOnlyList<string> All { get; } = ["q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q11", "q12"];

    /// <summary>What <c>streams bench</c> without arguments runs: stateless, join and window queries, quick.</summary>
    public static IReadOnlyList<string> Quick { get; } = ["q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11"];

    /// <summary>Normalises a user's query name (<c>5</c>, <c>Q5</c>, <c>q5</c>) or returns null when there is no such query.</summary>
    public static string? Resolve(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (!n.StartsWith('q'))
        {
            n = "q" + n;
        }

        return All.Contains(n) ? n : null;
    }

    /// <summary>The script that runs <paramref name="query"/> over <paramref name="events"/> generated events.</summary>
    public static string Script(string query, long events, long seed, double rate, int partitions) =>
        Ddl(events, seed, rate, partitions) + "\n" + Text(query);

    /// <summary>The source DDL (person, auction, bid) for <paramref name="events"/> generated events.</summary>
    public static string Ddl(long events, long seed, double rate, int partitions) =>
        Text("ddl")
            .Replace("${EVENTS}", events.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("${SEED}", seed.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("${RATE}", rate.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("${PARTITIONS}", partitions.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>The text of perf/nexmark/<paramref name="name"/>.sql as published with the CLI.</summary>
    public static string Text(string name)
    {
        var resource = $"nexmark.{name}.sql";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the CLI was built without {resource} (perf/nexmark/{name}.sql)");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
