namespace Streams.Engine.Runtime;

/// <summary>
/// Live counters of one operator (or source) of a running job, summed over its parallel tasks.
/// Readable at any time from any thread.
/// </summary>
public sealed class OperatorMetrics
{
    private readonly long[] _watermarks;
    private long _recordsIn;
    private long _recordsOut;
    private long _late;
    private long _errors;

    internal OperatorMetrics(string name, int parallelism)
    {
        Name = name;
        Parallelism = parallelism;
        _watermarks = new long[parallelism];
        Array.Fill(_watermarks, long.MinValue);
    }

    /// <summary>The operator's or source's name.</summary>
    public string Name { get; }

    /// <summary>How many tasks run the node.</summary>
    public int Parallelism { get; }

    /// <summary>Rows that entered the operator.</summary>
    public long RecordsIn => Volatile.Read(ref _recordsIn);

    /// <summary>Rows the operator emitted on its main output.</summary>
    public long RecordsOut => Volatile.Read(ref _recordsOut);

    /// <summary>Late rows: events for windows that had already fired, sent to the late-data side output.</summary>
    public long LateRecords => Volatile.Read(ref _late);

    /// <summary>Rows sent to the dead-letter output (bad values, failures on one row).</summary>
    public long Errors => Volatile.Read(ref _errors);

    /// <summary>The operator's input event-time watermark: the minimum over its tasks (<see cref="long.MinValue"/> before the first one).</summary>
    public long Watermark
    {
        get
        {
            var min = long.MaxValue;
            for (var i = 0; i < _watermarks.Length; i++)
            {
                min = Math.Min(min, Volatile.Read(ref _watermarks[i]));
            }

            return min;
        }
    }

    internal void AddIn(long rows) => Interlocked.Add(ref _recordsIn, rows);

    internal void AddOut(long rows) => Interlocked.Add(ref _recordsOut, rows);

    internal void AddLate(long rows) => Interlocked.Add(ref _late, rows);

    internal void AddError() => Interlocked.Increment(ref _errors);

    internal void SetWatermark(int task, long watermark) => Volatile.Write(ref _watermarks[task], watermark);

    /// <inheritdoc />
    public override string ToString() => $"{Name}: in={RecordsIn} out={RecordsOut} late={LateRecords} errors={Errors}";
}

/// <summary>The live metrics of a job, one entry per source and operator of its graph.</summary>
public sealed class JobMetrics
{
    internal JobMetrics(IReadOnlyList<OperatorMetrics> nodes) => Nodes = nodes;

    /// <summary>Every source's and operator's counters, in graph order.</summary>
    public IReadOnlyList<OperatorMetrics> Nodes { get; }

    /// <summary>The counters of the (first) operator or source called <paramref name="name"/>.</summary>
    public OperatorMetrics this[string name] =>
        Nodes.FirstOrDefault(n => n.Name == name) ?? throw new KeyNotFoundException($"no node called '{name}'");

    /// <summary>Late rows over all nodes.</summary>
    public long LateRecords => Nodes.Sum(n => n.LateRecords);

    /// <summary>Dead-lettered rows over all nodes.</summary>
    public long Errors => Nodes.Sum(n => n.Errors);
}
