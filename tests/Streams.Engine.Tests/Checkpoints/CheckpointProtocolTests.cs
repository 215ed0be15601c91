using Streams.Engine.Checkpoints;
using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Engine.Tests.Checkpoints;

/// <summary>
/// The coordinator protocol driven by a deterministic simulated job: one source with two partitions feeding a
/// two-input counting operator (aligned with <see cref="BarrierAligner"/>) and a two-phase sink. A random scheduler
/// interleaves reads, processing and checkpoints; a "crash" abandons every object and the job restarts from disk.
/// </summary>
public sealed class CheckpointProtocolTests : IDisposable
{
    private const string Plan = "source(nums,2)->count(key)->sink(out)";
    private const int RowsPerPartition = 400;
    private readonly TempStateDirectory _dir = new();
    private readonly string _stateDir;
    private readonly string _sinkDir;
    private readonly List<string> _log = [];

    public CheckpointProtocolTests()
    {
        _stateDir = Path.Combine(_dir.Path, "state");
        _sinkDir = Path.Combine(_dir.Path, "sink");
        Directory.CreateDirectory(_sinkDir);
    }

    public void Dispose() => _dir.Dispose();

    private static long ValueAt(int partition, long offset) => (partition * 7_919) + (offset * 3);

    /// <summary>The sink content of an uninterrupted run: for each key, counts 1..n exactly once.</summary>
    private static List<string> Expected()
    {
        var perKey = new Dictionary<long, long>();
        for (var p = 0; p < 2; p++)
        {
            for (long o = 0; o < RowsPerPartition; o++)
            {
                var key = ValueAt(p, o) % 10;
                perKey[key] = perKey.GetValueOrDefault(key) + 1;
            }
        }

        return [.. perKey.SelectMany(kv => Enumerable.Range(1, (int)kv.Value).Select(c => $"{kv.Key},{c}")).Order(StringComparer.Ordinal)];
    }

    private sealed record Crashes(int AtStep = -1, long InCommitOf = -1, long BeforeAckOf = -1);

    /// <summary>Runs (or resumes) the job; returns true when it finished, false when it "crashed".</summary>
    private bool RunJob(Random random, Crashes crashes)
    {
        var store = new CheckpointStore(_stateDir, retain: 2, _log.Add);
        var sink = new DirectoryTransactionalSink(_sinkDir);
        var recovery = CheckpointCoordinator.Recover(store, PlanFingerprint.Of(Plan), [("out", 0, sink)]);
        if (recovery.AlreadyFinished)
        {
            return true;
        }

        var counter = new CountByKey();
        recovery.RestoreOperator("count", counter);
        var clock = new ManualClock();
        var coordinator = new CheckpointCoordinator(store, PlanFingerprint.Of(Plan), TimeSpan.FromMilliseconds(10), clock);
        coordinator.RegisterSource("nums", 2);
        coordinator.RegisterOperator("count");
        coordinator.RegisterSink("out", 0, id =>
        {
            if (id == crashes.InCommitOf)
            {
                throw new SimulatedCrash($"after manifest {id} was written, before the sink committed");
            }

            sink.Commit(id);
        });

        long[] offsets = [recovery.OffsetOf("nums", 0), recovery.OffsetOf("nums", 1)];
        // Each channel carries rows (value) or barriers (checkpoint id, encoded as ~id) from a partition to the operator.
        var channels = new Queue<long>[] { new(), new() };
        var aligner = new BarrierAligner(2);
        var ended = new bool[2];
        var output = new List<(long Key, long Count)>();
        var pool = new BatchPool();
        var step = 0;
        try
        {
            while (true)
            {
                if (step++ == crashes.AtStep)
                {
                    throw new SimulatedCrash($"at step {step}");
                }

                clock.Advance(TimeSpan.FromMilliseconds(1));
                if (coordinator.TryTrigger(out var barrier))
                {
                    for (var p = 0; p < 2; p++)
                    {
                        coordinator.AcknowledgeSource(barrier.CheckpointId, "nums", p, offsets[p]);
                        channels[p].Enqueue(~barrier.CheckpointId);
                    }
                }

                var candidates = new List<int>();
                for (var p = 0; p < 2; p++)
                {
                    if (offsets[p] < RowsPerPartition)
                    {
                        candidates.Add(p); // read
                    }

                    if (channels[p].Count > 0 && !aligner.IsBlocked(p))
                    {
                        candidates.Add(2 + p); // process
                    }
                }

                if (candidates.Count == 0)
                {
                    if (channels.Any(c => c.Count > 0))
                    {
                        throw new InvalidOperationException("deadlock: both channels blocked");
                    }

                    break;
                }

                var action = candidates[random.Next(candidates.Count)];
                if (action < 2)
                {
                    var n = Math.Min(random.Next(1, 6), RowsPerPartition - offsets[action]);
                    for (var i = 0; i < n; i++)
                    {
                        channels[action].Enqueue(ValueAt(action, offsets[action]++));
                    }

                    continue;
                }

                var input = action - 2;
                var item = channels[input].Dequeue();
                if (item >= 0)
                {
                    counter.Process(item, output);
                    WriteToSink(sink, pool, output);
                    continue;
                }

                if (aligner.OnBarrier(input, new CheckpointBarrier(~item, 0), out var aligned))
                {
                    if (aligned.CheckpointId == crashes.BeforeAckOf)
                    {
                        throw new SimulatedCrash($"while checkpoint {aligned.CheckpointId} was being acknowledged");
                    }

                    coordinator.AcknowledgeOperator(aligned.CheckpointId, "count", counter);
                    sink.PreCommit(aligned.CheckpointId);
                    coordinator.AcknowledgeSink(aligned.CheckpointId, "out", 0, aligned.CheckpointId);
                }
            }

            // End of input: the final checkpoint, acknowledged after the (empty) end-of-input flush.
            var final = coordinator.TriggerFinal();
            for (var p = 0; p < 2; p++)
            {
                coordinator.AcknowledgeSource(final.CheckpointId, "nums", p, offsets[p]);
                ended[p] = aligner.OnEndOfInput(p, out _);
            }

            coordinator.AcknowledgeOperator(final.CheckpointId, "count", counter);
            sink.PreCommit(final.CheckpointId);
            coordinator.AcknowledgeSink(final.CheckpointId, "out", 0, final.CheckpointId);
            Assert.Equal(final.CheckpointId, coordinator.LastCompletedId);
            Assert.Equal(0, pool.Outstanding);
            return true;
        }
        catch (SimulatedCrash)
        {
            return false;
        }
    }

