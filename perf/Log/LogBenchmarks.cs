using BenchmarkDotNet.Attributes;
using Streams.Engine.Log;

namespace Streams.Perf.Log;

/// <summary>
/// The durable log per batch of 1,000 records with 8-byte keys and 100-byte values: building a batch, appending it with
/// fsync=never, appending with fsync=always from 4 concurrent producers (group commit), and reading it back; the same
/// append and read inside transactions (an open one makes every append and read_committed fetch check transaction timeouts).
/// Run: <c>dotnet run -c Release --project perf -- --filter *LogBenchmarks* --job short --inProcess</c>. End-to-end numbers: <c>./streams bench log</c>.
/// </summary>
[MemoryDiagnoser]
public class LogBenchmarks
{
    private const int Records = 1000;
    private readonly byte[] _key = new byte[8];
    private readonly byte[] _value = new byte[100];
    private string _dir = "";
    private LogStore _store = null!;
    private PartitionLog _never = null!;
    private PartitionLog _always = null!;
    private PartitionLog _read = null!;
    private PartitionLog _transactional = null!;
    private PartitionLog _readCommitted = null!;
    private TransactionalProducer _producer = null!;
    private int _sinceCommit;
    private long _readCommittedOffset;
    private RecordBatchBuilder _batch = null!;
    private RecordBatchBuilder[] _producerBatches = null!;
    private long _readOffset;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "streams-perf-log-" + Guid.NewGuid().ToString("N"));
        _store = LogStore.Open(_dir, report: _ => { });
        _never = _store.CreateTopic("never", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 1L << 30 }).Partitions[0];
        _always = _store.CreateTopic("always", new TopicConfig { Fsync = FsyncMode.Always, SegmentBytes = 1L << 30 }).Partitions[0];
        _read = _store.CreateTopic("read", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 1L << 30 }).Partitions[0];
        _batch = new RecordBatchBuilder(256 * 1024);
        _producerBatches = [.. Enumerable.Range(0, 4).Select(_ => Fill(new RecordBatchBuilder(256 * 1024)))];
        Fill(_batch);
        for (var i = 0; i < 2000; i++)
        {
            _read.Append(_batch);
        }

        _transactional = _store.CreateTopic("transactional", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 1L << 30 }).Partitions[0];
        _producer = new TransactionalProducer(1, 0);
        _readCommitted = _store.CreateTopic("read-committed", new TopicConfig { Fsync = FsyncMode.Never, SegmentBytes = 1L << 30 }).Partitions[0];
        var reader = new TransactionalProducer(2, 0);
        var open = new TransactionalProducer(3, 0);
        for (var i = 0; i < 2000; i++)
        {
            reader.Send(_readCommitted, _batch);
            if (i % 10 == 9)
            {
                reader.Commit(_readCommitted, FsyncMode.Never);
            }
        }

        // Left open at the end: read_committed fetches stop before it and take the open-transaction path.
        open.Send(_readCommitted, _batch);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batch.Dispose();
        foreach (var b in _producerBatches)
        {
            b.Dispose();
        }

        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private RecordBatchBuilder Fill(RecordBatchBuilder b)
    {
        b.Clear();
        for (var i = 0; i < Records; i++)
        {
            BitConverter.TryWriteBytes(_key, (long)i);
            b.TryAdd(_key, _value, i);
        }

        return b;
    }

    /// <summary>Encoding 1,000 records into a batch (no I/O).</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public int BuildBatch() => Fill(_batch).SizeBytes;

    /// <summary>Building and appending a batch with fsync=never.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long AppendFsyncNever() => _never.Append(Fill(_batch)).BaseOffset;

    /// <summary>Four producers each appending a batch with fsync=always; group commit shares the syncs.</summary>
    [Benchmark(OperationsPerInvoke = Records * 4)]
    public async Task AppendFsyncAlwaysFourProducers() =>
        await Task.WhenAll(_producerBatches.Select(b => _always.AppendAsync(b).AsTask()));

    /// <summary>Reading one batch's worth of records sequentially (wraps around at the end).</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long ReadSequential()
    {
        if (_readOffset >= _read.EndOffset)
        {
            _readOffset = 0;
        }

        using var fetched = _read.Fetch(_readOffset, 130 * 1024);
        long sum = 0;
        foreach (var r in fetched)
        {
            sum += r.Value.Length;
        }

        _readOffset = fetched.NextOffset;
        return sum;
    }

    /// <summary>Building and appending a batch into an open transaction (fsync=never), committing every 10 batches.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long AppendTransactional()
    {
        var offset = _producer.Send(_transactional, Fill(_batch)).BaseOffset;
        if (++_sinceCommit == 10)
        {
            _producer.Commit(_transactional, FsyncMode.Never);
            _sinceCommit = 0;
        }

        return offset;
    }

    /// <summary>Reading one batch's worth of committed records with read_committed while a later transaction is open.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long ReadCommittedPastOpenTransaction()
    {
        using var fetched = _readCommitted.Fetch(_readCommittedOffset, 130 * 1024);
        if (fetched.IsEmpty)
        {
            _readCommittedOffset = 0;
            return 0;
        }

        long sum = 0;
        foreach (var r in fetched)
        {
            sum += r.Value.Length;
        }

        _readCommittedOffset = fetched.NextOffset;
        return sum;
    }
}
