using System.Text;
using Streams.Engine.Data;
using Streams.Query.Binding;

namespace Streams.Query.Planning;

/// <summary>A node of the logical plan: what to compute, before operators are chosen.</summary>
internal abstract class LogicalNode
{
    /// <summary>The columns the node produces.</summary>
    public abstract Schema Schema { get; }

    /// <summary>The inputs.</summary>
    public abstract IReadOnlyList<LogicalNode> Inputs { get; }

    /// <summary>True when the output is a changelog (updates and retractions) rather than append-only.</summary>
    public virtual bool IsUpdating => Inputs.Any(i => i.IsUpdating);

    /// <summary>
    /// True when a changelog source (format debezium-json) feeds this node: its rows may be retracted, so windows and
    /// interval joins, which forget rows by event time, cannot take them.
    /// </summary>
    public bool ReadsChangelog => this is ScanNode { Source.IsChangelog: true } || Inputs.Any(i => i.ReadsChangelog);

    /// <summary>
    /// Where the node's window_start / window_end columns are while they still bound the window that produced them
    /// (Flink's window attributes: they survive projections, renames and filters), or null.
    /// </summary>
    public virtual WindowAttributes? WindowColumns => null;

    /// <summary>The one-line description EXPLAIN prints for the node.</summary>
    public abstract string Describe();

    /// <summary>The node with other inputs (same shape).</summary>
    public abstract LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs);
}

/// <summary>Reads a declared stream or table through its connector.</summary>
internal sealed class ScanNode(CatalogEntry source, BoundExpr? pushedFilter = null, IReadOnlyList<int>? projection = null) : LogicalNode
{
    public CatalogEntry Source { get; } = source;

    /// <summary>A predicate evaluated right after reading (pushed down from a WHERE).</summary>
    public BoundExpr? PushedFilter { get; } = pushedFilter;

    /// <summary>The physical columns needed downstream (projection pruning); null = all.</summary>
    public IReadOnlyList<int>? Projection { get; } = projection;

    public override Schema Schema => Source.Schema;

    public override IReadOnlyList<LogicalNode> Inputs => [];

    public override bool IsUpdating => Source.IsChangelog;

    public override string Describe()
    {
        var sb = new StringBuilder($"Scan {Source.Name} [connector={Source.Option("connector") ?? "?"}");
        if (Source.IsChangelog)
        {
            sb.Append(", changelog");
        }

        if (Source.Schema.EventTimeIndex >= 0)
        {
            sb.Append($", watermark={Source.Schema[Source.Schema.EventTimeIndex].Name} - {Source.WatermarkDelayMs}ms");
        }

        if (Projection is not null && Projection.Count < Source.Schema.Count)
        {
            sb.Append(", columns=").Append(string.Join(",", Projection.Select(i => Source.Schema[i].Name)));
        }

        if (PushedFilter is not null)
        {
            sb.Append(", filter=").Append(PushedFilter.Render(Schema));
        }

        return sb.Append(']').ToString();
    }

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => this;
}

internal sealed class FilterNode(LogicalNode input, BoundExpr predicate) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    public BoundExpr Predicate { get; } = predicate;

    public override Schema Schema => Input.Schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    public override WindowAttributes? WindowColumns => Input.WindowColumns;

    public override string Describe() => $"Filter [{Predicate.Render(Input.Schema)}]";

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new FilterNode(inputs[0], Predicate);
}

internal sealed class ProjectNode(LogicalNode input, IReadOnlyList<BoundExpr> exprs, Schema schema) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    public IReadOnlyList<BoundExpr> Exprs { get; } = exprs;

    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    public override string Describe() =>
        "Project [" + string.Join(", ", Exprs.Select((e, i) => e is BoundColumn c && Input.Schema[c.Index].Name == Schema[i].Name ? Schema[i].Name : $"{e.Render(Input.Schema)} AS {Schema[i].Name}")) + "]";

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new ProjectNode(inputs[0], Exprs, Schema);

    public override WindowAttributes? WindowColumns
    {
        get
        {
            if (Input.WindowColumns is not { } w)
            {
                return null;
            }

            int Find(int column)
            {
                for (var i = 0; i < Exprs.Count; i++)
                {
                    if (Exprs[i] is BoundColumn c && c.Index == column)
                    {
                        return i;
                    }
                }

                return -1;
            }

            var (start, end) = (Find(w.Start), Find(w.End));
            return start >= 0 && end >= 0 ? w with { Start = start, End = end } : null;
        }
    }

    /// <summary>True when every output column is an input column in the same place.</summary>
    public bool IsIdentity => Exprs.Count == Input.Schema.Count && Exprs.Select((e, i) => e is BoundColumn c && c.Index == i && Input.Schema[i].Name == Schema[i].Name).All(b => b);
}

