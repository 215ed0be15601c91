using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Runtime.Sources;
using Streams.Query;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>
/// CUMULATE fires each cumulative window [start, start + k * step) once the watermark passes its own end, as Flink does,
/// not when the whole size-long window ends: the source here stays open after its rows, so a window only shows up
/// while it waits if the watermark alone fired it.
/// </summary>
public class CumulateFiringTests
{
    private const long Second = 1000;
    private static readonly long Start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public async Task Each_step_window_is_emitted_when_the_watermark_passes_its_end()
    {
        // Rows at 1, 5, 12 and 25 s; the watermark trails by 1 s, so it reaches 24 s - 1 ms: the windows ending at 10 s
        // and 20 s are complete, the one ending at 30 s (and the full minute) are not.
        var rows = new[] { 1, 5, 12, 25 }.Select(s => new object?[] { 7L, 1L, Start + (s * Second) }).ToList();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new ConnectorRegistry().Register(new HeldOpenConnector(rows, gate.Task));
        var session = new SqlSession(registry, Path.GetTempPath(), new SqlSessionOptions { Parallelism = 2 });
        session.Prepare("CREATE STREAM s (k BIGINT, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (connector = 'held-open')");
        var query = session.Prepare("""
            SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS total
            FROM TABLE(CUMULATE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '1' MINUTE))
            GROUP BY k, window_start, window_end
            """).Single();
        var output = new RecordingOutput();
        var run = query.RunAsync(output);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (output.Count < 2 && DateTime.UtcNow < deadline && !run.IsCompleted)
            {
                await Task.Delay(20);
            }

            // A little longer, so a window that fired too early (the one ending at 30 s) would show up too.
            await Task.Delay(200);
            Assert.False(run.IsCompleted, "the query ended although its source is still open");
            var early = output.Snapshot();
            Assert.Equal([(Start, Start + (10 * Second), 2L), (Start, Start + (20 * Second), 3L)], early.Select(r => ((long)r[1]!, (long)r[2]!, (long)r[3]!)).Order());
        }
        finally
        {
            gate.SetResult();
        }

        await run.WaitAsync(TimeSpan.FromSeconds(60));

        // End of input fires the rest: every step's window once, with the counts of the rows before its end.
        var all = output.Snapshot().Select(r => ((long)r[2]! - Start) / Second * 100 + (long)r[3]!).Order().ToArray();
        Assert.Equal([1002, 2003, 3004, 4004, 5004, 6004], all);
    }

    /// <summary>A source over fixed rows that stays open (no end of input) until the gate opens.</summary>
    private sealed class HeldOpenConnector(IReadOnlyList<object?[]> rows, Task gate) : IConnectorFactory
    {
        public string Name => "held-open";

        public ISourceConnector CreateSource(ConnectorContext context) => new InMemorySource(context.Schema, [rows], holdOpenUntil: gate);

        public ISinkConnector CreateSink(ConnectorContext context) => throw new ConnectorException("held-open is a source");
    }

    /// <summary>Keeps every result row (tasks write concurrently).</summary>
    private sealed class RecordingOutput : ISqlOutput, ISinkWriter
    {
        private readonly List<object?[]> _rows = [];

        public int Count
        {
            get
            {
                lock (_rows)
                {
                    return _rows.Count;
                }
            }
        }

        public List<object?[]> Snapshot()
        {
            lock (_rows)
            {
                return [.. _rows];
            }
        }

        public ISinkWriter OpenRows(Schema schema) => this;

        public void WriteText(string text)
        {
        }

        public void Write(ColumnBatch batch)
        {
            lock (_rows)
            {
                for (var r = 0; r < batch.Count; r++)
                {
                    if (batch.IsLive(r))
                    {
                        _rows.Add(batch.Columns.Select(c => c.GetBoxed(r)).ToArray());
                    }
                }
            }
        }

        public void Flush()
        {
        }

        public void Dispose()
        {
        }
    }
}
