using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Operators.WindowAggregate;
using Streams.Engine.Runtime;

namespace Streams.Engine.Embedding;

/// <summary>
/// A typed, fluent view of a stream of <typeparamref name="T"/> rows in an embedded engine. Lambdas are compiled to
/// columnar loops (no per-row delegate calls). Declare results (<see cref="ToAsyncEnumerable"/>, <see cref="Subscribe"/>)
/// before <see cref="StreamEngine.Start"/>.
/// </summary>
/// <typeparam name="T">The row shape: an event type, an anonymous type from <see cref="Select"/>, or a result type.</typeparam>
public sealed class Query<T>
{
    private readonly StreamEngine _engine;

    internal Query(StreamEngine engine, DataStream stream)
    {
        _engine = engine;
        Stream = stream;
    }

    /// <summary>The underlying stream (schema, graph) for the lower-level API.</summary>
    public DataStream Stream { get; }

    /// <summary>Keeps the rows for which <paramref name="predicate"/> is true.</summary>
    public Query<T> Where(Expression<Func<T, bool>> predicate)
    {
        _engine.CheckNotStarted();
        return new(_engine, Stream.Filter(ColumnarExpressionCompiler.CompileFilter(predicate, Stream.Schema), "where"));
    }

    /// <summary>Computes new rows; use <c>new { ... }</c> for several columns. The event-time member keeps its role when selected as is.</summary>
    public Query<TOut> Select<TOut>(Expression<Func<T, TOut>> selector)
    {
        _engine.CheckNotStarted();
        var (schema, projector) = ColumnarExpressionCompiler.CompileProjection(selector, Stream.Schema, "value");
        return new(_engine, Stream.Project(schema, projector, "select"));
    }

    /// <summary>Groups by a member (<c>e => e.Symbol</c>) or several (<c>e => new { e.A, e.B }</c>).</summary>
    public KeyedQuery<T, TKey> KeyBy<TKey>(Expression<Func<T, TKey>> key)
    {
        var columns = key.Body switch
        {
            MemberExpression m when m.Expression == key.Parameters[0] => [ColumnOf(m)],
            NewExpression n => n.Arguments.Select(a => a is MemberExpression m && m.Expression == key.Parameters[0] ? ColumnOf(m) : throw new ArgumentException("keys must be members of the event")).ToArray(),
            _ => throw new ArgumentException("KeyBy takes a member (e => e.Symbol) or several (e => new { e.A, e.B })"),
        };
        return new KeyedQuery<T, TKey>(_engine, Stream, columns);
    }

    /// <summary>A tumbling window over all rows (no key).</summary>
    public WindowedQuery<T, int> TumblingWindow(TimeSpan size) => new KeyedQuery<T, int>(_engine, Stream, []).TumblingWindow(size);

    /// <summary>Delivers every result row through an async stream that ends when the engine's job ends (and throws if it failed).</summary>
    public IAsyncEnumerable<T> ToAsyncEnumerable()
    {
        _engine.CheckNotStarted();
        var reader = RowReaders.For<T>(Stream.Schema);
        var channel = Channel.CreateBounded<T[]>(new BoundedChannelOptions(64) { SingleWriter = true, SingleReader = true });
        Stream.ForEach(batch =>
        {
            var rows = new List<T>(batch.Count);
            for (var r = 0; r < batch.Count; r++)
            {
                if (batch.IsLive(r))
                {
                    rows.Add(reader(batch, r));
                }
            }

            // Waiting here is the backpressure from a slow consumer back into the pipeline.
            if (!channel.Writer.TryWrite([.. rows]))
            {
                channel.Writer.WriteAsync([.. rows]).AsTask().GetAwaiter().GetResult();
            }
        }, "results");
        _engine.OnStop(() => channel.Writer.TryComplete(_engine.Completion.Exception?.InnerException));
        return Read(channel.Reader);
    }

    /// <summary>Calls <paramref name="onRow"/> for every result row (calls are serialised).</summary>
    public void Subscribe(Action<T> onRow)
    {
        _engine.CheckNotStarted();
        var reader = RowReaders.For<T>(Stream.Schema);
        Stream.ForEach(batch =>
        {
            for (var r = 0; r < batch.Count; r++)
            {
                if (batch.IsLive(r))
                {
                    onRow(reader(batch, r));
                }
            }
        }, "results");
    }

