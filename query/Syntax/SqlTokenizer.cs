using Superpower;
using Superpower.Model;

namespace Streams.Query.Syntax;

/// <summary>
/// Splits SQL text into tokens, skipping whitespace, <c>--</c> line comments and <c>/* */</c> block comments.
/// Hand-written on Superpower's <see cref="Tokenizer{TKind}"/> because SQL's quoting rules ('' inside strings,
/// backtick and double-quote identifiers) do not fit a regular tokenizer.
/// </summary>
internal sealed class SqlTokenizer : Tokenizer<SqlToken>
{
    public static SqlTokenizer Instance { get; } = new();

    protected override IEnumerable<Result<SqlToken>> Tokenize(TextSpan span)
    {
        var next = SkipTrivia(span, out var triviaError);
        if (triviaError is { } te)
        {
            yield return te;
            yield break;
        }

        while (next.HasValue)
        {
            var start = next.Location;
            var ch = next.Value;
            var rest = next.Remainder;
            if (char.IsLetter(ch) || ch == '_')
            {
                var end = rest;
                while (!end.IsAtEnd && IsIdentifierChar(end.ConsumeChar().Value))
                {
                    end = end.ConsumeChar().Remainder;
                }

                yield return Result.Value(SqlToken.Identifier, start, end);
                next = SkipTrivia(end, out triviaError);
            }
            else if (char.IsDigit(ch) || (ch == '.' && !rest.IsAtEnd && char.IsDigit(rest.ConsumeChar().Value)))
            {
                var end = start;
                var kind = SqlToken.Integer;
                end = SkipDigits(end);
                if (!end.IsAtEnd && end.ConsumeChar().Value == '.')
                {
                    kind = SqlToken.Number;
                    end = SkipDigits(end.ConsumeChar().Remainder);
                }

                if (!end.IsAtEnd && end.ConsumeChar().Value is 'e' or 'E')
                {
                    var exp = end.ConsumeChar().Remainder;
                    if (!exp.IsAtEnd && exp.ConsumeChar().Value is '+' or '-')
                    {
                        exp = exp.ConsumeChar().Remainder;
                    }

                    if (!exp.IsAtEnd && char.IsDigit(exp.ConsumeChar().Value))
                    {
                        kind = SqlToken.Number;
                        end = SkipDigits(exp);
                    }
                }

                yield return Result.Value(kind, start, end);
                next = SkipTrivia(end, out triviaError);
            }
            else if (ch == '\'')
            {
                var end = rest;
                var closed = false;
                while (!end.IsAtEnd)
                {
                    var c = end.ConsumeChar();
                    end = c.Remainder;
                    if (c.Value == '\'')
                    {
                        if (!end.IsAtEnd && end.ConsumeChar().Value == '\'')
                        {
                            end = end.ConsumeChar().Remainder;
                            continue;
                        }

                        closed = true;
                        break;
                    }
                }

                if (!closed)
                {
                    yield return Result.Empty<SqlToken>(start, "unterminated string literal");
                    yield break;
                }

                yield return Result.Value(SqlToken.String, start, end);
                next = SkipTrivia(end, out triviaError);
            }
            else if (ch is '`' or '"')
            {
                var quote = ch;
                var end = rest;
                var closed = false;
                while (!end.IsAtEnd)
                {
                    var c = end.ConsumeChar();
                    end = c.Remainder;
                    if (c.Value == quote)
                    {
                        if (!end.IsAtEnd && end.ConsumeChar().Value == quote)
                        {
                            end = end.ConsumeChar().Remainder;
                            continue;
                        }

                        closed = true;
                        break;
                    }
                }

                if (!closed)
                {
                    yield return Result.Empty<SqlToken>(start, "unterminated quoted identifier");
                    yield break;
                }

                yield return Result.Value(SqlToken.QuotedIdentifier, start, end);
                next = SkipTrivia(end, out triviaError);
            }
            else
            {
                SqlToken kind;
                var end = rest;
                var second = rest.IsAtEnd ? '\0' : rest.ConsumeChar().Value;
                switch (ch)
                {
                    case ',': kind = SqlToken.Comma; break;
                    case '.': kind = SqlToken.Dot; break;
                    case '(': kind = SqlToken.LParen; break;
                    case ')': kind = SqlToken.RParen; break;
                    case ';': kind = SqlToken.Semicolon; break;
                    case '*': kind = SqlToken.Star; break;
                    case '+': kind = SqlToken.Plus; break;
                    case '-': kind = SqlToken.Minus; break;
                    case '/': kind = SqlToken.Slash; break;
                    case '%': kind = SqlToken.Percent; break;
                    case '?': kind = SqlToken.Question; break;
                    case '[': kind = SqlToken.LBracket; break;
                    case ']': kind = SqlToken.RBracket; break;
                    case '=':
                        kind = SqlToken.Equal;
                        if (second == '=')
                        {
                            end = rest.ConsumeChar().Remainder;
                        }

                        break;
                    case '|' when second == '|': kind = SqlToken.Concat; end = rest.ConsumeChar().Remainder; break;
                    case '!' when second == '=': kind = SqlToken.NotEqual; end = rest.ConsumeChar().Remainder; break;
                    case '<' when second == '>': kind = SqlToken.NotEqual; end = rest.ConsumeChar().Remainder; break;
                    case '<' when second == '=': kind = SqlToken.LessOrEqual; end = rest.ConsumeChar().Remainder; break;
                    case '<': kind = SqlToken.Less; break;
                    case '>' when second == '=': kind = SqlToken.GreaterOrEqual; end = rest.ConsumeChar().Remainder; break;
                    case '>': kind = SqlToken.Greater; break;
                    default:
                        yield return Result.Empty<SqlToken>(start, $"unexpected character `{ch}`");
                        yield break;
                }

                yield return Result.Value(kind, start, end);
                next = SkipTrivia(end, out triviaError);
            }

            if (triviaError is { } e)
            {
                yield return e;
                yield break;
            }
        }
    }

