using System.Globalization;
using System.Text;
using Streams.Engine.Checkpoints;
using Streams.Engine.Log;

namespace Streams.EndToEnd.Tests.Log;

/// <summary>
/// <c>streams run</c> with a <c>log</c> sink restarted after the log aborted, on timeout, the transaction of the checkpoint
/// it resumes from: the run fails with the reason (every time) until the sink accepts the loss.
/// </summary>
public sealed class LogSinkTimeoutTests : IDisposable
{
    private const int Rows = 1_000_000;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "streams-logtimeout-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>The system clock two minutes ago: a transaction begun with it is already past a one-minute timeout now.</summary>
    private sealed class TwoMinutesAgo : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() - TimeSpan.FromMinutes(2);
    }

    private void WriteQuery(string onRecovery) =>
        File.WriteAllText(Path.Combine(_dir, "q.sql"), $"""
            CREATE STREAM s (id BIGINT, v BIGINT) WITH (connector = 'file', path = 'in.ndjson', format = 'json');
            CREATE TABLE out_t (id BIGINT, v BIGINT) WITH (connector = 'log', topic = 'out', 'data-dir' = 'data', fsync = 'never',
              'transaction.timeout.ms' = '60000', 'transaction.timeout.on-recovery' = '{onRecovery}');
            INSERT INTO out_t SELECT id, v FROM s;
            """);

    private Task<(int Exit, string Out, string Err)> Run(string onRecovery)
    {
        WriteQuery(onRecovery);
        // The same settings as SqlKillHarness.Start (the state directory is tied to the plan, parallelism included).
        return StreamsCli.RunAsync(null, "run", Path.Combine(_dir, "q.sql"), "--state-dir", Path.Combine(_dir, "state"), "--checkpoint-interval", "100ms", "--parallelism", "2");
    }

    private List<long> CommittedIds()
    {
        using var store = LogStore.Open(Path.Combine(_dir, "data"), create: false, report: _ => { });
        var ids = new List<long>();
        var log = store.OpenTopic("out", writable: false).Partitions[0];
        var offset = 0L;
        while (true)
        {
            using var fetched = log.Fetch(offset, 16 << 20);
            if (fetched.IsEmpty)
            {
                break;
            }

            foreach (var record in fetched)
            {
                ids.Add(System.Text.Json.JsonDocument.Parse(record.Value.ToArray()).RootElement.GetProperty("id").GetInt64());
            }

            offset = fetched.NextOffset;
        }

        ids.Sort();
        return ids;
    }

    /// <summary>Prepares, on a producer slot of the sink's task 0 with nothing open, a transaction holding the row id -1 under <paramref name="tag"/>.</summary>
    private void StageCrashedTransaction(long tag, TimeProvider clock)
    {
        using var store = LogStore.Open(Path.Combine(_dir, "data"), create: false, report: _ => { }, clock: clock);
        var log = store.OpenTopic("out").Partitions[0];
        var id = Enumerable.Range(0, 4).Select(slot => TransactionalProducer.IdFor($"out_t#0/{slot}")).First(p => log.OpenTransactions.All(t => t.ProducerId != p));
        var crashed = new TransactionalProducer(id, TransactionalProducer.NextEpoch(id, [log]), timeoutMs: 60_000);
        using var batch = new RecordBatchBuilder();
        batch.TryAddUnkeyed(Encoding.UTF8.GetBytes("{\"id\":-1,\"v\":0}"), 0);
        crashed.Send(log, batch);
        crashed.Prepare(log, tag);
    }

    private long NewestCompleteCheckpoint() =>
        new CheckpointStore(Path.Combine(_dir, "state", "insert-1"), retain: int.MaxValue, log: _ => { }).List()
            .First(l => l.Status == CheckpointStatus.Complete).Id;

    private void WriteInput(int rows)
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "in.ndjson"), string.Concat(Enumerable.Range(0, rows).Select(i => string.Create(CultureInfo.InvariantCulture, $"{{\"id\":{i},\"v\":{i % 7}}}\n"))));
    }

    [Fact]
    public async Task A_rerun_of_a_finished_job_publishes_the_final_checkpoints_output_whose_commit_a_crash_cut_off()
    {
        WriteInput(1_000);
        var first = await Run("fail");
        Assert.True(first.Exit == 0, first.Err);

        // A crash right after the final manifest: its epoch's transaction is prepared under the final checkpoint, not committed.
        StageCrashedTransaction(NewestCompleteCheckpoint(), TimeProvider.System);
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => (long)i), CommittedIds());

        var rerun = await Run("fail");
        Assert.True(rerun.Exit == 0, rerun.Err);
        Assert.Equal(Enumerable.Range(-1, 1_001).Select(i => (long)i), CommittedIds());
        Assert.True((await Run("fail")).Exit == 0);
        Assert.Equal(Enumerable.Range(-1, 1_001).Select(i => (long)i), CommittedIds());
    }

    [Fact]
    public async Task A_restart_after_the_timeout_aborted_the_output_of_its_checkpoint_fails_with_the_reason_until_the_loss_is_accepted()
    {
        WriteInput(Rows);
        var checkpoints = Path.Combine(_dir, "state", "insert-1", "checkpoints");
        WriteQuery("fail");

        // The job dies (SIGKILL) once it completed a checkpoint, before reaching the end of its input.
        using (var job = Checkpoints.SqlKillHarness.Start(_dir))
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            // File names only while the job runs: it deletes old checkpoints, so verifying them now could race with it.
            while (!job.HasExited && !(Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, CheckpointStore.ManifestFileName, SearchOption.AllDirectories).Any())
                   && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(10);
            }

            Assert.False(job.HasExited, "the job finished before it could be killed: give it more input");
            job.Kill();
            await job.WaitForExitAsync();
        }

        var resumeFrom = NewestCompleteCheckpoint();
        var published = CommittedIds();

        // What a crash between checkpoint N's manifest and its commit leaves, once the job stayed down past its one-minute
        // timeout: a transaction of the sink prepared under N, begun two minutes ago.
        StageCrashedTransaction(resumeFrom, new TwoMinutesAgo());

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var refused = await Run("fail");
            Assert.Equal(published, CommittedIds());
            Assert.Equal(1, refused.Exit);
            Assert.Contains($"cannot resume from checkpoint {resumeFrom}: the output of checkpoint {resumeFrom} on topic 'out' partition 0", refused.Err);
            Assert.Contains("outlived its timeout of 60000 ms", refused.Err);
            Assert.Contains("'transaction.timeout.on-recovery' = 'accept-loss'", refused.Err);
        }

        var accepted = await Run("accept-loss");
        Assert.True(accepted.Exit == 0, accepted.Err);
        Assert.Contains($"resuming from checkpoint {resumeFrom} and accepting a loss", accepted.Err);
        Assert.Equal(Enumerable.Range(0, Rows).Select(i => (long)i), CommittedIds());

        // Accepted once, the loss no longer stops the job.
        var again = await Run("fail");
        Assert.True(again.Exit == 0, again.Err);
        Assert.Equal(Enumerable.Range(0, Rows).Select(i => (long)i), CommittedIds());
    }
}
