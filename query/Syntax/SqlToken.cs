namespace Streams.Query.Syntax;

/// <summary>The kinds of tokens SQL text is split into. Keywords are identifiers; the parser matches them by text.</summary>
internal enum SqlToken
{
    None,
    Identifier,
    QuotedIdentifier,
    String,
    Integer,
    Number,
    Comma,
    Dot,
    LParen,
    RParen,
    Semicolon,
    Star,
    Plus,
    Minus,
    Slash,
    Percent,
    Concat,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Question,

    /// <summary><c>[</c>: only recognised to reject ARRAY / MAP values and subscripts with a clear message.</summary>
    LBracket,

    /// <summary><c>]</c>.</summary>
    RBracket,
}
