using System.Globalization;
using System.Text;
using Streams.Connectors;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Query;
using Streams.Query.Execution;

namespace Streams.EndToEnd.Tests.Checkpoints;

/// <summary>
/// Every window kind and the stateless operators around it (window expansion, row replication, filters, projections)
/// run under checkpointing: an INSERT INTO with a state directory writes what the same job writes without one. An
/// operator that is neither checkpointable nor marked stateless makes a checkpointed job refuse to start, so a new
/// operator that forgets its marker fails here rather than in a user's `--state-dir` run.
/// </summary>
public sealed class CheckpointedWindowKindsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("streams-checkpointed-windows-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string> Queries => new()
    {
        { "tumble", "SELECT window_start, k, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY window_start, window_end, k" },
        { "hop", "SELECT window_start, k, COUNT(*) AS n FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '3' SECOND)) GROUP BY window_start, window_end, k" },
        { "cumulate", "SELECT window_end AS window_start, k, COUNT(*) AS n FROM TABLE(CUMULATE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '4' SECOND)) GROUP BY window_start, window_end, k" },
        { "session", "SELECT window_start, k, COUNT(*) AS n FROM TABLE(SESSION(TABLE s PARTITION BY k, DESCRIPTOR(ts), INTERVAL '500' MILLISECOND)) GROUP BY window_start, window_end, k" },
        { "filter-project", "SELECT ts AS window_start, k * 10 AS k, v AS n FROM s WHERE v > 3" },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task A_checkpointed_INSERT_INTO_writes_what_the_unchecked_job_writes(string name, string select)
    {
        var input = new StringBuilder();
        for (var i = 0; i < 5_000; i++)
        {
            // 20 ms apart, with a 1.2 s gap after every 97 rows that closes the sessions: many windows of each kind.
            var ts = (i * 20L) + (i / 97 * 1_200L);
            input.Append(CultureInfo.InvariantCulture, $"{{\"k\":{i % 7},\"v\":{i % 11},\"ts\":{ts}}}\n");
        }

        File.WriteAllText(Path.Combine(_dir, "in.ndjson"), input.ToString());

        var unchecked_ = await RunAsync(name, select, "out-plain", checkpoints: null);
        var checkedOutput = await RunAsync(name, select, "out-checked", new SqlCheckpointOptions(Path.Combine(_dir, "state-" + name), TimeSpan.FromMilliseconds(20)));

        Assert.True(unchecked_.Count > 100, $"{name}: only {unchecked_.Count} rows");
        Assert.Equal(unchecked_, checkedOutput);
    }

    private async Task<List<string>> RunAsync(string name, string select, string output, SqlCheckpointOptions? checkpoints)
    {
        var registry = ConnectorCatalog.RegisterAll(new ConnectorRegistry());
        var session = new SqlSession(registry, _dir, new SqlSessionOptions { Parallelism = 2, Checkpoints = checkpoints });
        var statements = session.Prepare($"""
            CREATE STREAM s (k BIGINT, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '100' MILLISECOND) WITH (connector = 'file', path = 'in.ndjson', format = 'json');
            CREATE TABLE out_t (window_start TIMESTAMP(3), k BIGINT, n BIGINT) WITH (connector = 'file', path = '{output}-{name}', format = 'json');
            INSERT INTO out_t {select};
            """);
        foreach (var statement in statements)
        {
            await statement.RunAsync(new NoOutput());
        }

        var lines = Directory.EnumerateFiles(Path.Combine(_dir, $"{output}-{name}")).Where(f => !Path.GetFileName(f).StartsWith('.')).SelectMany(File.ReadLines).ToList();
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>INSERT INTO writes to its sink; nothing reaches the console output.</summary>
    private sealed class NoOutput : ISqlOutput
    {
        public ISinkWriter OpenRows(Schema schema) => throw new InvalidOperationException("an INSERT INTO printed rows");

        public void WriteText(string text)
        {
        }
    }
}
