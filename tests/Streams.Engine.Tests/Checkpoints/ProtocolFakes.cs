using System.Globalization;
using Streams.Engine.Checkpoints;
using Streams.Engine.Data;
using Streams.Engine.State;

namespace Streams.Engine.Tests.Checkpoints;

/// <summary>Thrown to simulate the process dying at that point: everything in memory is abandoned.</summary>
internal sealed class SimulatedCrash(string where) : Exception(where);

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// A two-phase sink over a directory, with the file sink's semantics: rows are buffered in memory (lost on a crash),
/// staged as <c>pending-ID</c> on pre-commit and renamed to <c>committed-ID</c> on commit. Readers see committed files only.
/// </summary>
internal sealed class DirectoryTransactionalSink(string directory) : ITransactionalSinkWriter
{
    private readonly List<string> _buffer = [];

    public static readonly Schema Schema = new([new Field("key", DataType.Int64), new Field("value", DataType.Int64)]);

    public List<long> Commits { get; } = [];

    public void Write(ColumnBatch batch)
    {
        var keys = batch.ColumnAt<long>(0).Values;
        var values = batch.ColumnAt<long>(1).Values;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch.IsLive(i))
            {
                _buffer.Add(string.Create(CultureInfo.InvariantCulture, $"{keys[i]},{values[i]}"));
            }
        }
    }

    public void Flush()
    {
    }

    public void PreCommit(long checkpointId)
    {
        var path = Path.Combine(directory, $"pending-{checkpointId:D8}");
        File.WriteAllLines(path, _buffer);
        _buffer.Clear();
    }

    public void Commit(long checkpointId)
    {
        Commits.Add(checkpointId);
        foreach (var (id, path) in Pending())
        {
            if (id <= checkpointId)
            {
                File.Move(path, Path.Combine(directory, $"committed-{id:D8}"));
            }
        }
    }

    public void RecoverTransactions(long committedCheckpointId)
    {
        foreach (var (id, path) in Pending())
        {
            if (id <= committedCheckpointId)
            {
                File.Move(path, Path.Combine(directory, $"committed-{id:D8}"));
            }
            else
            {
                File.Delete(path);
            }
        }
    }

    public IEnumerable<(long Id, string Path)> Pending() =>
        Directory.EnumerateFiles(directory, "pending-*").Select(p => (long.Parse(Path.GetFileName(p)[8..], CultureInfo.InvariantCulture), p)).OrderBy(x => x.Item1).ToList();

    public static List<string> CommittedRows(string directory) =>
        [.. Directory.EnumerateFiles(directory, "committed-*").Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines)];

    public void Dispose()
    {
    }
}

/// <summary>Counts rows per key (value mod 10) and emits (key, count so far) per row: output depends on state, so lost or replayed state shows.</summary>
internal sealed class CountByKey : ICheckpointableOperator
{
    private readonly InMemoryKeyedStateStore<long, long> _counts = new();

    public void Process(long value, List<(long Key, long Count)> output)
    {
        var key = value % 10;
        ref var count = ref _counts.GetOrAdd(key, out _);
        count++;
        output.Add((key, count));
    }

    public void Snapshot(IStateSnapshotWriter writer) => _counts.Snapshot(writer);

    public void Restore(IStateSnapshotReader reader) => _counts.Restore(reader);
}
