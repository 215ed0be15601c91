using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Streams.Engine.Log;
using Streams.Server.Commands;

namespace Streams.EndToEnd.Tests.Checkpoints;

/// <summary>
/// Runs <c>streams run q.sql --state-dir state</c> as a real process in a folder, SIGKILLs it at random moments and
/// restarts it, and compares the sink output with an uninterrupted run of the same job: the SQL crash tests share it.
/// </summary>
internal static class SqlKillHarness
{
    // Each started job's standard error, so an unexpected exit code fails with the job's own message.
    private static readonly ConditionalWeakTable<Process, StringBuilder> Errors = [];

    /// <summary>
    /// NDJSON rows {id, k (50 keys), v, ts}, with disorder inside a 1 s watermark delay, so windows and OVER rows
    /// stay open across checkpoints and restarts.
    /// </summary>
    public static string DisorderedKeyedRows(int rows)
    {
        var input = new StringBuilder();
        for (var i = 0; i < rows; i++)
        {
            var ts = i * 3L + (i * 7919L % 500);
            input.Append(CultureInfo.InvariantCulture, $"{{\"id\":{i},\"k\":{i * 31 % 50},\"v\":{i % 97},\"ts\":{ts}}}\n");
        }

        return input.ToString();
    }

    /// <summary>Starts the job in <paramref name="dir"/> (checkpoints every 100 ms, parallelism 2).</summary>
    public static Process Start(string dir)
    {
        var (host, prefix) = CheckpointSoak.WorkerCommand();
        var info = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var arg in prefix.Concat(["run", "q.sql", "--state-dir", "state", "--checkpoint-interval", "100ms", "--parallelism", "2"]))
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var errors = new StringBuilder();
        Errors.Add(process, errors);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Starts the job in <paramref name="dir"/> and SIGKILLs it after a random run time, up to 20 times or until a run finishes, then runs it to the end; returns the kills.</summary>
    public static int KillRepeatedly(string dir, Random random, int minRunMs = 200, int maxRunMs = 1_200)
    {
        var kills = 0;
        while (kills < 20)
        {
            using var process = Start(dir);
            if (process.WaitForExit(TimeSpan.FromMilliseconds(random.Next(minRunMs, maxRunMs))))
            {
                AssertExitedCleanly(process, $"restart {kills}");
                break;
            }

            process.Kill();
            process.WaitForExit();
            kills++;
        }

        RunToEnd(dir);
        return kills;
    }

    /// <summary>Runs the job in <paramref name="dir"/> once, uninterrupted, and requires exit code 0.</summary>
    public static void RunToEnd(string dir)
    {
        using var process = Start(dir);
        process.WaitForExit();
        AssertExitedCleanly(process, "the run to the end");
    }

    /// <summary>Requires exit code 0 of an exited job, and otherwise fails with its standard error.</summary>
    public static void AssertExitedCleanly(Process process, string run)
    {
        // The parameterless wait also drains the redirected standard error.
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var errors = Errors.TryGetValue(process, out var text) ? text : new StringBuilder();
            lock (errors)
            {
                Assert.Fail($"{run} exited with {process.ExitCode}: {errors}");
            }
        }
    }

    /// <summary>
    /// Prepares the same job in <paramref name="dir"/> and a reference folder, runs the reference once uninterrupted and
    /// the test one under 20 SIGKILLs, and requires the same sink rows (<paramref name="output"/>: sorted lines) as a
    /// multiset: none twice, none missing.
    /// </summary>
    public static void AssertKilledRunMatchesUninterrupted(string dir, Action<string> prepare, Func<string, List<string>> output, int seed, int minimumRows)
    {
        var reference = dir + "-reference";
        try
        {
            foreach (var d in new[] { dir, reference })
            {
                Directory.CreateDirectory(d);
                prepare(d);
            }

            RunToEnd(reference);
            var kills = KillRepeatedly(dir, new Random(seed), 150, 700);

            var expected = output(reference);
            Assert.True(expected.Count >= minimumRows, $"the uninterrupted run wrote only {expected.Count} rows");
            // Runs of at most 0.7 s, each paying process start-up and recovery, cannot get through the input 20 times over.
            Assert.Equal(20, kills);
            var actual = output(dir);
            Assert.Equal(expected.Count, actual.Count);
            Assert.Equal(expected, actual);
        }
        finally
        {
            if (Directory.Exists(reference))
            {
                Directory.Delete(reference, recursive: true);
            }
        }
    }

    /// <summary>Every record value of log topic <c>out</c> (in the folder's <c>data</c> store) visible at <paramref name="isolation"/>, sorted.</summary>
    public static List<string> CommittedLogValues(string dir, IsolationLevel isolation = IsolationLevel.ReadCommitted)
    {
        var values = new List<string>();
        using var store = LogStore.Open(Path.Combine(dir, "data"), create: false, report: _ => { });
        foreach (var log in store.OpenTopic("out", writable: false).Partitions)
        {
            var offset = log.StartOffset;
            while (true)
            {
                using var fetched = log.Fetch(offset, 1 << 20, isolation);
                if (fetched.IsEmpty)
                {
                    break;
                }

                foreach (var record in fetched)
                {
                    values.Add(Encoding.UTF8.GetString(record.Value));
                }

                offset = fetched.NextOffset;
            }
        }

        values.Sort(StringComparer.Ordinal);
        return values;
    }
}
