using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Streams.Engine.Log;
using Xunit.Abstractions;

namespace Streams.EndToEnd.Tests.Log;

/// <summary>
/// A child producer writes 500k keyed records with fsync=always, printing each acknowledged offset; it is SIGKILLed at
/// random moments. Afterwards every acknowledged record is in the log exactly once, where it was acknowledged, and
/// records of each key are in the order they were sent.
/// </summary>
public sealed class LogCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int TargetRecords = 500_000;
    private const int KilledRounds = 10;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "streams-crash-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task EveryAckedRecordSurvivesSigkillExactlyOnceAndPerKeyOrderHolds()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var acked = new Dictionary<(int Run, int Seq), (int Partition, long Offset)>();
        var killsThatHit = 0;
        for (var run = 0; run < KilledRounds || acked.Count < TargetRecords; run++)
        {
            var kill = run < KilledRounds;
            // A run to be killed always gets the full target: once the first kills had acked most of it, a run of the
            // remaining few thousand records finished before its kill on a fast disk, and the kills missed.
            var records = kill ? TargetRecords : Math.Max(TargetRecords - acked.Count, 2_000);
            var info = StreamsCli.StartInfo("log-crash-writer", "--data-dir", _dir, "--run", run.ToString(), "--records", records.ToString());
            using var child = Process.Start(info)!;
            var firstAck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var reading = ReadCompleteLinesAsync(child.StandardOutput.BaseStream, firstAck);
            var errors = child.StandardError.ReadToEndAsync();
            if (kill)
            {
                // Kill at a random moment while it is writing (process start-up time varies too much to aim from launch).
                await Task.WhenAny(firstAck.Task, child.WaitForExitAsync());
                await Task.Delay(random.Next(0, 700));
                if (!child.HasExited)
                {
                    child.Kill(); // SIGKILL on Unix: no cleanup, no flush.
                    killsThatHit++;
                }
            }

            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await child.WaitForExitAsync(timeout.Token);
            }

            var lines = await reading;
            output.WriteLine($"run {run}: {(kill ? "killed" : "completed")}, {lines.Count} acked lines");
            if (!kill)
            {
                Assert.True(child.ExitCode == 0, $"run {run} failed: {await errors}");
                Assert.Equal("done", lines[^1]);
            }

            foreach (var line in lines)
            {
                if (line == "done")
                {
                    continue;
                }

                var parts = line.Split(' ');
                Assert.Equal("acked", parts[0]);
                Assert.True(acked.TryAdd((int.Parse(parts[3]), int.Parse(parts[4])), (int.Parse(parts[1]), long.Parse(parts[2]))), $"acked twice: {line}");
            }
        }

        Assert.True(killsThatHit >= KilledRounds / 2, $"only {killsThatHit} kills hit a running writer (seed {seed})");
        Assert.True(acked.Count >= TargetRecords);

        using var store = LogStore.Open(_dir, report: output.WriteLine);
        var topic = store.OpenTopic("crash");
        var found = new Dictionary<(int Run, int Seq), (int Partition, long Offset)>();
        foreach (var log in topic.Partitions)
        {
            var lastPerKey = new Dictionary<string, (int Run, int Seq)>();
            var offset = log.StartOffset;
            var expectedOffset = offset;
            while (offset < log.EndOffset)
            {
                using var fetched = log.Fetch(offset);
                foreach (var record in fetched)
                {
                    Assert.Equal(expectedOffset++, record.Offset);
                    using var value = JsonDocument.Parse(record.Value.ToArray());
                    var id = (value.RootElement.GetProperty("run").GetInt32(), value.RootElement.GetProperty("seq").GetInt32());
                    var key = Encoding.UTF8.GetString(record.Key);
                    Assert.Equal(value.RootElement.GetProperty("key").GetString(), key);
                    Assert.True(found.TryAdd(id, (log.Partition, record.Offset)), $"record run {id.Item1} seq {id.Item2} is in the log twice (seed {seed})");
                    if (lastPerKey.TryGetValue(key, out var previous))
                    {
                        Assert.True(previous.CompareTo(id) < 0, $"key {key}: {id} comes after {previous} (seed {seed})");
                    }

                    lastPerKey[key] = id;
                }

                offset = fetched.NextOffset;
            }
        }

        output.WriteLine($"{acked.Count} acked, {found.Count} in the log (seed {seed})");
        foreach (var (id, where) in acked)
        {
            Assert.True(found.TryGetValue(id, out var actual), $"acked record run {id.Run} seq {id.Seq} at {where} is missing (seed {seed})");
            Assert.Equal(where, actual);
        }
    }

    /// <summary>Reads stdout to its end and keeps only lines that ended with a newline (a kill can cut the last one).</summary>
    private static async Task<List<string>> ReadCompleteLinesAsync(Stream stdout, TaskCompletionSource firstLine)
    {
        var bytes = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while ((n = await stdout.ReadAsync(chunk)) > 0)
        {
            bytes.Write(chunk, 0, n);
            if (chunk.AsSpan(0, n).Contains((byte)'\n'))
            {
                firstLine.TrySetResult();
            }
        }

        firstLine.TrySetResult();
        var text = Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : [.. text[..end].Split('\n')];
    }
}
