using System.Globalization;
using Streams.Engine.Checkpoints;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Runtime;
using Streams.Engine.State;

namespace Streams.Engine.Tests.Checkpoints;

/// <summary>
/// Checkpointing wired into the runtime's executor: a keyed running count over three source partitions into a
/// two-phase sink, cancelled at random moments (the process "dies": nothing more is written) and restarted on the
/// same state directory until it finishes; the committed output must equal an uninterrupted run.
/// </summary>
public sealed class JobCheckpointingTests : IDisposable
{
    private const int Partitions = 3;
    private const int RowsPerPartition = 2_000;
    private const int Keys = 17;
    private static readonly Schema Input = new([new Field("key", DataType.Int64), new Field("value", DataType.Int64)]);
    private readonly TempStateDirectory _dir = new();
    private readonly string _stateDir;
    private readonly string _sinkDir;

    public JobCheckpointingTests()
    {
        _stateDir = Path.Combine(_dir.Path, "state");
        _sinkDir = Path.Combine(_dir.Path, "sink");
        Directory.CreateDirectory(_sinkDir);
    }

    public void Dispose() => _dir.Dispose();

    private static string Fingerprint(int parallelism) => PlanFingerprint.Of($"nums({Partitions})->keyBy(key)->count[{parallelism}]->sink");

    private (Job Job, JobCheckpointing Checkpointing) Build(TimeSpan interval, int parallelism = 2, List<string>? log = null, bool countTwice = false)
    {
        var checkpointing = new JobCheckpointing(_stateDir, Fingerprint(parallelism), interval, retain: 2, log: log is null ? null : log.Add);
        var pool = new BatchPool();
        var graph = new JobGraph(new JobOptions { Parallelism = parallelism, BatchSize = 64, ChannelCapacity = 4, Pool = pool, Checkpoints = checkpointing, Name = "count" });
        var counts = graph.Source("nums", new SlowSource(pool), Input)
            .KeyBy(0)
            .Apply("count", DirectoryTransactionalSink.Schema, _ => new RunningCount(pool));
        if (countTwice)
        {
            // Key k comes out of the first count once per input row of k, so counting again per key gives the same rows.
            counts = counts.KeyBy(0).Apply("count", DirectoryTransactionalSink.Schema, _ => new RunningCount(pool));
        }

        counts.To(new DirectorySinkConnector(_sinkDir));
        return (graph.Build(), checkpointing);
    }

    /// <summary>Runs the job, cancelling it at random moments and restarting it until it finishes; returns the kills and the restarts that resumed from a checkpoint.</summary>
    private static async Task<(int Kills, int Resumed)> RunUnderKills(Func<(Job Job, JobCheckpointing Checkpointing)> build, int seed)
    {
        var random = new Random(seed);
        var kills = 0;
        var resumedFromCheckpoint = 0;
        while (true)
        {
            var (job, checkpointing) = build();
            if (checkpointing.RecoveredFrom is { IsFinal: false })
            {
                resumedFromCheckpoint++;
            }

            // The whole job takes ~150 ms on a quiet machine: kills land inside it there, and the delay grows with each kill so a loaded machine still finishes.
            using var kill = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(20, 120) + (10 * kills)));
            try
            {
                await checkpointing.RunAsync(job, kill.Token);
                return (kills, resumedFromCheckpoint);
            }
            catch (OperationCanceledException)
            {
                kills++;
            }

