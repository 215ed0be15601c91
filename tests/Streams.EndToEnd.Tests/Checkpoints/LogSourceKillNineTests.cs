using System.Globalization;
using System.Text;
using System.Text.Json;
using Streams.Engine.Checkpoints;
using Streams.Engine.Log;

namespace Streams.EndToEnd.Tests.Checkpoints;

/// <summary>
/// A SQL job reading a <c>log</c> topic (read_committed) and writing a <c>log</c> sink under <c>--state-dir</c>, SIGKILLed at
/// random moments and restarted each time: the sink read with read_committed must equal an uninterrupted run, the aborted
/// and still open input transactions must never reach it, the source must resume from the offsets in the manifest, and
/// running the finished job again must publish nothing more.
/// </summary>
public sealed class LogSourceKillNineTests : IDisposable
{
    private const int Rows = 500_000;
    private const int ChunkRows = 1_000;
    private const int PoisonValue = 1_000_000;
    private const int Kills = 12;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "streams-logsrckill9-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>
    /// Writes the input topic <c>in</c> (2 partitions, keyed by k): every 4th chunk of rows as plain appends, the others in
    /// committed transactions; inside every 4th of those another producer writes poison rows (v = 1,000,000) in a
    /// transaction it aborts, and at the end it leaves one open.
    /// </summary>
    private static void WriteInput(string dir)
    {
        using var store = LogStore.Open(Path.Combine(dir, "data"), report: _ => { });
        var topic = store.CreateTopic("in", new TopicConfig { Partitions = 2, Fsync = FsyncMode.Never });
        var upstream = new TransactionalProducer(TransactionalProducer.IdFor("upstream"), 0);
        var poison = new TransactionalProducer(TransactionalProducer.IdFor("upstream-poison"), 0);
        RecordBatchBuilder[] chunk = [new(), new()];
        RecordBatchBuilder[] poisonChunk = [new(), new()];
        var chunkIndex = 0;
        for (var i = 0; i < Rows; i++)
        {
            var ts = i * 3L + (i * 7919L % 500);
            var k = i * 31 % 50;
            var key = Encoding.UTF8.GetBytes(k.ToString(CultureInfo.InvariantCulture));
            var p = topic.PartitionFor(key);
            Assert.True(chunk[p].TryAdd(key, Encoding.UTF8.GetBytes($"{{\"id\":{i},\"k\":{k},\"v\":{i % 97},\"ts\":{ts}}}"), ts));
            if (i % 20 == 0)
            {
                Assert.True(poisonChunk[p].TryAdd(key, Encoding.UTF8.GetBytes($"{{\"id\":-1,\"k\":{k},\"v\":{PoisonValue},\"ts\":{ts}}}"), ts));
            }

            if ((i + 1) % ChunkRows != 0 && i != Rows - 1)
            {
                continue;
            }

            for (var part = 0; part < 2; part++)
            {
                var log = topic.Partitions[part];
                if (chunkIndex % 4 == 0)
                {
                    log.Append(chunk[part]);
                }
                else
                {
                    upstream.Send(log, chunk[part]);
                    if (chunkIndex % 4 == 2)
                    {
                        // The aborted transaction lies inside the committed one's range on the same partition.
                        poison.Send(log, poisonChunk[part]);
                        poison.Abort(log);
                    }

                    upstream.Commit(log);
                }

                chunk[part].Clear();
                poisonChunk[part].Clear();
            }

            chunkIndex++;
        }

        // An upstream job that stopped mid-transaction: a bounded read_committed source stops before it.
        Assert.True(poisonChunk[0].TryAdd("0"u8, Encoding.UTF8.GetBytes($"{{\"id\":-1,\"k\":0,\"v\":{PoisonValue},\"ts\":1}}"), 1));
        poison.Send(topic.Partitions[0], poisonChunk[0]);
        topic.Flush();
        foreach (var b in chunk.Concat(poisonChunk))
        {
            b.Dispose();
        }
    }

    /// <summary>The newest complete checkpoint's id and source offsets (per partition of <c>in</c>), or null when there is none.</summary>
    private static (long Id, long[] Offsets)? ResumePoint(string dir)
    {
        // One INSERT statement: its checkpoints live under state/insert-1.
        var newest = new CheckpointStore(Path.Combine(dir, "state", "insert-1"), retain: int.MaxValue, log: _ => { }).List()
            .FirstOrDefault(l => l.Status == CheckpointStatus.Complete);
        return newest?.Manifest is { } m ? (newest.Id, [.. m.Sources.OrderBy(s => s.Partition).Select(s => s.Offset)]) : null;
    }

