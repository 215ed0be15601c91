using System.Text;
using Streams.Query.Syntax;

namespace Streams.Query;

/// <summary>
/// A SQL statement is wrong or asks for something unsupported. It carries the place in the text so the error can
/// point at the mistake: <c>error: line L, column C: message</c>, the source line, and a caret under the spot.
/// </summary>
public sealed class SqlException : Exception
{
    /// <summary>Creates an error at <paramref name="position"/>.</summary>
    public SqlException(SourcePosition position, string message)
        : base(message)
    {
        Position = position;
    }

    /// <summary>Where the mistake is (1-based line and column).</summary>
    public SourcePosition Position { get; }

    /// <summary>Formats the error for a terminal: the message line, the source line, and a caret under the column.</summary>
    public string Format(string source)
    {
        var sb = new StringBuilder();
        sb.Append("error: line ").Append(Position.Line).Append(", column ").Append(Position.Column).Append(": ").Append(Message);
        var lines = source.Split('\n');
        if (Position.Line >= 1 && Position.Line <= lines.Length)
        {
            var line = lines[Position.Line - 1].TrimEnd('\r').Replace('\t', ' ');
            sb.Append('\n').Append(line).Append('\n');
            sb.Append(' ', Math.Max(0, Position.Column - 1)).Append('^');
        }

        return sb.ToString();
    }
}