            Assert.True(kills < 60, "the job never finished");
        }
    }

    private static List<string> Expected()
    {
        var perKey = new long[Keys];
        for (var p = 0; p < Partitions; p++)
        {
            for (var o = 0; o < RowsPerPartition; o++)
            {
                perKey[SlowSource.ValueAt(p, o) % Keys]++;
            }
        }

        return [.. Enumerable.Range(0, Keys).SelectMany(k => Enumerable.Range(1, (int)perKey[k]).Select(c => $"{k},{c}")).Order(StringComparer.Ordinal)];
    }

    private List<string> Committed() =>
        [.. Directory.EnumerateDirectories(_sinkDir).SelectMany(DirectoryTransactionalSink.CommittedRows).Order(StringComparer.Ordinal)];

    private List<string> Pending() => [.. Directory.EnumerateDirectories(_sinkDir).SelectMany(d => Directory.EnumerateFiles(d, "pending-*"))];

    [Fact]
    public async Task An_uninterrupted_checkpointed_run_commits_every_row_once_and_ends_with_a_final_checkpoint()
    {
        var (job, checkpointing) = Build(TimeSpan.FromMilliseconds(20));
        var completed = new List<long>();
        checkpointing.Coordinator.Completed += m => completed.Add(m.Id);

        await checkpointing.RunAsync(job);

        Assert.Equal(Expected(), Committed());
        Assert.Empty(Pending());
        Assert.True(completed.Count >= 3, $"only {completed.Count} checkpoints completed");
        var latest = checkpointing.Store.LoadLatest(Fingerprint(2))!;
        Assert.True(latest.IsFinal);
        Assert.Equal(Enumerable.Repeat((long)RowsPerPartition, Partitions), latest.Sources.Select(s => s.Offset));
        Assert.Equal(2, latest.Operators.Count);
    }

    [Fact]
    public async Task Jobs_killed_at_random_moments_and_restarted_produce_exactly_the_uninterrupted_output()
    {
        var (kills, resumedFromCheckpoint) = await RunUnderKills(() => Build(TimeSpan.FromMilliseconds(15)), 424_242);

        Assert.True(kills >= 3, $"only {kills} kills");
        Assert.True(resumedFromCheckpoint >= 2, $"only {resumedFromCheckpoint} restarts resumed from a checkpoint");
        Assert.Equal(Expected(), Committed());
        Assert.Empty(Pending());
    }

    [Fact]
    public async Task Two_operators_of_the_same_name_keep_their_own_state_across_kills()
    {
        var (kills, resumedFromCheckpoint) = await RunUnderKills(() => Build(TimeSpan.FromMilliseconds(15), countTwice: true), 77_001);

        Assert.True(kills >= 3, $"only {kills} kills");
        Assert.True(resumedFromCheckpoint >= 2, $"only {resumedFromCheckpoint} restarts resumed from a checkpoint");
        Assert.Equal(Expected(), Committed());
        // Two "count" nodes at parallelism 2: four snapshots, none written over another's.
        var latest = new CheckpointStore(_stateDir).LoadLatest(Fingerprint(2))!;
        Assert.Equal(4, latest.Operators.Select(o => o.OperatorId).Distinct().Count());
    }

    [Fact]
    public async Task Running_a_finished_job_again_adds_nothing_to_its_sink()
    {
        var (job, checkpointing) = Build(TimeSpan.FromMilliseconds(50));
        await checkpointing.RunAsync(job);
        var first = Committed();

        var log = new List<string>();
        var (again, rerun) = Build(TimeSpan.FromMilliseconds(50), log: log);
        Assert.True(rerun.AlreadyFinished);
        await rerun.RunAsync(again);

        Assert.Equal(first, Committed());
        Assert.Contains(log, m => m.Contains("already finished", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_state_directory_of_a_different_plan_is_refused()
    {
        var (job, checkpointing) = Build(TimeSpan.FromMilliseconds(50));
        await checkpointing.RunAsync(job);

        var error = Assert.Throws<PlanMismatchException>(() => Build(TimeSpan.FromMilliseconds(50), parallelism: 3));
        Assert.Contains(_stateDir, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_with_a_stateful_operator_that_cannot_snapshot_is_refused_rather_than_restored_without_state()
    {
        var checkpointing = new JobCheckpointing(_stateDir, "fp", TimeSpan.FromMilliseconds(50));
        var pool = new BatchPool();
        var graph = new JobGraph(new JobOptions { Parallelism = 1, Pool = pool, Checkpoints = checkpointing });
        graph.Source("nums", new SlowSource(pool), Input)
            .Apply("opaque", Input, _ => new OpaqueOperator())
            .To(new DirectorySinkConnector(_sinkDir));

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => checkpointing.RunAsync(graph.Build()));

        Assert.Contains("'opaque'", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be checkpointed", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, pool.Outstanding);
    }

    private sealed class OpaqueOperator : IOperator
    {
        public void OnBatch(ColumnBatch batch, IOperatorOutput output) => output.Emit(batch);
    }

    /// <summary>Rows (value % 17, value), 20 per batch with a pause between batches so checkpoints land mid-run.</summary>
    private sealed class SlowSource(BatchPool pool) : ISourceConnector
    {
        public static long ValueAt(int partition, long offset) => (partition * 1_000_003L) + (offset * 7);

        public int PartitionCount => Partitions;

        public bool IsBounded => true;

        public ISourceReader OpenPartition(int partition, long offset) => new Reader(pool, partition, offset);

        private sealed class Reader(BatchPool pool, int partition, long offset) : ISourceReader
        {
            public long Offset { get; private set; } = offset;

            public async ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
            {
                if (Offset >= RowsPerPartition)
                {
                    return null;
                }

                await Task.Delay(1, cancellationToken);
                var batch = pool.Rent(Input, 20);
                var n = (int)Math.Min(20, RowsPerPartition - Offset);
                for (var i = 0; i < n; i++)
                {
                    var v = ValueAt(partition, Offset + i);
                    batch.ColumnAt<long>(0).Values[i] = v % Keys;
                    batch.ColumnAt<long>(1).Values[i] = v;
                }

                batch.Count = n;
                Offset += n;
                return batch;
            }

            public void Dispose()
            {
            }
        }
    }

    /// <summary>Per key, emits (key, running count) for every row: state that must be neither lost nor replayed.</summary>
    private sealed class RunningCount(BatchPool pool) : IOperator, ICheckpointableOperator
    {
        private readonly InMemoryKeyedStateStore<long, long> _counts = new();

        public void OnBatch(ColumnBatch batch, IOperatorOutput output)
        {
            var result = pool.Rent(DirectoryTransactionalSink.Schema, batch.Count);
            var keys = batch.ColumnAt<long>(0).Values;
            var n = 0;
            for (var i = 0; i < batch.Count; i++)
            {
                if (!batch.IsLive(i))
                {
                    continue;
                }

                ref var count = ref _counts.GetOrAdd(keys[i], out _);
                count++;
                result.ColumnAt<long>(0).Values[n] = keys[i];
                result.ColumnAt<long>(1).Values[n] = count;
                n++;
            }

            result.Count = n;
            batch.Dispose();
            output.Emit(result);
        }

        public void Snapshot(IStateSnapshotWriter writer) => _counts.Snapshot(writer);

        public void Restore(IStateSnapshotReader reader) => _counts.Restore(reader);
    }

    private sealed class DirectorySinkConnector(string directory) : ISinkConnector
    {
        public ISinkWriter OpenWriter(int task)
        {
            var taskDirectory = Path.Combine(directory, "task-" + task.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(taskDirectory);
            return new DirectoryTransactionalSink(taskDirectory);
        }
    }
}