    /// <summary>
    /// The newest checkpoint with a manifest, looked up cheaply while the job runs (names only: the job deletes old
    /// checkpoints meanwhile, so reading and verifying them here could race with it).
    /// </summary>
    private static long NewestManifestId(string dir)
    {
        var checkpoints = Path.Combine(dir, "state", "insert-1", "checkpoints");
        if (!Directory.Exists(checkpoints))
        {
            return 0;
        }

        var newest = 0L;
        foreach (var path in Directory.EnumerateDirectories(checkpoints, "chk-*"))
        {
            if (long.TryParse(Path.GetFileName(path).AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var id) &&
                id > newest && File.Exists(Path.Combine(path, CheckpointStore.ManifestFileName)))
            {
                newest = id;
            }
        }

        return newest;
    }

    /// <summary>The last stable offsets of the input partitions: where a bounded read_committed read ends.</summary>
    private static long[] InputStableOffsets(string dir)
    {
        using var store = LogStore.Open(Path.Combine(dir, "data"), create: false, report: _ => { });
        return [.. store.OpenTopic("in", writable: false).Partitions.Select(p => p.LastStableOffset)];
    }

    [Fact]
    public void A_window_aggregate_reading_a_log_topic_read_committed_into_a_log_sink_killed_repeatedly_commits_exactly_the_uninterrupted_output()
    {
        const string query = """
            CREATE STREAM s (id BIGINT, k BIGINT, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH (connector = 'log', topic = 'in', 'data-dir' = 'data', 'scan.bounded.mode' = 'latest-offset', 'isolation.level' = 'read_committed');
            CREATE TABLE out_t (window_start TIMESTAMP(3), k BIGINT, n BIGINT, total BIGINT, hi BIGINT)
              WITH (connector = 'log', topic = 'out', 'data-dir' = 'data', partitions = '2', fsync = 'never');
            INSERT INTO out_t SELECT window_start, k, COUNT(*) AS n, SUM(v) AS total, MAX(v) AS hi
            FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;
            """;
        var killed = Path.Combine(_root, "killed");
        var reference = Path.Combine(_root, "reference");
        foreach (var dir in new[] { killed, reference })
        {
            Directory.CreateDirectory(dir);
            WriteInput(dir);
            File.WriteAllText(Path.Combine(dir, "q.sql"), query);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        SqlKillHarness.RunToEnd(reference);
        var referenceMs = clock.ElapsedMilliseconds;
        var expected = SqlKillHarness.CommittedLogValues(reference);
        Assert.True(expected.Count >= Rows * 3 / 10_000 * 50, $"the uninterrupted run wrote only {expected.Count} rows");

        // Each run is killed at a random moment after it completed a checkpoint of its own, however slow the machine is, so
        // every restart resumes from offsets in the middle of the topic that the previous run's manifest recorded.
        var random = new Random(43);
        var resumePoints = new List<long[]>();
        var kills = 0;
        while (kills < Kills)
        {
            var before = NewestManifestId(killed);
            using var process = SqlKillHarness.Start(killed);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!process.HasExited && NewestManifestId(killed) == before && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(10);
            }

            if (process.WaitForExit(random.Next(0, 150)))
            {
                SqlKillHarness.AssertExitedCleanly(process, $"restart {kills}");
                break;
            }

            process.Kill();
            process.WaitForExit();
            kills++;
            resumePoints.Add(ResumePoint(killed)!.Value.Offsets);
        }

        SqlKillHarness.RunToEnd(killed);
        // A fast machine may get through the input in fewer runs; every kill still came after a checkpoint of its own run.
        Assert.True(kills >= Kills / 2, $"the job finished after {kills} kills (the uninterrupted run took {referenceMs} ms): give it more input");
        Assert.Equal(expected, SqlKillHarness.CommittedLogValues(killed));

        // The output counts every committed input row once and no aborted or open one.
        var rows = SqlKillHarness.CommittedLogValues(killed).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(Rows, rows.Sum(r => r.GetProperty("n").GetInt64()));
        Assert.Equal(Enumerable.Range(0, Rows).Sum(i => (long)(i % 97)), rows.Sum(r => r.GetProperty("total").GetInt64()));
        Assert.All(rows, r => Assert.True(r.GetProperty("hi").GetInt64() < 97));

        // Restarts resumed from offsets inside the topic that the manifests recorded, moving forward to where read_committed ends.
        var end = InputStableOffsets(killed);
        Assert.All(resumePoints, o => Assert.Equal(2, o.Length));
        Assert.Contains(resumePoints, o => o.Zip(end).Any(x => x.First > 0 && x.First < x.Second));
        for (var i = 1; i < resumePoints.Count; i++)
        {
            Assert.All(resumePoints[i].Zip(resumePoints[i - 1]), x => Assert.True(x.First >= x.Second, "a later checkpoint resumes from an earlier offset"));
        }

        Assert.Equal(end, ResumePoint(killed)!.Value.Offsets);

        // The finished job run again reads nothing new and publishes nothing.
        var committed = SqlKillHarness.CommittedLogValues(killed);
        SqlKillHarness.RunToEnd(killed);
        Assert.Equal(committed, SqlKillHarness.CommittedLogValues(killed));
    }
}
