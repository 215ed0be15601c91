using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;

namespace Streams.Engine.Operators.WindowMaxPrune;

/// <summary>
/// What a <see cref="WindowMaxPruneOperator"/> remembers: per open tumbling window the running maximum and the rows that
/// hold it, plus every row at exactly the window's start (the previous window's BETWEEN takes those too). Rows below the
/// running maximum are never stored, so state is a handful of rows per window, not the window's rows.
/// </summary>
internal sealed class WindowMaxPruneState(Schema input)
{
    /// <summary>The stored rows, all columns.</summary>
    public RowArena Rows { get; } = new(input);

    /// <summary>Open windows, oldest first.</summary>
    public List<OpenWindow> Windows { get; } = [];

    /// <summary>Emptied windows kept for reuse, so steady state allocates nothing per window.</summary>
    public Stack<OpenWindow> Spare { get; } = new();

    /// <summary>The end of the last window that fired: rows of windows ending at or before it are late.</summary>
    public long FiredUpTo { get; set; } = long.MinValue;

    /// <summary>One open window [Start, Start + size).</summary>
    internal sealed class OpenWindow
    {
        public long Start { get; set; }

        public bool HasMax { get; set; }

        public long Max { get; set; }

        /// <summary>Rows after the start whose value equals <see cref="Max"/>.</summary>
        public List<int> MaxRows { get; } = [];

        /// <summary>Rows at exactly <see cref="Start"/>, whatever their value.</summary>
        public List<int> StartRows { get; } = [];
    }
}
