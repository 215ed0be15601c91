using System.Globalization;
using System.Text;
using Streams.Engine.Log;

namespace Streams.EndToEnd.Tests.Checkpoints;

/// <summary>
/// SQL jobs writing to a <c>log</c>-connector sink under <c>--state-dir</c>, SIGKILLed 20 times at random moments and
/// restarted each time: the topic read with read_committed must equal an uninterrupted run as a multiset, and running the
/// finished job again must publish nothing more.
/// </summary>
public sealed class LogSinkKillNineTests : IDisposable
{
    private const int Rows = 2_000_000;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "streams-logkill9-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private void AssertExactlyOnce(IReadOnlyDictionary<string, string> files, int seed, int minimumRows)
    {
        SqlKillHarness.AssertKilledRunMatchesUninterrupted(_dir, dir =>
        {
            foreach (var (name, text) in files)
            {
                File.WriteAllText(Path.Combine(dir, name), text);
            }
        }, dir => SqlKillHarness.CommittedLogValues(dir), seed, minimumRows);

        // Killed runs left aborted data behind; read_uncommitted shows it, read_committed never does.
        var committed = SqlKillHarness.CommittedLogValues(_dir);
        Assert.True(SqlKillHarness.CommittedLogValues(_dir, IsolationLevel.ReadUncommitted).Count >= committed.Count);

        SqlKillHarness.RunToEnd(_dir);
        Assert.Equal(committed, SqlKillHarness.CommittedLogValues(_dir));
    }

    [Fact]
    public void A_tumbling_window_aggregate_into_a_log_sink_killed_20_times_commits_exactly_the_uninterrupted_output()
    {
        var input = SqlKillHarness.DisorderedKeyedRows(Rows);

        AssertExactlyOnce(new Dictionary<string, string> { ["in.ndjson"] = input, ["q.sql"] = """
            CREATE STREAM s (id BIGINT, k BIGINT, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (connector = 'file', path = 'in.ndjson', format = 'json');
            CREATE TABLE out_t (window_start TIMESTAMP(3), k BIGINT, n BIGINT, total BIGINT, hi BIGINT) WITH (connector = 'log', topic = 'out', 'data-dir' = 'data', partitions = '2', fsync = 'never');
            INSERT INTO out_t SELECT window_start, k, COUNT(*) AS n, SUM(v) AS total, MAX(v) AS hi
            FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;
            """ }, seed: 31, minimumRows: Rows * 3 / 10_000 * 50);
    }

    [Fact]
    public void An_interval_join_into_a_log_sink_killed_20_times_commits_exactly_the_uninterrupted_output()
    {
        var orders = new StringBuilder();
        var payments = new StringBuilder();
        for (var i = 0; i < Rows / 2; i++)
        {
            var ts = i * 2L + (i * 7919L % 300);
            orders.Append(CultureInfo.InvariantCulture, $"{{\"id\":{i},\"amount\":{i % 1000},\"ts\":{ts}}}\n");
            // Most payments fall inside the 1 s interval before their order, every 10th one outside it.
            var paid = i % 10 == 0 ? ts - 1_500 : ts - (i * 131L % 900);
            payments.Append(CultureInfo.InvariantCulture, $"{{\"order_id\":{i},\"paid\":{i % 1000},\"ts\":{paid}}}\n");
        }

        AssertExactlyOnce(new Dictionary<string, string>
        {
            ["orders.ndjson"] = orders.ToString(),
            ["payments.ndjson"] = payments.ToString(),
            ["q.sql"] = """
                CREATE STREAM o (id BIGINT, amount BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (connector = 'file', path = 'orders.ndjson', format = 'json');
                CREATE STREAM p (order_id BIGINT, paid BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (connector = 'file', path = 'payments.ndjson', format = 'json');
                CREATE TABLE out_t (id BIGINT, amount BIGINT, paid BIGINT) WITH (connector = 'log', topic = 'out', 'data-dir' = 'data', partitions = '2', fsync = 'never', 'key.field' = 'id');
                INSERT INTO out_t SELECT o.id, o.amount, p.paid FROM o JOIN p ON o.id = p.order_id AND p.ts BETWEEN o.ts - INTERVAL '1' SECOND AND o.ts;
                """,
        }, seed: 37, minimumRows: Rows / 2 * 9 / 10);
    }
}