    /// <summary>Calls <paramref name="onBatch"/> with every result batch (columnar, disposed after the call).</summary>
    public void SubscribeBatches(Action<ColumnBatch> onBatch)
    {
        _engine.CheckNotStarted();
        Stream.ForEach(onBatch, "results");
    }

    /// <summary>Writes results to a sink connector.</summary>
    public void To(ISinkConnector sink)
    {
        _engine.CheckNotStarted();
        Stream.To(sink);
    }

    private int ColumnOf(MemberExpression m) =>
        Stream.Schema.IndexOf(m.Member.Name) is var c and >= 0 ? c : throw new ArgumentException($"'{m.Member.Name}' is not a column of {Stream.Schema}");

    private static async IAsyncEnumerable<T> Read(ChannelReader<T[]> reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var row in chunk)
            {
                yield return row;
            }
        }
    }
}

/// <summary>A query grouped by key columns, ready for a window.</summary>
public sealed class KeyedQuery<T, TKey>
{
    private readonly StreamEngine _engine;
    private readonly DataStream _stream;
    private readonly int[] _keys;

    internal KeyedQuery(StreamEngine engine, DataStream stream, int[] keys)
    {
        _engine = engine;
        _stream = stream;
        _keys = keys;
    }

    /// <summary>Fixed windows of <paramref name="size"/>.</summary>
    public WindowedQuery<T, TKey> TumblingWindow(TimeSpan size) => new(_engine, _stream, _keys, WindowSpec.Tumble(Ms(size)));

    /// <summary>Windows of <paramref name="size"/> starting every <paramref name="slide"/>.</summary>
    public WindowedQuery<T, TKey> HoppingWindow(TimeSpan slide, TimeSpan size) => new(_engine, _stream, _keys, WindowSpec.Hop(Ms(slide), Ms(size)));

    /// <summary>Per-key sessions closed by <paramref name="gap"/> of inactivity.</summary>
    public WindowedQuery<T, TKey> SessionWindow(TimeSpan gap) => new(_engine, _stream, _keys, WindowSpec.Session(Ms(gap)));

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;
}

/// <summary>One window's result for one key.</summary>
/// <param name="Key">The group key (a value, or an anonymous type for several key members).</param>
/// <param name="Start">Window start (inclusive), UTC.</param>
/// <param name="End">Window end (exclusive), UTC.</param>
/// <param name="Values">The aggregates, shaped as in <c>Aggregate(a => new { ... })</c>.</param>
public sealed record WindowResult<TKey, TValues>(TKey Key, DateTime Start, DateTime End, TValues Values);

/// <summary>A keyed, windowed query: choose the aggregates.</summary>
public sealed class WindowedQuery<T, TKey>
{
    private readonly StreamEngine _engine;
    private readonly DataStream _stream;
    private readonly int[] _keys;
    private readonly WindowSpec _window;

    internal WindowedQuery(StreamEngine engine, DataStream stream, int[] keys, WindowSpec window)
    {
        _engine = engine;
        _stream = stream;
        _keys = keys;
        _window = window;
    }

    /// <summary>
    /// Computes aggregates per key and window: <c>a => new { N = a.Count(), Total = a.Sum(e => e.Price) }</c>. Results
    /// come once per window when event time passes its end (+ <paramref name="allowedLateness"/>).
    /// </summary>
    public Query<WindowResult<TKey, TValues>> Aggregate<TValues>(Expression<Func<AggregateBuilder<T>, TValues>> aggregates, TimeSpan allowedLateness = default) =>
        Aggregate(aggregates, out _, allowedLateness);