    private static void WriteToSink(DirectoryTransactionalSink sink, BatchPool pool, List<(long Key, long Count)> output)
    {
        using var batch = pool.Rent(DirectoryTransactionalSink.Schema, 16);
        for (var i = 0; i < output.Count; i++)
        {
            batch.ColumnAt<long>(0).Values[i] = output[i].Key;
            batch.ColumnAt<long>(1).Values[i] = output[i].Count;
        }

        batch.Count = output.Count;
        sink.Write(batch);
        output.Clear();
    }

    private List<string> SinkContent() => [.. DirectoryTransactionalSink.CommittedRows(_sinkDir).Order(StringComparer.Ordinal)];

    [Fact]
    public void An_uninterrupted_run_publishes_every_row_once_and_takes_several_checkpoints()
    {
        Assert.True(RunJob(new Random(1), new Crashes()));

        Assert.Equal(Expected(), SinkContent());
        var listing = new CheckpointStore(_stateDir, 2).List();
        Assert.Equal(2, listing.Count);
        Assert.True(listing[0].Manifest!.IsFinal);
        Assert.True(listing[0].Id > 5, $"only {listing[0].Id} checkpoints");
        Assert.Equal(RowsPerPartition, listing[0].Manifest!.OffsetOf("nums", 1));
    }

    [Fact]
    public void Crashes_at_random_moments_leave_output_equal_to_an_uninterrupted_run()
    {
        var random = new Random(20_261_123);
        var crashes = 0;
        // Crash points scattered over the run; each restart resumes from the last complete checkpoint.
        while (!RunJob(random, new Crashes(AtStep: random.Next(5, 600))))
        {
            crashes++;
            Assert.True(crashes < 200, "the job never finished");
        }

        Assert.True(crashes >= 3, $"only {crashes} crashes happened");
        Assert.Equal(Expected(), SinkContent());
    }