    private static bool IsIdentifierChar(char c) => char.IsLetterOrDigit(c) || c == '_' || c == '$';

    private static TextSpan SkipDigits(TextSpan span)
    {
        while (!span.IsAtEnd && char.IsDigit(span.ConsumeChar().Value))
        {
            span = span.ConsumeChar().Remainder;
        }

        return span;
    }

    /// <summary>Skips whitespace and comments; an unclosed block comment is reported where it starts.</summary>
    private static Result<char> SkipTrivia(TextSpan span, out Result<SqlToken>? error)
    {
        error = null;
        var next = span.ConsumeChar();
        while (next.HasValue)
        {
            if (char.IsWhiteSpace(next.Value))
            {
                next = next.Remainder.ConsumeChar();
                continue;
            }

            var after = next.Remainder.ConsumeChar();
            if (next.Value == '-' && after.HasValue && after.Value == '-')
            {
                var s = after.Remainder;
                while (!s.IsAtEnd && s.ConsumeChar().Value != '\n')
                {
                    s = s.ConsumeChar().Remainder;
                }

                next = s.ConsumeChar();
                continue;
            }

            if (next.Value == '/' && after.HasValue && after.Value == '*')
            {
                var s = after.Remainder;
                var closed = false;
                while (!s.IsAtEnd)
                {
                    var c = s.ConsumeChar();
                    s = c.Remainder;
                    if (c.Value == '*' && !s.IsAtEnd && s.ConsumeChar().Value == '/')
                    {
                        s = s.ConsumeChar().Remainder;
                        closed = true;
                        break;
                    }
                }

                if (!closed)
                {
                    error = Result.Empty<SqlToken>(next.Location, "unterminated comment");
                    return Result.Empty<char>(s);
                }

                next = s.ConsumeChar();
                continue;
            }

            break;
        }

        return next;
    }
}
