using Streams.Query.Syntax;

namespace Streams.Query.Planning;

/// <summary>Rejects plans the engine cannot run yet, at plan time and with a position, instead of failing mid-run.</summary>
internal static class PlanChecker
{
    public static void Check(LogicalNode node, SourcePosition pos)
    {
        switch (node)
        {
            case SortLimitNode s when s.Input is SortLimitNode:
                throw new SqlException(pos, "not supported: nested ORDER BY / LIMIT");
            case WindowAssignNode w when w.Window.Kind is "SESSION":
                throw new SqlException(pos, $"not supported: a {w.Window.Kind} window TVF without GROUP BY window_start, window_end or a window join");
            case JoinNode j when j.LeftKeys.Count == 0:
                throw new SqlException(pos, "not supported: joins without an equality condition between the two inputs (cross joins)");
            case JoinNode j when j.Kind == "LEFT" && j.Residual is not null:
                throw new SqlException(pos, "not supported: LEFT JOIN with ON conditions other than key equalities and time bounds");
        }

        foreach (var input in node.Inputs)
        {
            if (node is not SortLimitNode && input is SortLimitNode)
            {
                throw new SqlException(pos, "not supported: ORDER BY / LIMIT inside a subquery (only on the outermost query)");
            }

            Check(input, pos);
        }
    }
}