/// <summary>
/// How rows are assigned to event-time windows. <see cref="Regroups"/> is set when the rows already carry the windows of
/// an upstream window aggregate (grouped again by window_start/window_end): then this is a tumbling window over their
/// window_end that only decides when each of those windows is complete.
/// </summary>
internal sealed record WindowDef(string Kind, int TimeColumn, long SizeMs, long SlideMs, long GapMs, long StepMs = 0, long OffsetMs = 0, WindowDef? Regroups = null)
{
    /// <summary>True when rows of both are grouped into the same windows (the time column may differ).</summary>
    public bool SameWindows(WindowDef other) => Kind == other.Kind && SizeMs == other.SizeMs && SlideMs == other.SlideMs && GapMs == other.GapMs && StepMs == other.StepMs && OffsetMs == other.OffsetMs;

    public string Render(Schema input) => Kind switch
    {
        _ when Regroups is not null => $"windows of the input ({Regroups.Kind}, complete at {input[TimeColumn].Name})",
        "TUMBLE" => $"TUMBLE(time={input[TimeColumn].Name}, size={SizeMs}ms)",
        "HOP" => $"HOP(time={input[TimeColumn].Name}, slide={SlideMs}ms, size={SizeMs}ms)",
        "CUMULATE" => $"CUMULATE(time={input[TimeColumn].Name}, step={StepMs}ms, size={SizeMs}ms)",
        _ => $"SESSION(time={input[TimeColumn].Name}, gap={GapMs}ms)",
    };
}

/// <summary>The window_start and window_end columns of a node and the window they bound.</summary>
internal sealed record WindowAttributes(int Start, int End, WindowDef Window);

/// <summary>One aggregate: function over an input column (or none for COUNT(*)), with an optional FILTER column.</summary>
internal sealed record AggregateCall(string Function, int ArgColumn, bool Distinct, int FilterColumn, DataType ResultType, string Name)
{
    public string Render(Schema input)
    {
        var arg = ArgColumn < 0 ? "*" : (Distinct ? "DISTINCT " : "") + input[ArgColumn].Name;
        var filter = FilterColumn < 0 ? "" : $" FILTER({input[FilterColumn].Name})";
        return $"{Function}({arg}){filter}";
    }
}

/// <summary>GROUP BY keys [+ window]: one output row per group (per window when <see cref="Window"/> is set).</summary>
internal sealed class AggregateNode(LogicalNode input, IReadOnlyList<int> keys, IReadOnlyList<AggregateCall> aggregates, WindowDef? window, Schema schema) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    public IReadOnlyList<int> Keys { get; } = keys;

    public IReadOnlyList<AggregateCall> Aggregates { get; } = aggregates;

    public WindowDef? Window { get; } = window;

    /// <summary>Output: keys, then window_start and window_end when windowed, then aggregates (the runtime's layout).</summary>
    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    public override bool IsUpdating => Window is null || Input.IsUpdating;

    public override WindowAttributes? WindowColumns
    {
        get
        {
            if (Window?.Regroups is not { } upstream)
            {
                return Window is null ? null : new WindowAttributes(Keys.Count, Keys.Count + 1, Window);
            }

            // Regrouped windows keep the input's window_start/window_end, which are among the keys.
            var keys = Keys.ToList();
            return Input.WindowColumns is { } w && keys.IndexOf(w.Start) is var s and >= 0 && keys.IndexOf(w.End) is var e and >= 0
                ? new WindowAttributes(s, e, upstream)
                : null;
        }
    }

    public override string Describe()
    {
        var sb = new StringBuilder(Window is null ? "Aggregate [" : "WindowAggregate [");
        if (Window is not null)
        {
            sb.Append("window=").Append(Window.Render(Input.Schema)).Append(", ");
        }

        sb.Append("keys=").Append(Keys.Count == 0 ? "()" : string.Join(",", Keys.Select(k => Input.Schema[k].Name)));
        sb.Append(", aggs=").Append(string.Join(", ", Aggregates.Select(a => a.Render(Input.Schema))));
        if (Window is null)
        {
            sb.Append(", output=changelog");
        }

        return sb.Append(']').ToString();
    }

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new AggregateNode(inputs[0], Keys, Aggregates, Window, Schema);
}

