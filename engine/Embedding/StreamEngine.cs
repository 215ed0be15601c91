using System.Linq.Expressions;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Runtime;

namespace Streams.Engine.Embedding;

/// <summary>Settings of an embedded <see cref="StreamEngine"/>.</summary>
public sealed class EngineOptions
{
    /// <summary>Parallel tasks per keyed operator; defaults to the number of cores.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; init; } = BatchPool.DefaultCapacity;

    /// <summary>Batches a channel between tasks holds before the producer waits (backpressure bound).</summary>
    public int ChannelCapacity { get; init; } = 8;

    /// <summary>Where failing rows go; null keeps them in <see cref="StreamEngine.DeadLetters"/>.</summary>
    public IDeadLetterSink? DeadLetters { get; init; }

    /// <summary>Plans <see cref="StreamEngine.Sql{T}"/> queries; the SQL layer (Streams.Query) provides one.</summary>
    public IEmbeddedSqlPlanner? SqlPlanner { get; init; }

    /// <summary>The batch pool; a private one by default.</summary>
    public BatchPool Pool { get; init; } = new();
}

/// <summary>What an <see cref="IEmbeddedSqlPlanner"/> can see: the job graph and the engine's named inputs.</summary>
public interface IEmbeddedSqlContext
{
    /// <summary>The graph the planned query adds its operators to.</summary>
    JobGraph Graph { get; }

    /// <summary>The input registered under <paramref name="name"/> (case-insensitive), as a stream.</summary>
    bool TryGetInput(string name, out DataStream stream);
}

/// <summary>Turns SQL text into operators on an embedded engine's graph. Implemented by the query layer, so the engine never references it.</summary>
public interface IEmbeddedSqlPlanner
{
    /// <summary>Plans <paramref name="sql"/> (a SELECT over the engine's inputs) and returns the stream of its results.</summary>
    DataStream Plan(string sql, IEmbeddedSqlContext context);
}

/// <summary>
/// An in-process stream processor: declare inputs, build queries in C# (or SQL), start it, push events, read results.
/// </summary>
/// <example>
/// <code>
/// await using var engine = new StreamEngine();
/// var trades = engine.Input&lt;Trade&gt;(t => t.Time, maxOutOfOrderness: TimeSpan.FromSeconds(1));
/// var volumes = trades.Query.KeyBy(t => t.Symbol).TumblingWindow(TimeSpan.FromMinutes(1))
///     .Aggregate(a => new { Trades = a.Count(), Volume = a.Sum(t => t.Quantity) }).ToAsyncEnumerable();
/// engine.Start();
/// await trades.WriteAsync(new Trade("ACME", 10, DateTime.UtcNow));
/// trades.Complete();
/// await foreach (var v in volumes) Console.WriteLine(v);
/// </code>
/// </example>
public sealed class StreamEngine : IAsyncDisposable, IEmbeddedSqlContext
{
    private readonly Dictionary<string, DataStream> _inputs = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Action> _onStop = [];
    private readonly CancellationTokenSource _stop = new();
    private Job? _job;
    private Task? _run;

    /// <summary>Creates an engine; nothing runs until <see cref="Start"/>.</summary>
    public StreamEngine(EngineOptions? options = null)
    {
        Options = options ?? new EngineOptions();
        Graph = new JobGraph(new JobOptions
        {
            Parallelism = Options.Parallelism,
            BatchSize = Options.BatchSize,
            ChannelCapacity = Options.ChannelCapacity,
            DeadLetters = Options.DeadLetters,
            Pool = Options.Pool,
            Name = "embedded",
        });
    }

    /// <summary>The engine's settings.</summary>
    public EngineOptions Options { get; }

    /// <summary>The underlying job graph, for operators the fluent API does not cover.</summary>
    public JobGraph Graph { get; }

    /// <summary>Live metrics, once started.</summary>
    public JobMetrics? Metrics => _job?.Metrics;

    /// <summary>Rows that failed (when <see cref="EngineOptions.DeadLetters"/> is not set).</summary>
    public IReadOnlyList<DeadLetter> DeadLetters => _job?.DeadLetters ?? [];

    /// <summary>Completes when every input ended and all results were delivered; faults if the job failed.</summary>
    public Task Completion => _run ?? throw new InvalidOperationException("the engine has not been started");

