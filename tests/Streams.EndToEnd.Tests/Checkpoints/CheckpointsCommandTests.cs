using Streams.Engine.Checkpoints;
using Streams.Server.Commands;

namespace Streams.EndToEnd.Tests.Checkpoints;

public sealed class CheckpointsCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "streams-chkcmd-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static void Write(CheckpointStore store, long id, int stateBytes, bool final = false)
    {
        store.Begin(id);
        var (stream, relative) = store.CreateStateFile(id, "window#0");
        using (stream)
        {
            stream.Write(new byte[stateBytes]);
        }

        store.Complete(new CheckpointManifest(id, 1_767_225_600_000 + (id * 1000), "fp", final,
            [new SourceOffset("bids", 0, id * 10), new SourceOffset("bids", 1, id * 20)],
            [new OperatorState("window#0", [store.Describe(relative)])],
            []));
    }

    [Fact]
    public void Lists_id_time_size_offsets_and_marks_the_checkpoint_a_restart_resumes_from()
    {
        var store = new CheckpointStore(_dir, retain: 5);
        Write(store, 1, 100);
        Write(store, 2, 3000);
        Write(store, 3, 50, final: true);
        File.WriteAllText(Path.Combine(store.DirectoryOf(3), CheckpointStore.ManifestFileName), "torn");
        store.Begin(4);
        var output = new StringWriter();

        var exit = CheckpointsCommand.List(_dir, output, new StringWriter());

        Assert.Equal(0, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("ID", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^4\s+incomplete\s", lines[1]);
        Assert.Matches(@"^3\s+CORRUPT\s", lines[2]);
        Assert.Matches(@"^2\s+complete \(resume\)\s+2026-01-01 00:00:02\.000\s+2\.9 KiB\s+bids\[0\]=20 bids\[1\]=40$", lines[3]);
        Assert.Matches(@"^1\s+complete\s+2026-01-01 00:00:01\.000\s+100 B\s+bids\[0\]=10 bids\[1\]=20$", lines[4]);
        Assert.Contains(lines, l => l.StartsWith("checkpoint 3: corrupt checkpoint file", StringComparison.Ordinal) && l.Contains("_manifest", StringComparison.Ordinal));
    }

    [Fact]
    public void A_folder_that_is_not_a_state_directory_is_an_error()
    {
        Directory.CreateDirectory(_dir);
        var errors = new StringWriter();

        Assert.Equal(2, CheckpointsCommand.List(_dir, new StringWriter(), errors));
        Assert.Contains("is not a state directory", errors.ToString(), StringComparison.Ordinal);
    }
}