/// <summary>A window TVF not followed by an aggregate: tags each row with window_start/window_end (TUMBLE, HOP).</summary>
internal sealed class WindowAssignNode(LogicalNode input, WindowDef window, Schema schema) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    public WindowDef Window { get; } = window;

    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    public override WindowAttributes? WindowColumns => new(Input.Schema.Count, Input.Schema.Count + 1, Window);

    public override string Describe() => $"WindowAssign [{Window.Render(Input.Schema)}]";

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new WindowAssignNode(inputs[0], Window, Schema);
}

/// <summary>A join of two inputs on equality keys plus a residual predicate; interval bounds make it an interval join.</summary>
internal sealed class JoinNode(
    LogicalNode left,
    LogicalNode right,
    string kind,
    IReadOnlyList<int> leftKeys,
    IReadOnlyList<int> rightKeys,
    BoundExpr? residual,
    IntervalBounds? interval,
    bool windowJoin,
    Schema schema) : LogicalNode
{
    public LogicalNode Left { get; } = left;

    public LogicalNode Right { get; } = right;

    public string Kind { get; } = kind;

    public IReadOnlyList<int> LeftKeys { get; } = leftKeys;

    public IReadOnlyList<int> RightKeys { get; } = rightKeys;

    /// <summary>A predicate over the joined schema, applied after keys match.</summary>
    public BoundExpr? Residual { get; } = residual;

    /// <summary>Set when the condition bounds right time against left time: an interval join.</summary>
    public IntervalBounds? Interval { get; } = interval;

    /// <summary>True when both sides are windows of the same kind joined on window_start/window_end.</summary>
    public bool IsWindowJoin { get; } = windowJoin;

    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Left, Right];

    // An inner join of two append-only inputs only ever adds rows; an outer regular join retracts its NULL-padded rows.
    public override bool IsUpdating => Left.IsUpdating || Right.IsUpdating || (Kind != "INNER" && Interval is null && !IsWindowJoin);

    public override string Describe()
    {
        var keys = string.Join(" AND ", LeftKeys.Select((l, i) => $"{Left.Schema[l].Name} = {Right.Schema[RightKeys[i]].Name}"));
        var type = Interval is not null ? "IntervalJoin" : IsWindowJoin ? "WindowJoin" : "Join";
        var sb = new StringBuilder($"{type} [{Kind}, keys=({keys})");
        if (Interval is { } iv)
        {
            var upper = Left.Schema[iv.LeftUpperTime >= 0 ? iv.LeftUpperTime : iv.LeftTime].Name;
            sb.Append($", {Right.Schema[iv.RightTime].Name} BETWEEN {Left.Schema[iv.LeftTime].Name} + {iv.LowerMs}ms AND {upper} + {iv.UpperMs}ms");
        }

        if (Residual is not null)
        {
            sb.Append(", where=").Append(Residual.Render(Schema));
        }

        return sb.Append(']').ToString();
    }

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) =>
        new JoinNode(inputs[0], inputs[1], Kind, LeftKeys, RightKeys, Residual, Interval, IsWindowJoin, Schema);
}