    /// <summary>As <see cref="Aggregate{TValues}(Expression{Func{AggregateBuilder{T}, TValues}}, TimeSpan)"/>, and <paramref name="lateEvents"/> receives events whose window had already fired.</summary>
    public Query<WindowResult<TKey, TValues>> Aggregate<TValues>(Expression<Func<AggregateBuilder<T>, TValues>> aggregates, out Query<T> lateEvents, TimeSpan allowedLateness = default)
    {
        _engine.CheckNotStarted();
        var schema = _stream.Schema;
        if (schema.EventTimeIndex < 0)
        {
            throw new InvalidOperationException("windows need an event time: declare the input with an event-time member");
        }

        var calls = aggregates.Body switch
        {
            NewExpression n => n.Arguments.Zip(n.Members!, (a, m) => (Call: a, Name: m.Name)).ToList(),
            MethodCallExpression single => [(Call: (Expression)single, Name: single.Method.Name)],
            _ => throw new ArgumentException("Aggregate takes a => new { Name = a.Count(), ... }"),
        };

        // Aggregate arguments that are not plain members are computed by a projection before the exchange.
        var extra = new List<LambdaExpression>();
        var specs = new List<AggregateSpec>();
        foreach (var (callExpression, name) in calls)
        {
            if (callExpression is not MethodCallExpression call || call.Method.DeclaringType != typeof(AggregateBuilder<T>))
            {
                throw new ArgumentException($"'{name}' must be a call on the aggregate builder, e.g. a.Sum(e => e.Price)");
            }

            var argument = call.Arguments.Count > 0 ? (LambdaExpression)StripQuote(call.Arguments[0]) : null;
            var column = -1;
            if (argument is not null)
            {
                column = ColumnarExpressionCompiler.ColumnOf(argument, schema);
                if (column < 0)
                {
                    column = schema.Count + extra.Count;
                    extra.Add(argument);
                }
            }

            specs.Add(call.Method.Name switch
            {
                nameof(AggregateBuilder<T>.Count) => argument is null ? AggregateSpec.CountStar(name) : AggregateSpec.Count(column, name),
                nameof(AggregateBuilder<T>.CountDistinct) => AggregateSpec.CountDistinct(column, name),
                nameof(AggregateBuilder<T>.Sum) => AggregateSpec.Sum(column, name),
                nameof(AggregateBuilder<T>.Min) => AggregateSpec.Min(column, name),
                nameof(AggregateBuilder<T>.Max) => AggregateSpec.Max(column, name),
                nameof(AggregateBuilder<T>.Average) => AggregateSpec.Avg(column, name),
                _ => throw new ArgumentException($"unknown aggregate {call.Method.Name}"),
            });
        }

        var input = _stream;
        if (extra.Count > 0)
        {
            var (extended, projector) = ColumnarExpressionCompiler.CompileAppend(extra, schema);
            input = input.Project(extended, projector, "aggregate-inputs");
        }

        var keyed = _keys.Length > 0 ? input.KeyBy(_keys) : input;
        var spec = new WindowAggregateSpec(schema.EventTimeIndex, _window, _keys, [.. specs], (long)allowedLateness.TotalMilliseconds);
        var results = keyed.WindowAggregate(spec, out var lateTag);
        lateEvents = new Query<T>(_engine, results.SideOutput(lateTag));
        return new Query<WindowResult<TKey, TValues>>(_engine, results);
    }

    private static Expression StripQuote(Expression e) => e is UnaryExpression { NodeType: ExpressionType.Quote } q ? q.Operand : e;
}

/// <summary>
/// The aggregate functions available inside <c>Aggregate(a => new { ... })</c>. They describe the computation and are
/// never called directly: the engine compiles them to columnar accumulators.
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
public sealed class AggregateBuilder<T>
{
    private AggregateBuilder()
    {
    }

    /// <summary>COUNT(*).</summary>
    public long Count() => throw Describe();

    /// <summary>COUNT(value): rows where it is not null.</summary>
    public long Count<TValue>(Func<T, TValue> value) => throw Describe();

    /// <summary>COUNT(DISTINCT value).</summary>
    public long CountDistinct<TValue>(Func<T, TValue> value) => throw Describe();

    /// <summary>SUM of an integer: a long.</summary>
    public long Sum(Func<T, int> value) => throw Describe();

    /// <summary>SUM of a long.</summary>
    public long Sum(Func<T, long> value) => throw Describe();

    /// <summary>SUM of a double.</summary>
    public double Sum(Func<T, double> value) => throw Describe();

    /// <summary>SUM of a decimal.</summary>
    public decimal Sum(Func<T, decimal> value) => throw Describe();

    /// <summary>MIN.</summary>
    public TValue Min<TValue>(Func<T, TValue> value) => throw Describe();

    /// <summary>MAX.</summary>
    public TValue Max<TValue>(Func<T, TValue> value) => throw Describe();

    /// <summary>AVG of an integer: an integer (truncated), as in Flink SQL.</summary>
    public int Average(Func<T, int> value) => throw Describe();

    /// <summary>AVG of a long: a long (truncated).</summary>
    public long Average(Func<T, long> value) => throw Describe();

    /// <summary>AVG of a double.</summary>
    public double Average(Func<T, double> value) => throw Describe();

    /// <summary>AVG of a decimal.</summary>
    public decimal Average(Func<T, decimal> value) => throw Describe();

    private static InvalidOperationException Describe() => new("aggregate builder methods only describe aggregates inside Aggregate(...)");
}
