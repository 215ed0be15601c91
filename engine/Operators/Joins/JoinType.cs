using Streams.Engine.Data;

namespace Streams.Engine.Operators.Joins;

/// <summary>Which rows a join returns.</summary>
public enum JoinType : byte
{
    /// <summary>Only pairs whose keys (and time conditions) match.</summary>
    Inner = 0,
    /// <summary>Matching pairs, plus every left row that has no match, padded with NULLs on the right.</summary>
    Left = 1,
}

/// <summary>Builds and checks the schemas of join operators.</summary>
public static class JoinSchemas
{
    /// <summary>
    /// The output schema of a join: every left column, then every right column, in order (names may repeat; the SQL planner
    /// projects afterwards). Right columns become nullable for a LEFT join. <paramref name="extra"/> columns follow.
    /// </summary>
    public static Schema Concat(Schema left, Schema right, JoinType type, int eventTimeIndex, params Field[] extra)
    {
        var fields = new List<Field>(left.Count + right.Count + extra.Length);
        fields.AddRange(left.Fields);
        foreach (var f in right.Fields)
        {
            fields.Add(type == JoinType.Left ? f with { Nullable = true } : f);
        }

        fields.AddRange(extra);
        return new Schema(fields, eventTimeIndex);
    }

    /// <summary>Checks that both key lists have the same length, name existing columns and pair equal types.</summary>
    public static void CheckKeys(Schema left, Schema right, int[] leftKeys, int[] rightKeys)
    {
        ArgumentNullException.ThrowIfNull(leftKeys);
        ArgumentNullException.ThrowIfNull(rightKeys);
        if (leftKeys.Length != rightKeys.Length || leftKeys.Length == 0)
        {
            throw new ArgumentException($"a join needs the same positive number of key columns on both sides (left {leftKeys.Length}, right {rightKeys.Length})");
        }

        for (var i = 0; i < leftKeys.Length; i++)
        {
            if ((uint)leftKeys[i] >= (uint)left.Count || (uint)rightKeys[i] >= (uint)right.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(leftKeys), $"join key {i} names a column outside the schema (left {leftKeys[i]}, right {rightKeys[i]})");
            }

            var lt = left[leftKeys[i]].Type;
            var rt = right[rightKeys[i]].Type;
            if (Storage(lt) != Storage(rt))
            {
                throw new ArgumentException($"join key {i} compares {left[leftKeys[i]].Name} {lt.SqlName()} with {right[rightKeys[i]].Name} {rt.SqlName()}; cast one side first");
            }
        }
    }

    /// <summary>Resolves the event-time column of a side: <paramref name="column"/> when given, else the schema's rowtime.</summary>
    public static int TimeColumn(Schema schema, int column, string side)
    {
        var c = column >= 0 ? column : schema.EventTimeIndex;
        if (c < 0 || c >= schema.Count || schema[c].Type != DataType.Timestamp)
        {
            throw new ArgumentException($"the {side} input of a time-bounded join needs a TIMESTAMP event-time column (got index {column} in {schema})");
        }

        return c;
    }

    internal static DataType[] KeyTypes(Schema schema, int[] keys) => keys.Select(k => Storage(schema[k].Type)).ToArray();

    // Timestamps and BIGINTs are both stored as long and compare alike.
    private static DataType Storage(DataType t) => t == DataType.Timestamp ? DataType.Int64 : t;
}