/// <summary>
/// The rows holding the maximum of <see cref="ValueColumn"/> in their tumbling window, each with that maximum and the
/// window's end: what joining a stream to its own per-window MAX on value and time range gives (Nexmark q7), computed
/// without buffering the window. Output: the input columns, then max and window_end. <see cref="PartitionColumn"/> is a
/// column with one value per window (the rows then spread over the tasks by it), or -1 when one task sees every row.
/// </summary>
internal sealed class WindowMaxPruneNode(LogicalNode input, int timeColumn, int valueColumn, long sizeMs, long offsetMs = 0, int partitionColumn = -1) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    public int TimeColumn { get; } = timeColumn;

    public int ValueColumn { get; } = valueColumn;

    public long SizeMs { get; } = sizeMs;

    public long OffsetMs { get; } = offsetMs;

    public int PartitionColumn { get; } = partitionColumn;

    public override Schema Schema { get; } = new(
        input.Schema.Fields.Append(new Field("max", DataType.Int64, false)).Append(new Field("window_end", DataType.Timestamp, false)), input.Schema.EventTimeIndex);

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    public override string Describe() =>
        $"WindowMaxPrune [window=TUMBLE(time={Input.Schema[TimeColumn].Name}, size={SizeMs}ms{(OffsetMs == 0 ? "" : $", offset={OffsetMs}ms")}), max={Input.Schema[ValueColumn].Name}"
        + (PartitionColumn < 0 ? "]" : $", partition={Input.Schema[PartitionColumn].Name}]");

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new WindowMaxPruneNode(inputs[0], TimeColumn, ValueColumn, SizeMs, OffsetMs, PartitionColumn);
}

/// <summary>
/// right.time BETWEEN left.time + LowerMs AND left.time + UpperMs; with <see cref="LeftUpperTime"/> set, the upper bound is
/// another time column of the left row (left.upper + UpperMs, e.g. an auction's <c>expires</c>).
/// </summary>
internal sealed record IntervalBounds(int LeftTime, int RightTime, long LowerMs, long UpperMs, int LeftUpperTime = -1);

internal sealed class UnionNode(IReadOnlyList<LogicalNode> inputs, Schema schema) : LogicalNode
{
    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs { get; } = inputs;

    public override string Describe() => "Union [all]";

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new UnionNode(inputs, Schema);
}

/// <summary>ROW_NUMBER() OVER (PARTITION BY keys ORDER BY ...) &lt;= N: Top-N per key, or deduplication when N = 1 on time.</summary>
internal sealed class TopNNode(LogicalNode input, IReadOnlyList<int> partitionKeys, IReadOnlyList<(int Column, bool Descending)> order, long limit, int rowNumberColumn, Schema schema) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    public IReadOnlyList<int> PartitionKeys { get; } = partitionKeys;

    public IReadOnlyList<(int Column, bool Descending)> Order { get; } = order;

    public long Limit { get; } = limit;

    /// <summary>Where the row number goes in the output, or -1 when it is not selected.</summary>
    public int RowNumberColumn { get; } = rowNumberColumn;

    public override Schema Schema { get; } = schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    public override bool IsUpdating => true;

    public override string Describe() =>
        $"TopN [partition=({string.Join(",", PartitionKeys.Select(k => Input.Schema[k].Name))}), order=({string.Join(",", Order.Select(o => Input.Schema[o.Column].Name + (o.Descending ? " DESC" : " ASC")))}), n={Limit}]";

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new TopNNode(inputs[0], PartitionKeys, Order, Limit, RowNumberColumn, Schema);
}

/// <summary>ORDER BY / LIMIT of a bounded query: sorts the final result.</summary>
internal sealed class SortLimitNode(LogicalNode input, IReadOnlyList<(int Column, bool Descending)> order, long? limit) : LogicalNode
{
    public LogicalNode Input { get; } = input;

    public IReadOnlyList<(int Column, bool Descending)> Order { get; } = order;

    public long? Limit { get; } = limit;

    public override Schema Schema => Input.Schema;

    public override IReadOnlyList<LogicalNode> Inputs => [Input];

    public override bool IsUpdating => true;

    public override string Describe() =>
        $"Sort [order=({string.Join(",", Order.Select(o => Schema[o.Column].Name + (o.Descending ? " DESC" : " ASC")))}){(Limit is null ? "" : $", limit={Limit}")}]";

    public override LogicalNode WithInputs(IReadOnlyList<LogicalNode> inputs) => new SortLimitNode(inputs[0], Order, Limit);
}
