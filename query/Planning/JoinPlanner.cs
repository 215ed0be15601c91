using Streams.Engine.Data;
using Streams.Query.Binding;

namespace Streams.Query.Planning;

/// <summary>
/// Splits a join condition into equality keys, interval bounds on the two time columns (an interval join),
/// window_start/window_end equalities (a window join) and a residual predicate.
/// </summary>
internal static class JoinPlanner
{
    public static LogicalNode Create(LogicalNode left, LogicalNode right, string kind, BoundExpr? condition, Schema schema)
    {
        var n = left.Schema.Count;
        var leftKeys = new List<int>();
        var rightKeys = new List<int>();
        var residual = new List<BoundExpr>();
        long? lower = null;
        long? upper = null;
        int lowerLeft = -1, upperLeft = -1, rightTime = -1;
        var windowKeys = 0;
        var timeParts = new List<BoundExpr>();

        foreach (var part in condition is null ? [] : BoundExprs.Conjuncts(condition))
        {
            if (part is BoundCall { Name: "=" } eq && eq.Args[0] is BoundColumn a && eq.Args[1] is BoundColumn b && (a.Index < n) != (b.Index < n))
            {
                var (l, r) = a.Index < n ? (a, b) : (b, a);
                leftKeys.Add(l.Index);
                rightKeys.Add(r.Index - n);
                if (IsWindowColumn(left, l.Index) && IsWindowColumn(right, r.Index - n))
                {
                    windowKeys++;
                }

                continue;
            }

            // Bounds on one right time column; each side of the range uses one left column (the same one, or an upper one).
            if (TimeBound(part, n, left, right) is { } bound && (rightTime < 0 || rightTime == bound.RightTime)
                && (bound.IsLower ? lowerLeft < 0 || lowerLeft == bound.LeftTime : upperLeft < 0 || upperLeft == bound.LeftTime))
            {
                rightTime = bound.RightTime;
                if (bound.IsLower)
                {
                    lowerLeft = bound.LeftTime;
                    lower = lower is null ? bound.OffsetMs : Math.Max(lower.Value, bound.OffsetMs);
                }
                else
                {
                    upperLeft = bound.LeftTime;
                    upper = upper is null ? bound.OffsetMs : Math.Min(upper.Value, bound.OffsetMs);
                }

                timeParts.Add(part);
                continue;
            }

            residual.Add(part);
        }

        IntervalBounds? interval = null;
        if (left.ReadsChangelog || right.ReadsChangelog)
        {
            // An interval join forgets rows by event time and cannot take retractions: a changelog joins as a regular join.
            residual.AddRange(timeParts);
        }
        else if (lower is not null && upper is not null && lowerLeft == upperLeft)
        {
            interval = new IntervalBounds(lowerLeft, rightTime, lower.Value, upper.Value);
        }
        else if (lower is not null && upper is not null && lowerLeft == left.Schema.EventTimeIndex && rightTime == right.Schema.EventTimeIndex)
        {
            // right.t BETWEEN left.t AND left.expires: the left row's own upper column bounds how long it waits for partners.
            interval = new IntervalBounds(lowerLeft, rightTime, lower.Value, upper.Value, upperLeft);
        }
        else
        {
            residual.AddRange(timeParts);
        }

        var windowJoin = interval is null && (IsWindowJoin(left, right, leftKeys, rightKeys)
            || (windowKeys >= 2 && left is WindowAssignNode or ProjectNode && right is WindowAssignNode or ProjectNode));
        return new JoinNode(left, right, kind == "CROSS" && leftKeys.Count > 0 ? "INNER" : kind, leftKeys, rightKeys, BoundExprs.And(residual), interval, windowJoin, schema);
    }

    /// <summary>
    /// Flink's window join: both inputs carry windows of the same kind and size (window attributes, through projections and
    /// renames) and the condition equates their window_start and their window_end.
    /// </summary>
    public static bool IsWindowJoin(LogicalNode left, LogicalNode right, IReadOnlyList<int> leftKeys, IReadOnlyList<int> rightKeys)
    {
        if (left.WindowColumns is not { } l || right.WindowColumns is not { } r || !l.Window.SameWindows(r.Window))
        {
            return false;
        }

        bool Equated(int leftColumn, int rightColumn) => leftKeys.Where((k, i) => k == leftColumn && rightKeys[i] == rightColumn).Any();
        return Equated(l.Start, r.Start) && Equated(l.End, r.End);
    }

    private static bool IsWindowColumn(LogicalNode node, int index) =>
        node.Schema[index].Name is "window_start" or "window_end" && node.Schema[index].Type == DataType.Timestamp;

    private sealed record Bound(int LeftTime, int RightTime, bool IsLower, long OffsetMs);

    /// <summary>Recognises right.t >= left.t + c, right.t &lt;= left.t + c (and mirrored forms) on TIMESTAMP columns.</summary>
    private static Bound? TimeBound(BoundExpr e, int n, LogicalNode left, LogicalNode right)
    {
        if (e is not BoundCall { Name: ">=" or ">" or "<=" or "<" } cmp)
        {
            return null;
        }

        if (Side(cmp.Args[0], out var c0, out var off0) is not { } s0 || Side(cmp.Args[1], out var c1, out var off1) is not { } s1 || s0 == s1)
        {
            return null;
        }

        if (cmp.Args[0].Type != DataType.Timestamp)
        {
            return null;
        }

        // Normalise to: right.t OP left.t + offset.
        var op = cmp.Name;
        int rightCol, leftCol;
        long offset;
        if (s0 == 'R')
        {
            rightCol = c0 - n;
            leftCol = c1;
            offset = off1 - off0;
        }
        else
        {
            rightCol = c1 - n;
            leftCol = c0;
            offset = off0 - off1;
            op = op switch { ">=" => "<=", ">" => "<", "<=" => ">=", _ => ">" };
        }

        return op switch
        {
            ">=" => new Bound(leftCol, rightCol, true, offset),
            ">" => new Bound(leftCol, rightCol, true, offset + 1),
            "<=" => new Bound(leftCol, rightCol, false, offset),
            _ => new Bound(leftCol, rightCol, false, offset - 1),
        };

        char? Side(BoundExpr x, out int col, out long off)
        {
            off = 0;
            col = -1;
            if (x is BoundCall { Name: "+" or "-" } arith && arith.Args[1] is BoundInterval iv && arith.Args[0] is BoundColumn ac)
            {
                off = arith.Name == "+" ? iv.Millis : -iv.Millis;
                x = ac;
            }

            if (x is BoundColumn c && c.Type == DataType.Timestamp)
            {
                col = c.Index;
                return c.Index < n ? 'L' : 'R';
            }

            return null;
        }
    }
}
