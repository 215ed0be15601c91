using System.Globalization;
using System.Text;
using Streams.Engine.Data;
using Streams.Query.Binding;

namespace Streams.Query.Planning;

/// <summary>
/// Finds the subtrees of a plan that compute the same rows: the same operators with the same arguments over the same
/// inputs, such as one subquery written twice (Nexmark q5's HOP count). The job computes each of them once and fans
/// its output out to every consumer (Flink's sub-plan reuse); EXPLAIN prints it once and refers to it elsewhere.
/// </summary>
internal sealed class SharedSubplans
{
    // Calls whose value differs from one evaluation to the next: two of them are never the same rows.
    private static readonly HashSet<string> Volatile = new(StringComparer.OrdinalIgnoreCase) { "NOW", "RAND", "RAND_INTEGER", "UUID" };

    private readonly Dictionary<LogicalNode, string> _keys = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, int> _uses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private int _unique;

    private SharedSubplans()
    {
    }

    /// <summary>No subtree is shared: every consumer computes its own (sub-plan reuse switched off).</summary>
    public static SharedSubplans None { get; } = new();

    /// <summary>Counts how often each distinct subtree of <paramref name="root"/> is consumed.</summary>
    public static SharedSubplans Of(LogicalNode root)
    {
        var shared = new SharedSubplans();
        shared.Count(root);
        return shared;
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> compute the same rows (the same subtree or equal ones).</summary>
    public static bool SameRows(LogicalNode a, LogicalNode b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        var keys = new SharedSubplans();
        return keys.KeyOf(a) == keys.KeyOf(b);
    }

    /// <summary>True when more than one consumer reads the rows of <paramref name="node"/> (or of a subtree equal to it).</summary>
    public bool IsShared(LogicalNode node) => _uses.Count > 0 && _uses.TryGetValue(KeyOf(node), out var uses) && uses > 1;

    /// <summary>
    /// The number EXPLAIN gives a shared subtree (1, 2, ... in the order they are first asked for), or 0 when
    /// <paramref name="node"/> is not shared.
    /// </summary>
    public int IdOf(LogicalNode node)
    {
        if (!IsShared(node))
        {
            return 0;
        }

        var key = KeyOf(node);
        if (!_ids.TryGetValue(key, out var id))
        {
            id = _ids.Count + 1;
            _ids[key] = id;
        }

        return id;
    }

    /// <summary>A text equal for two subtrees exactly when they compute the same rows.</summary>
    public string KeyOf(LogicalNode node)
    {
        if (_keys.TryGetValue(node, out var known))
        {
            return known;
        }

        var sb = new StringBuilder();
        if (!Describe(node, sb))
        {
            // A node this class does not know field by field: equal only to itself.
            sb.Clear().Append('#').Append(++_unique);
        }
        else
        {
            sb.Append(" -> ").Append(Render(node.Schema));
            foreach (var input in node.Inputs)
            {
                sb.Append(" (").Append(KeyOf(input)).Append(')');
            }
        }

        var key = sb.ToString();
        _keys[node] = key;
        return key;
    }

    private void Count(LogicalNode node)
    {
        var key = KeyOf(node);
        var seen = _uses.TryGetValue(key, out var uses);
        _uses[key] = uses + 1;
        if (!seen)
        {
            // The inputs of a repeated subtree are computed once, with the first occurrence. A window join over two window
            // TVFs assigns the windows itself (QueryJob): it reads the TVFs' inputs.
            IReadOnlyList<LogicalNode> inputs = node is JoinNode { IsWindowJoin: true, Left: WindowAssignNode l, Right: WindowAssignNode r } ? [l.Input, r.Input] : node.Inputs;
            foreach (var input in inputs)
            {
                Count(input);
            }
        }
    }

    /// <summary>Writes every field that decides <paramref name="node"/>'s rows; false for node kinds it does not know.</summary>
    private static bool Describe(LogicalNode node, StringBuilder sb)
    {
        switch (node)
        {
            case ScanNode scan:
                sb.Append("Scan ").Append(scan.Source.Name)
                    .Append(" columns=").Append(scan.Projection is null ? "*" : string.Join(",", scan.Projection))
                    .Append(" filter=").Append(scan.PushedFilter is null ? "" : Expr(scan.PushedFilter));
                return scan.PushedFilter is null || !IsVolatile(scan.PushedFilter);
            case FilterNode filter:
                sb.Append("Filter ").Append(Expr(filter.Predicate));
                return !IsVolatile(filter.Predicate);
            case ProjectNode project:
                sb.Append("Project ").AppendJoin(", ", project.Exprs.Select(Expr));
                return !project.Exprs.Any(IsVolatile);
            case AggregateNode agg:
                sb.Append("Aggregate keys=").AppendJoin(",", agg.Keys)
                    .Append(" aggs=").AppendJoin(",", agg.Aggregates.Select(a => a.ToString()))
                    .Append(" window=").Append(agg.Window?.ToString() ?? "none");
                return true;
            case WindowAssignNode assign:
                sb.Append("WindowAssign ").Append(assign.Window);
                return true;
            case WindowMaxPruneNode prune:
                sb.Append("WindowMaxPrune time=").Append(prune.TimeColumn).Append(" value=").Append(prune.ValueColumn).Append(" size=").Append(prune.SizeMs)
                    .Append(" offset=").Append(prune.OffsetMs).Append(" partition=").Append(prune.PartitionColumn);
                return true;
            case JoinNode join:
                sb.Append("Join ").Append(join.Kind).Append(" window=").Append(join.IsWindowJoin)
                    .Append(" left=").AppendJoin(",", join.LeftKeys).Append(" right=").AppendJoin(",", join.RightKeys)
                    .Append(" interval=").Append(join.Interval?.ToString() ?? "none")
                    .Append(" where=").Append(join.Residual is null ? "" : Expr(join.Residual));
                return join.Residual is null || !IsVolatile(join.Residual);
            case UnionNode:
                sb.Append("Union");
                return true;
            default:
                return false;
        }
    }

    private static string Render(Schema schema) =>
        string.Join(",", schema.Fields.Select(f => $"{f.Name}:{f.Type}{(f.Nullable ? "?" : "")}")) + "@" + schema.EventTimeIndex.ToString(CultureInfo.InvariantCulture);

    /// <summary>An expression by column index and type (names can repeat within a schema, indexes cannot).</summary>
    private static string Expr(BoundExpr e) => e switch
    {
        BoundColumn c => $"${c.Index}:{c.Type}",
        BoundLiteral l => $"{l.Render(null)}:{l.Type}:{l.Value?.GetType().Name}",
        BoundInterval i => $"interval {i.Millis}",
        BoundCall call => $"{call.Name}({string.Join(", ", call.Args.Select(Expr))}):{call.Type}{(call.Extra is string extra ? $"[{extra}]" : "")}",
        BoundCase cs => $"CASE {string.Join(" ", cs.Whens.Select(w => $"WHEN {Expr(w.When)} THEN {Expr(w.Then)}"))} ELSE {(cs.Else is null ? "NULL" : Expr(cs.Else))}:{cs.Type}",
        _ => "?",
    };

    /// <summary>True when the expression may differ between two evaluations, or is of a kind <see cref="Expr"/> cannot tell apart.</summary>
    private static bool IsVolatile(BoundExpr e) =>
        e is not (BoundColumn or BoundLiteral or BoundInterval or BoundCall or BoundCase)
        || (e is BoundCall call && (Volatile.Contains(call.Name) || call.Extra is not (null or string)))
        || e.Children.Any(IsVolatile);
}