    /// <summary>
    /// Declares an input of events of type <typeparamref name="T"/> (its public properties/fields become columns).
    /// <paramref name="eventTime"/> picks the DateTime/DateTimeOffset member that carries event time; watermarks trail
    /// the largest event time by <paramref name="maxOutOfOrderness"/>.
    /// </summary>
    public EventInput<T> Input<T>(Expression<Func<T, DateTime>>? eventTime = null, TimeSpan maxOutOfOrderness = default, TimeSpan? idleTimeout = null, string? name = null) =>
        CreateInput<T>(eventTime, maxOutOfOrderness, idleTimeout, name);

    /// <summary>Declares an input whose event time is a <see cref="DateTimeOffset"/> member.</summary>
    public EventInput<T> Input<T>(Expression<Func<T, DateTimeOffset>> eventTime, TimeSpan maxOutOfOrderness = default, TimeSpan? idleTimeout = null, string? name = null) =>
        CreateInput<T>(eventTime, maxOutOfOrderness, idleTimeout, name);

    /// <summary>Declares a columnar input read from <paramref name="source"/> (connectors, generators); rows are read as <typeparamref name="T"/> by column name.</summary>
    public Query<T> From<T>(string name, ISourceConnector source, Schema schema, WatermarkStrategy? watermarks = null)
    {
        var stream = Graph.Source(name, source, schema, watermarks);
        _inputs[name] = stream;
        return new Query<T>(this, stream);
    }

    /// <summary>Wraps a stream built on <see cref="Graph"/> as a typed query.</summary>
    public Query<T> Query<T>(DataStream stream) => new(this, stream);

    /// <summary>Plans a SQL SELECT over the engine's inputs with <see cref="EngineOptions.SqlPlanner"/>.</summary>
    public Query<T> Sql<T>(string sql)
    {
        var planner = Options.SqlPlanner ?? throw new InvalidOperationException("no SQL planner: set EngineOptions.SqlPlanner (the Streams.Query package provides one)");
        return new Query<T>(this, planner.Plan(sql, this));
    }

    /// <summary>Starts the job in the background. Declare inputs and results first.</summary>
    public void Start()
    {
        if (_job is not null)
        {
            throw new InvalidOperationException("the engine is already started");
        }

        _job = Graph.Build();
        _run = _job.RunAsync(_stop.Token);
        _run.ContinueWith(_ => { foreach (var a in _onStop) a(); }, TaskScheduler.Default);
    }

    /// <summary>Starts (if needed) and waits until the job ends.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (_job is null)
        {
            Start();
        }

        await using var registration = cancellationToken.Register(() => _stop.Cancel());
        await Completion.ConfigureAwait(false);
    }

    /// <summary>Stops the job (cancelling it if inputs are still open) and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_run is not null && !_run.IsCompleted)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping a running engine is what dispose means.
            }
        }

        _stop.Dispose();
    }

    bool IEmbeddedSqlContext.TryGetInput(string name, out DataStream stream) => _inputs.TryGetValue(name, out stream!);

    internal void OnStop(Action action) => _onStop.Add(action);

    internal void CheckNotStarted()
    {
        if (_job is not null)
        {
            throw new InvalidOperationException("queries and results must be declared before Start()");
        }
    }

    private EventInput<T> CreateInput<T>(LambdaExpression? eventTime, TimeSpan maxOutOfOrderness, TimeSpan? idleTimeout, string? name)
    {
        CheckNotStarted();
        var member = eventTime?.Body is MemberExpression m ? m.Member.Name
            : eventTime is null ? null : throw new ArgumentException("the event time must be a member of the event, e.g. e => e.Time");
        var mapping = new EventMapping<T>(member);
        var input = new EventInput<T>(this, mapping, Math.Max(Options.BatchSize, 1));
        var inputName = name ?? typeof(T).Name;
        var watermarks = mapping.Schema.EventTimeIndex >= 0
            ? new WatermarkStrategy(mapping.Schema.EventTimeIndex, (long)maxOutOfOrderness.TotalMilliseconds, idleTimeout)
            : null;
        var stream = Graph.Source(inputName, input.Source, mapping.Schema, watermarks);
        _inputs[inputName] = stream;
        input.Query = new Query<T>(this, stream);
        return input;
    }
}
