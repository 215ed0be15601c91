using Streams.Engine.Checkpoints;
using Streams.Server.Commands;

namespace Streams.EndToEnd.Tests.Checkpoints;

/// <summary>
/// Real processes, real SIGKILL: a checkpointed keyed tumbling aggregate over ~2 M NDJSON events into the two-phase
/// file sink is killed 20 times at random moments and restarted on the same state directory each time; the visible
/// sink rows must equal the exact aggregate as a multiset. The job reads at most 100 k events/s, so one run lasts
/// ≥ 20 s and a run killed after at most 1.5 s cannot finish the input early, on any machine.
/// </summary>
public sealed class KillNineTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "streams-kill9-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void A_windowed_aggregate_killed_20_times_with_SIGKILL_writes_exactly_the_uninterrupted_output()
    {
        var log = new StringWriter();
        var settings = new CheckpointSoak.Settings(_dir, Events: 2_000_000, Kills: 20, Interval: TimeSpan.FromMilliseconds(200),
            Seed: 20_261_123, MinRun: TimeSpan.FromMilliseconds(300), MaxRun: TimeSpan.FromMilliseconds(1_500), EventsPerSecond: 100_000);

        var outcome = CheckpointSoak.Run(settings, CheckpointSoak.WorkerCommand(), log);

        Assert.True(outcome.ExactlyOnce, log.ToString());
        Assert.Equal(20, outcome.Kills);
        Assert.Equal(64_000, outcome.ActualRows);
        var latest = new CheckpointStore(Path.Combine(_dir, "state")).LoadLatest(
            new CheckpointStore(Path.Combine(_dir, "state")).List().First(l => l.Status == CheckpointStatus.Complete).Manifest!.PlanFingerprint);
        Assert.True(latest!.IsFinal);
        // Killed runs left checkpoints behind that later runs resumed from: ids keep growing across restarts.
        Assert.True(latest.Id > 20, $"only {latest.Id} checkpoints were ever started");
    }
}