    [Fact]
    public void A_crash_between_manifest_write_and_sink_commit_commits_the_covered_transaction_on_recovery()
    {
        var random = new Random(5);
        Assert.False(RunJob(random, new Crashes(InCommitOf: 3)));
        var store = new CheckpointStore(_stateDir, 2, _log.Add);
        Assert.Equal(3, store.LoadLatest(PlanFingerprint.Of(Plan))!.Id);
        var sink = new DirectoryTransactionalSink(_sinkDir);
        Assert.Contains(sink.Pending(), p => p.Id == 3); // durable manifest, unpublished output

        Assert.True(RunJob(random, new Crashes()));

        Assert.Empty(sink.Pending());
        Assert.Equal(Expected(), SinkContent());
    }

    [Fact]
    public void A_transaction_staged_without_a_manifest_is_aborted_on_recovery()
    {
        var random = new Random(9);
        // The operator acknowledged checkpoint 4 and the sink pre-committed, but the run died before the manifest.
        Assert.False(RunJob(random, new Crashes(BeforeAckOf: 4)));
        var sink = new DirectoryTransactionalSink(_sinkDir);
        File.WriteAllLines(Path.Combine(_sinkDir, "pending-00000004"), ["9,999"]);
        var store = new CheckpointStore(_stateDir, 2, _log.Add);
        Assert.Equal(3, store.LoadLatest(PlanFingerprint.Of(Plan))!.Id);

        CheckpointCoordinator.Recover(store, PlanFingerprint.Of(Plan), [("out", 0, sink)]);

        Assert.Empty(sink.Pending());
        Assert.DoesNotContain("9,999", DirectoryTransactionalSink.CommittedRows(_sinkDir));
        Assert.True(RunJob(random, new Crashes()));
        Assert.Equal(Expected(), SinkContent());
    }

    [Fact]
    public void Running_a_finished_job_again_adds_nothing()
    {
        Assert.True(RunJob(new Random(2), new Crashes()));
        var before = SinkContent();
        var files = Directory.GetFiles(_sinkDir).Length;

        Assert.True(RunJob(new Random(3), new Crashes()));

        Assert.Equal(before, SinkContent());
        Assert.Equal(files, Directory.GetFiles(_sinkDir).Length);
    }

    [Fact]
    public void Triggers_respect_the_interval_and_one_checkpoint_in_flight()
    {
        var clock = new ManualClock();
        var store = new CheckpointStore(_stateDir);
        var coordinator = new CheckpointCoordinator(store, "fp", TimeSpan.FromSeconds(1), clock);
        coordinator.RegisterSource("s", 1);

        Assert.False(coordinator.TryTrigger(out _));
        clock.Advance(TimeSpan.FromMilliseconds(1_000));
        Assert.True(coordinator.TryTrigger(out var first));
        Assert.Equal(1, first.CheckpointId);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.False(coordinator.TryTrigger(out _)); // checkpoint 1 still in flight

        coordinator.AcknowledgeSource(1, "s", 0, 42);
        Assert.Equal(1, coordinator.LastCompletedId);
        Assert.True(coordinator.TryTrigger(out var second));
        Assert.Equal(2, second.CheckpointId);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), second.TimestampMs);
    }

    [Fact]
    public void Acknowledgements_for_unknown_checkpoints_or_unregistered_participants_are_errors()
    {
        var clock = new ManualClock();
        var coordinator = new CheckpointCoordinator(new CheckpointStore(_stateDir), "fp", TimeSpan.FromMilliseconds(1), clock);
        coordinator.RegisterSource("s", 1);
        coordinator.RegisterOperator("op");

        var unknown = Assert.Throws<InvalidOperationException>(() => coordinator.AcknowledgeSource(9, "s", 0, 1));
        Assert.Contains("checkpoint 9", unknown.Message, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromMilliseconds(5));
        Assert.True(coordinator.TryTrigger(out var barrier));
        coordinator.AcknowledgeSource(barrier.CheckpointId, "s", 0, 1);
        var extra = Assert.Throws<InvalidOperationException>(() => coordinator.AcknowledgeSource(barrier.CheckpointId, "other", 0, 1));
        Assert.Contains("not registered", extra.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoint_ids_continue_above_every_existing_checkpoint_directory_after_a_restart()
    {
        var store = new CheckpointStore(_stateDir);
        store.Begin(17); // an incomplete checkpoint a crashed run left behind
        var clock = new ManualClock();
        var coordinator = new CheckpointCoordinator(store, "fp", TimeSpan.FromMilliseconds(1), clock);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(coordinator.TryTrigger(out var barrier));
        Assert.Equal(18, barrier.CheckpointId);
    }
}
