using System.Globalization;
using Streams.Engine.Data;
using Superpower;
using Superpower.Model;
using Superpower.Parsers;

namespace Streams.Query.Syntax;

/// <summary>
/// The SQL grammar as Superpower token-list combinators: a script is statements separated by <c>;</c>.
/// Keywords are identifiers matched case-insensitively; reserved ones cannot be used as bare names.
/// Features the engine does not run are recognised and rejected with <c>not supported: ...</c> at their position.
/// </summary>
internal static partial class SqlParser
{
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "select", "from", "where", "group", "by", "having", "order", "limit", "join", "on", "as", "and", "or", "not",
        "inner", "left", "right", "full", "outer", "cross", "union", "case", "when", "then", "else", "end", "in",
        "is", "null", "between", "like", "true", "false", "distinct", "all", "insert", "into", "create", "table",
        "values", "except", "intersect", "over", "filter", "partition", "with", "interval", "cast", "lateral",
        "natural", "using", "window", "fetch", "offset", "match_recognize", "escape", "similar", "exists", "minus",
    };

    /// <summary>Parses a script into statements, or throws <see cref="SqlException"/> at the first mistake.</summary>
    public static IReadOnlyList<Statement> ParseScript(string sql)
    {
        var tokens = Tokenize(sql);
        var result = Script(tokens);
        if (!result.HasValue)
        {
            var error = ErrorFrom(result, sql);
            throw MisspeltKeyword(tokens, error) ?? error;
        }

        return result.Value;
    }

    private static readonly string[] ClauseKeywords = ["SELECT", "FROM", "WHERE", "GROUP", "ORDER", "HAVING", "JOIN", "LIMIT", "UNION", "WINDOW"];

    /// <summary>When the token before the error is a clause keyword misspelt as a name (FORM), points at it instead.</summary>
    private static SqlException? MisspeltKeyword(TokenList<SqlToken> tokens, SqlException error)
    {
        Token<SqlToken>? previous = null;
        foreach (var t in tokens)
        {
            if (t.Position.Line > error.Position.Line || (t.Position.Line == error.Position.Line && t.Position.Column >= error.Position.Column))
            {
                break;
            }

            previous = t;
        }

        if (previous is not { Kind: SqlToken.Identifier } p)
        {
            return null;
        }

        var word = p.ToStringValue().ToUpperInvariant();
        if (ClauseKeywords.Contains(word) || NameSuggestion.Closest(word, ClauseKeywords) is not { } keyword || word.Length < 4)
        {
            return null;
        }

        return new SqlException(At(p), $"unexpected `{p.ToStringValue()}` (did you mean `{keyword}`?)");
    }

    /// <summary>Parses one expression (tests and tools).</summary>
    public static SqlExpr ParseExpression(string sql)
    {
        var tokens = Tokenize(sql);
        var result = Expr.AtEnd()(tokens);
        if (!result.HasValue)
        {
            throw ErrorFrom(result, sql);
        }

        return result.Value;
    }

    private static TokenList<SqlToken> Tokenize(string sql)
    {
        var tokens = SqlTokenizer.Instance.TryTokenize(sql);
        if (!tokens.HasValue)
        {
            var p = tokens.ErrorPosition.HasValue ? new SourcePosition(tokens.ErrorPosition.Line, tokens.ErrorPosition.Column) : EndOf(sql);
            throw new SqlException(p, tokens.ErrorMessage ?? "unexpected character");
        }

        return tokens.Value;
    }

    private static SqlException ErrorFrom<T>(TokenListParserResult<SqlToken, T> result, string sql)
    {
        SourcePosition pos;
        if (result.ErrorPosition.HasValue)
        {
            pos = new SourcePosition(result.ErrorPosition.Line, result.ErrorPosition.Column);
        }
        else
        {
            var next = result.Remainder.ConsumeToken();
            pos = next.HasValue ? At(next.Value) : EndOf(sql);
        }

        var message = result.FormatErrorMessageFragment();
        return new SqlException(pos, message);
    }

    private static SourcePosition EndOf(string sql)
    {
        var trimmed = sql.TrimEnd();
        var line = 1 + trimmed.Count(c => c == '\n');
        var lastNl = trimmed.LastIndexOf('\n');
        return new SourcePosition(line, trimmed.Length - lastNl);
    }

    private static SourcePosition At(Token<SqlToken> t) => new(t.Position.Line, t.Position.Column);

    // ------------------------------------------------------------ primitives

    /// <summary>The position of the next token, consuming nothing.</summary>
    private static readonly TokenListParser<SqlToken, SourcePosition> Pos = input =>
    {
        var next = input.ConsumeToken();
        var p = next.HasValue ? At(next.Value) : new SourcePosition(0, 0);
        return TokenListParserResult.Value(p, input, input);
    };

    private static TokenListParser<SqlToken, T?> Opt<T>(TokenListParser<SqlToken, T> parser)
        where T : class => parser.Select(x => (T?)x).OptionalOrDefault();

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TokenListParser<SqlToken, Token<SqlToken>>> Keywords = new(StringComparer.Ordinal);

    // Keyword parsers are built once and shared: the hand-written parts of the grammar ask for them on every call.
    private static TokenListParser<SqlToken, Token<SqlToken>> K(string keyword) =>
        Keywords.GetOrAdd(keyword, static k => Token.EqualToValueIgnoreCase(SqlToken.Identifier, k).Named("`" + k.ToUpperInvariant() + "`"));

    private static TokenListParser<SqlToken, Token<SqlToken>> Ks(params string[] keywords) =>
        Keywords.GetOrAdd(string.Join(' ', keywords), _ => BuildKs(keywords));

    private static TokenListParser<SqlToken, Token<SqlToken>> BuildKs(string[] keywords)
    {
        var p = K(keywords[0]);
        for (var i = 1; i < keywords.Length; i++)
        {
            var next = K(keywords[i]);
            p = p.Then(_ => next);
        }

        return p;
    }

    private static TokenListParser<SqlToken, Token<SqlToken>> T(SqlToken kind, string shown) => Token.EqualTo(kind).Named("`" + shown + "`");

    private static readonly TokenListParser<SqlToken, Token<SqlToken>> Comma = T(SqlToken.Comma, ",");
    private static readonly TokenListParser<SqlToken, Token<SqlToken>> LParen = T(SqlToken.LParen, "(");
    private static readonly TokenListParser<SqlToken, Token<SqlToken>> RParen = T(SqlToken.RParen, ")");
    private static readonly TokenListParser<SqlToken, Token<SqlToken>> Dot = T(SqlToken.Dot, ".");

    private static string Unquote(string text)
    {
        var q = text[0];
        return text[1..^1].Replace(new string(q, 2), new string(q, 1), StringComparison.Ordinal);
    }

    /// <summary>A name: a non-reserved identifier, or a backtick/double-quoted one.</summary>
    private static readonly TokenListParser<SqlToken, (string Name, SourcePosition Pos)> Name =
        Token.EqualTo(SqlToken.Identifier).Where(t => !Reserved.Contains(t.ToStringValue()), "reserved word").Select(t => (t.ToStringValue(), At(t)))
            .Or(Token.EqualTo(SqlToken.QuotedIdentifier).Select(t => (Unquote(t.ToStringValue()), At(t))))
            .Named("name");

    /// <summary>A possibly qualified name (catalog.db.table): the last part counts.</summary>
    private static readonly TokenListParser<SqlToken, (string Name, SourcePosition Pos)> QualifiedName =
        Name.AtLeastOnceDelimitedBy(Dot).Select(parts => parts[^1] with { Pos = parts[0].Pos });

    private static readonly TokenListParser<SqlToken, string> StringLit =
        Token.EqualTo(SqlToken.String).Select(t => Unquote(t.ToStringValue())).Named("string literal");

    private static TokenListParser<SqlToken, T> NotSupported<T>(TokenListParser<SqlToken, Token<SqlToken>> start, string feature) =>
        input =>
        {
            var r = start(input);
            if (r.HasValue)
            {
                throw new SqlException(At(r.Value), "not supported: " + feature);
            }

            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, T>(r);
        };

    // ------------------------------------------------------------ types

    private static readonly TokenListParser<SqlToken, int[]> TypeArgs =
        LParen.IgnoreThen(Token.EqualTo(SqlToken.Integer).Select(t => int.Parse(t.ToStringValue(), CultureInfo.InvariantCulture)).AtLeastOnceDelimitedBy(Comma)).Then(a => RParen.Value(a))
            .OptionalOrDefault([]);

    private static readonly TokenListParser<SqlToken, TypeRef> TypeName = input =>
    {
        var first = Token.EqualTo(SqlToken.Identifier).Named("type name")(input);
        if (!first.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, TypeRef>(first);
        }

        var pos = At(first.Value);
        var name = first.Value.ToStringValue().ToUpperInvariant();
        var rest = first.Remainder;
        var args = TypeArgs(rest);
        if (!args.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, int[], TypeRef>(args);
        }

        rest = args.Remainder;
        TypeRef? type = name switch
        {
            "BOOLEAN" or "BOOL" => new TypeRef(DataType.Boolean, Pos: pos),
            "INT" or "INTEGER" or "SMALLINT" or "TINYINT" => new TypeRef(DataType.Int32, Pos: pos),
            "BIGINT" => new TypeRef(DataType.Int64, Pos: pos),
            "DOUBLE" or "FLOAT" or "REAL" => new TypeRef(DataType.Double, Pos: pos),
            "DECIMAL" or "NUMERIC" or "DEC" => new TypeRef(DataType.Decimal, args.Value.Length > 0 ? args.Value[0] : 10, args.Value.Length > 1 ? args.Value[1] : 0, pos),
            "VARCHAR" or "STRING" or "CHAR" or "TEXT" => new TypeRef(DataType.String, Pos: pos),
            "TIMESTAMP" or "TIMESTAMP_LTZ" => new TypeRef(DataType.Timestamp, Pos: pos),
            _ => null,
        };
        if (type is null)
        {
            if (name is "DATE" or "TIME" or "ARRAY" or "MAP" or "ROW" or "MULTISET" or "BYTES" or "BINARY" or "VARBINARY")
            {
                throw new SqlException(pos, $"not supported: type {name}");
            }

            return TokenListParserResult.Empty<SqlToken, TypeRef>(input, $"unknown type `{first.Value.ToStringValue()}`");
        }

        if (name == "DOUBLE")
        {
            var precision = K("precision")(rest);
            if (precision.HasValue)
            {
                rest = precision.Remainder;
            }
        }

        if (name is "VARCHAR" or "CHAR")
        {
            var varying = K("varying")(rest);
            if (varying.HasValue)
            {
                rest = TypeArgs(varying.Remainder).Remainder;
            }
        }

        if (type.Type == DataType.Timestamp)
        {
            foreach (var suffix in new[] { new[] { "without", "time", "zone" }, new[] { "with", "local", "time", "zone" } })
            {
                var s = Ks(suffix)(rest);
                if (s.HasValue)
                {
                    rest = s.Remainder;
                }
            }

            var tz = Ks("with", "time", "zone").Try()(rest);
            if (tz.HasValue)
            {
                throw new SqlException(pos, "not supported: TIMESTAMP WITH TIME ZONE (use TIMESTAMP(3), which is UTC)");
            }
        }

        return TokenListParserResult.Value(type, input, rest);
    };

    // ------------------------------------------------------------ expressions

    private static readonly TokenListParser<SqlToken, SqlExpr> Expr = Parse.Ref(() => OrExpr!);

    private static readonly TokenListParser<SqlToken, QueryExpr> Query = Parse.Ref(() => QueryBody!);

    private static long IntervalMillis(string unit, decimal amount, SourcePosition pos) => unit.ToUpperInvariant().TrimEnd('S') switch
    {
        "MILLISECOND" => (long)amount,
        "SECOND" => (long)(amount * 1000m),
        "MINUTE" => (long)(amount * 60_000m),
        "HOUR" => (long)(amount * 3_600_000m),
        "DAY" => (long)(amount * 86_400_000m),
        "WEEK" => (long)(amount * 604_800_000m),
        "MONTH" or "YEAR" => throw new SqlException(pos, $"not supported: INTERVAL in {unit.ToUpperInvariant()} (month arithmetic); use DAY"),
        _ => throw new SqlException(pos, $"unknown interval unit `{unit}`"),
    };

    private static readonly string[] IntervalUnits = ["millisecond", "second", "minute", "hour", "day", "week", "month", "year", "seconds", "minutes", "hours", "days", "milliseconds"];

    private static readonly TokenListParser<SqlToken, SqlExpr> IntervalLiteral = input =>
    {
        var kw = K("interval")(input);
        if (!kw.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(kw);
        }

        var pos = At(kw.Value);
        var rest = kw.Remainder;
        var negative = false;
        var minus = Token.EqualTo(SqlToken.Minus)(rest);
        if (minus.HasValue)
        {
            negative = true;
            rest = minus.Remainder;
        }

        var lit = StringLit.Select(s => (Text: s, Quoted: true))
            .Or(Token.EqualTo(SqlToken.Integer).Or(Token.EqualTo(SqlToken.Number)).Select(t => (Text: t.ToStringValue(), Quoted: false)))(rest);
        if (!lit.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, (string, bool), SqlExpr>(lit);
        }

        rest = lit.Remainder;
        var unitTok = Token.EqualTo(SqlToken.Identifier).Where(t => IntervalUnits.Contains(t.ToStringValue().ToLowerInvariant()))(rest);
        string text = lit.Value.Text.Trim();
        string unit;
        if (unitTok.HasValue)
        {
            unit = unitTok.Value.ToStringValue();
            rest = unitTok.Remainder;
            var to = K("to")(rest);
            if (to.HasValue)
            {
                throw new SqlException(At(unitTok.Value), "not supported: INTERVAL ... TO ... ranges; write the interval in one unit");
            }
        }
        else
        {
            // PostgreSQL/RisingWave style: INTERVAL '10 seconds'.
            var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !IntervalUnits.Contains(parts[1].ToLowerInvariant()))
            {
                return TokenListParserResult.Empty<SqlToken, SqlExpr>(rest, ["interval unit (SECOND, MINUTE, HOUR, DAY)"]);
            }

            text = parts[0];
            unit = parts[1];
        }

        if (text.StartsWith('-'))
        {
            negative = !negative;
            text = text[1..];
        }

        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            throw new SqlException(At(kw.Value), $"invalid interval value '{lit.Value.Text}'");
        }

        var ms = IntervalMillis(unit, amount, pos);
        return TokenListParserResult.Value<SqlToken, SqlExpr>(new IntervalExpr(pos, negative ? -ms : ms), input, rest);
    };

    private static readonly TokenListParser<SqlToken, SqlExpr> NumberLiteral =
        Token.EqualTo(SqlToken.Integer).Select(t =>
            {
                var s = t.ToStringValue();
                if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                {
                    return (SqlExpr)new LiteralExpr(At(t), i, DataType.Int32);
                }

                if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
                {
                    return new LiteralExpr(At(t), l, DataType.Int64);
                }

                return new LiteralExpr(At(t), double.Parse(s, CultureInfo.InvariantCulture), DataType.Double);
            })
            .Or(Token.EqualTo(SqlToken.Number).Select(t => (SqlExpr)new LiteralExpr(At(t), double.Parse(t.ToStringValue(), CultureInfo.InvariantCulture), DataType.Double)));

    private static readonly TokenListParser<SqlToken, SqlExpr> TypedLiteral =
        from kw in K("timestamp").Or(K("date")).Try()
        from text in StringLit
        select (SqlExpr)TimestampLiteral(At(kw), kw.ToStringValue(), text);

    private static LiteralExpr TimestampLiteral(SourcePosition pos, string kind, string text)
    {
        if (!DateTime.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt))
        {
            throw new SqlException(pos, $"invalid {kind.ToUpperInvariant()} literal '{text}'");
        }

        return new LiteralExpr(pos, new DateTimeOffset(dt, TimeSpan.Zero).ToUnixTimeMilliseconds(), DataType.Timestamp);
    }

    private static readonly TokenListParser<SqlToken, SqlExpr> SimpleLiteral =
        K("true").Select(t => (SqlExpr)new LiteralExpr(At(t), true, DataType.Boolean))
            .Or(K("false").Select(t => (SqlExpr)new LiteralExpr(At(t), false, DataType.Boolean)))
            .Or(K("null").Select(t => (SqlExpr)new LiteralExpr(At(t), null, DataType.Null)))
            .Or(Token.EqualTo(SqlToken.String).Select(t => (SqlExpr)new LiteralExpr(At(t), Unquote(t.ToStringValue()), DataType.String)))
            .Or(NumberLiteral);

    private static readonly TokenListParser<SqlToken, SqlExpr> CaseExpr =
        from kw in K("case")
        from operand in Opt(Parse.Not(K("when")).Then(_ => Expr))
        from whens in (from w in K("when") from c in Expr from t in K("then") from v in Expr select (c, v)).AtLeastOnce()
        from els in Opt(K("else").IgnoreThen(Expr))
        from end in K("end")
        select (SqlExpr)new CaseExpr(At(kw), operand, whens, els);

    private static readonly TokenListParser<SqlToken, SqlExpr> CastExpr =
        from kw in K("cast").Or(K("try_cast"))
        from lp in LParen
        from e in Expr
        from a in K("as")
        from t in TypeName
        from rp in RParen
        select (SqlExpr)new CastExpr(At(kw), e, t);

    private static readonly TokenListParser<SqlToken, SqlExpr> ExtractExpr =
        from kw in K("extract").Try()
        from lp in LParen
        from field in Token.EqualTo(SqlToken.Identifier).Named("date/time field")
        from f in K("from")
        from e in Expr
        from rp in RParen
        select (SqlExpr)new ExtractExpr(At(kw), field.ToStringValue().ToUpperInvariant(), e);

    /// <summary>name(args) with the special argument forms of SUBSTRING, TRIM, POSITION, and FILTER/OVER suffixes.</summary>
    private static readonly TokenListParser<SqlToken, SqlExpr> FunctionCall = input =>
    {
        var name = Token.EqualTo(SqlToken.Identifier).Or(Token.EqualTo(SqlToken.QuotedIdentifier))(input);
        if (!name.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(name);
        }

        var lp = LParen(name.Remainder);
        if (!lp.HasValue)
        {
            return TokenListParserResult.Empty<SqlToken, SqlExpr>(input);
        }

        var pos = At(name.Value);
        var fname = name.Value.Kind == SqlToken.QuotedIdentifier ? Unquote(name.Value.ToStringValue()) : name.Value.ToStringValue();
        var upper = fname.ToUpperInvariant();
        var rest = lp.Remainder;
        var args = new List<SqlExpr>();
        var distinct = false;
        var star = false;

        var close = RParen(rest);
        if (close.HasValue)
        {
            rest = close.Remainder;
        }
        else if (Token.EqualTo(SqlToken.Star)(rest) is { HasValue: true } st)
        {
            star = true;
            var rp = RParen(st.Remainder);
            if (!rp.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(rp);
            }

            rest = rp.Remainder;
        }
        else
        {
            if (upper is "TRIM")
            {
                var mode = K("both").Or(K("leading")).Or(K("trailing"))(rest);
                var m = "BOTH";
                if (mode.HasValue)
                {
                    m = mode.Value.ToStringValue().ToUpperInvariant();
                    rest = mode.Remainder;
                }

                var from0 = K("from")(rest);
                SqlExpr? chars = null;
                if (from0.HasValue)
                {
                    rest = from0.Remainder;
                }
                else
                {
                    var e0 = Expr(rest);
                    if (!e0.HasValue)
                    {
                        return e0;
                    }

                    var from1 = K("from")(e0.Remainder);
                    if (from1.HasValue)
                    {
                        chars = e0.Value;
                        rest = from1.Remainder;
                    }
                    else if (!mode.HasValue)
                    {
                        var rp0 = RParen(e0.Remainder);
                        if (!rp0.HasValue)
                        {
                            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(rp0);
                        }

                        return TokenListParserResult.Value<SqlToken, SqlExpr>(new CallExpr(pos, "TRIM", [new LiteralExpr(pos, "BOTH", DataType.String), new LiteralExpr(pos, " ", DataType.String), e0.Value]), input, rp0.Remainder);
                    }
                    else
                    {
                        return TokenListParserResult.Empty<SqlToken, SqlExpr>(e0.Remainder, ["`FROM`"]);
                    }
                }

                var target = Expr(rest);
                if (!target.HasValue)
                {
                    return target;
                }

                var rp1 = RParen(target.Remainder);
                if (!rp1.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(rp1);
                }

                return TokenListParserResult.Value<SqlToken, SqlExpr>(new CallExpr(pos, "TRIM", [new LiteralExpr(pos, m, DataType.String), chars ?? new LiteralExpr(pos, " ", DataType.String), target.Value]), input, rp1.Remainder);
            }

            var d = K("distinct").Or(K("all"))(rest);
            if (d.HasValue)
            {
                distinct = d.Value.ToStringValue().Equals("distinct", StringComparison.OrdinalIgnoreCase);
                rest = d.Remainder;
            }

            // POSITION(a IN b): the first operand stops before IN.
            var first = (upper == "POSITION" ? ConcatExpr! : Expr)(rest);
            if (!first.HasValue)
            {
                return first;
            }

            args.Add(first.Value);
            rest = first.Remainder;
            if (upper is "SUBSTRING" or "SUBSTR" && K("from")(rest) is { HasValue: true } fromKw)
            {
                var start = Expr(fromKw.Remainder);
                if (!start.HasValue)
                {
                    return start;
                }

                args.Add(start.Value);
                rest = start.Remainder;
                if (K("for")(rest) is { HasValue: true } forKw)
                {
                    var len = Expr(forKw.Remainder);
                    if (!len.HasValue)
                    {
                        return len;
                    }

                    args.Add(len.Value);
                    rest = len.Remainder;
                }
            }
            else if (upper is "POSITION" && K("in")(rest) is { HasValue: true } inKw)
            {
                var hay = Expr(inKw.Remainder);
                if (!hay.HasValue)
                {
                    return hay;
                }

                args.Add(hay.Value);
                rest = hay.Remainder;
            }
            else
            {
                while (Comma(rest) is { HasValue: true } c)
                {
                    var next = Expr(c.Remainder);
                    if (!next.HasValue)
                    {
                        return next;
                    }

                    args.Add(next.Value);
                    rest = next.Remainder;
                }
            }

            var rp = RParen(rest);
            if (!rp.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(rp);
            }

            rest = rp.Remainder;
        }

        SqlExpr? filter = null;
        var filterKw = K("filter")(rest);
        if (filterKw.HasValue)
        {
            var f = LParen.IgnoreThen(K("where")).IgnoreThen(Expr).Then(e => RParen.Value(e))(filterKw.Remainder);
            if (!f.HasValue)
            {
                return f;
            }

            filter = f.Value;
            rest = f.Remainder;
        }

        WindowSpecExpr? over = null;
        if (K("over")(rest).HasValue)
        {
            var o = OverClause(rest);
            if (!o.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, WindowSpecExpr, SqlExpr>(o);
            }

            over = o.Value;
            rest = o.Remainder;
        }

        return TokenListParserResult.Value<SqlToken, SqlExpr>(new CallExpr(pos, upper, args, distinct, star, filter, over), input, rest);
    };

    private static readonly TokenListParser<SqlToken, SqlExpr> ColumnRef =
        from first in Name
        from second in Dot.IgnoreThen(Name).OptionalOrDefault()
        select (SqlExpr)(second.Name is null ? new ColumnExpr(first.Pos, null, first.Name) : new ColumnExpr(first.Pos, first.Name, second.Name));

    private static readonly TokenListParser<SqlToken, SqlExpr> Parenthesized = input =>
    {
        var lp = LParen(input);
        if (!lp.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(lp);
        }

        if (K("select")(lp.Remainder).HasValue || K("with")(lp.Remainder).HasValue || K("values")(lp.Remainder).HasValue)
        {
            var q = Query.Then(qq => RParen.Value(qq))(lp.Remainder);
            if (!q.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, QueryExpr, SqlExpr>(q);
            }

            return TokenListParserResult.Value<SqlToken, SqlExpr>(new SubqueryExpr(At(lp.Value), q.Value, "scalar"), input, q.Remainder);
        }

        return Expr.Then(e => RParen.Value(e))(lp.Remainder);
    };

    private static readonly TokenListParser<SqlToken, SqlExpr> Primary =
        Parenthesized
            .Or(Parse.Ref(() => ExistsSubquery!))
            .Or(Parse.Ref(() => CollectionValue!))
            .Or(IntervalLiteral)
            .Or(CaseExpr)
            .Or(CastExpr)
            .Or(ExtractExpr)
            .Or(TypedLiteral)
            .Or(SimpleLiteral)
            .Or(FunctionCall)
            .Or(ColumnRef)
            .Named("expression");

    private static readonly TokenListParser<SqlToken, SqlExpr> Unary =
        (from op in Token.EqualTo(SqlToken.Minus).Or(Token.EqualTo(SqlToken.Plus))
         from e in Parse.Ref(() => Unary!)
         select op.Kind == SqlToken.Plus ? e : Negate(At(op), e))
        .Or(Primary);

    private static SqlExpr Negate(SourcePosition pos, SqlExpr e) => e switch
    {
        LiteralExpr { Value: int i } l => l with { Pos = pos, Value = -i },
        LiteralExpr { Value: long v } l => l with { Pos = pos, Value = -v },
        LiteralExpr { Value: double v } l => l with { Pos = pos, Value = -v },
        IntervalExpr iv => iv with { Pos = pos, Millis = -iv.Millis },
        _ => new UnaryExpr(pos, "-", e),
    };

    private static TokenListParser<SqlToken, string> Op(SqlToken kind, string op) => Token.EqualTo(kind).Select(_ => op);

    private static readonly TokenListParser<SqlToken, SqlExpr> Multiplicative =
        Parse.Chain(Op(SqlToken.Star, "*").Or(Op(SqlToken.Slash, "/")).Or(Op(SqlToken.Percent, "%")), Unary, (op, l, r) => new BinaryExpr(l.Pos, op, l, r));

    private static readonly TokenListParser<SqlToken, SqlExpr> Additive =
        Parse.Chain(Op(SqlToken.Plus, "+").Or(Op(SqlToken.Minus, "-")), Multiplicative, (op, l, r) => new BinaryExpr(l.Pos, op, l, r));

    private static readonly TokenListParser<SqlToken, SqlExpr> ConcatExpr =
        Parse.Chain(Op(SqlToken.Concat, "||"), Additive, (op, l, r) => new BinaryExpr(l.Pos, op, l, r));

    private static readonly TokenListParser<SqlToken, string> CompareOp =
        Op(SqlToken.Equal, "=").Or(Op(SqlToken.NotEqual, "<>")).Or(Op(SqlToken.LessOrEqual, "<=")).Or(Op(SqlToken.Less, "<"))
            .Or(Op(SqlToken.GreaterOrEqual, ">=")).Or(Op(SqlToken.Greater, ">"));

    /// <summary>A comparison or one of the postfix predicates (IS, IN, BETWEEN, LIKE) on a concat-level operand.</summary>
    private static readonly TokenListParser<SqlToken, SqlExpr> Predicate = input =>
    {
        var left = ConcatExpr(input);
        if (!left.HasValue)
        {
            return left;
        }

        var e = left.Value;
        var rest = left.Remainder;
        while (true)
        {
            var cmp = CompareOp(rest);
            if (cmp.HasValue)
            {
                var anyAll = K("any").Or(K("all")).Or(K("some"))(cmp.Remainder);
                if (anyAll.HasValue)
                {
                    throw new SqlException(At(anyAll.Value), "not supported: quantified comparisons (ANY/ALL/SOME)");
                }

                var right = ConcatExpr(cmp.Remainder);
                if (!right.HasValue)
                {
                    return right;
                }

                e = new BinaryExpr(e.Pos, cmp.Value, e, right.Value);
                rest = right.Remainder;
                continue;
            }

            var isKw = K("is")(rest);
            if (isKw.HasValue)
            {
                var r2 = isKw.Remainder;
                var not = K("not")(r2);
                if (not.HasValue)
                {
                    r2 = not.Remainder;
                }

                var what = K("null").Or(K("true")).Or(K("false")).Or(K("unknown"))(r2);
                if (!what.HasValue)
                {
                    if (K("distinct")(r2) is { HasValue: true } dist)
                    {
                        var from = K("from")(dist.Remainder);
                        if (!from.HasValue)
                        {
                            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(from);
                        }

                        var other = ConcatExpr(from.Remainder);
                        if (!other.HasValue)
                        {
                            return other;
                        }

                        e = new BinaryExpr(e.Pos, not.HasValue ? "IS NOT DISTINCT FROM" : "IS DISTINCT FROM", e, other.Value);
                        rest = other.Remainder;
                        continue;
                    }

                    return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(what);
                }

                e = new IsExpr(At(isKw.Value), e, what.Value.ToStringValue().ToUpperInvariant(), not.HasValue);
                rest = what.Remainder;
                continue;
            }

            var r = rest;
            var negated = K("not")(r);
            if (negated.HasValue)
            {
                r = negated.Remainder;
            }

            var inKw = K("in")(r);
            if (inKw.HasValue)
            {
                var lp = LParen(inKw.Remainder);
                if (!lp.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(lp);
                }

                if (K("select")(lp.Remainder).HasValue || K("with")(lp.Remainder).HasValue || K("values")(lp.Remainder).HasValue)
                {
                    var sub = Query.Then(qq => RParen.Value(qq))(lp.Remainder);
                    if (!sub.HasValue)
                    {
                        return TokenListParserResult.CastEmpty<SqlToken, QueryExpr, SqlExpr>(sub);
                    }

                    e = new InSubqueryExpr(At(inKw.Value), e, sub.Value, negated.HasValue);
                    rest = sub.Remainder;
                    continue;
                }

                var list = Expr.AtLeastOnceDelimitedBy(Comma).Then(l => RParen.Value(l))(lp.Remainder);
                if (!list.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, SqlExpr[], SqlExpr>(list);
                }

                e = new InExpr(At(inKw.Value), e, list.Value, negated.HasValue);
                rest = list.Remainder;
                continue;
            }

            var between = K("between")(r);
            if (between.HasValue)
            {
                var r3 = between.Remainder;
                if (K("symmetric").Or(K("asymmetric"))(r3) is { HasValue: true } sym)
                {
                    if (sym.Value.ToStringValue().Equals("symmetric", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new SqlException(At(sym.Value), "not supported: BETWEEN SYMMETRIC");
                    }

                    r3 = sym.Remainder;
                }

                var lo = ConcatExpr(r3);
                if (!lo.HasValue)
                {
                    return lo;
                }

                var and = K("and")(lo.Remainder);
                if (!and.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(and);
                }

                var hi = ConcatExpr(and.Remainder);
                if (!hi.HasValue)
                {
                    return hi;
                }

                e = new BetweenExpr(At(between.Value), e, lo.Value, hi.Value, negated.HasValue);
                rest = hi.Remainder;
                continue;
            }

            var like = K("like").Or(K("similar"))(r);
            if (like.HasValue)
            {
                if (like.Value.ToStringValue().Equals("similar", StringComparison.OrdinalIgnoreCase))
                {
                    throw new SqlException(At(like.Value), "not supported: SIMILAR TO");
                }

                var pattern = ConcatExpr(like.Remainder);
                if (!pattern.HasValue)
                {
                    return pattern;
                }

                if (K("escape")(pattern.Remainder) is { HasValue: true } esc)
                {
                    throw new SqlException(At(esc.Value), "not supported: LIKE ... ESCAPE");
                }

                e = new LikeExpr(At(like.Value), e, pattern.Value, negated.HasValue);
                rest = pattern.Remainder;
                continue;
            }

            break;
        }

        return TokenListParserResult.Value(e, input, rest);
    };

    private static readonly TokenListParser<SqlToken, SqlExpr> NotExpr =
        (from not in K("not")
         from e in Parse.Ref(() => NotExpr!)
         select (SqlExpr)new UnaryExpr(At(not), "NOT", e))
        .Or(Predicate);

    private static readonly TokenListParser<SqlToken, SqlExpr> AndExpr =
        Parse.Chain(K("and").Select(_ => "AND"), NotExpr, (op, l, r) => new BinaryExpr(l.Pos, op, l, r));

    private static readonly TokenListParser<SqlToken, SqlExpr> OrExpr =
        Parse.Chain(K("or").Select(_ => "OR"), AndExpr, (op, l, r) => new BinaryExpr(l.Pos, op, l, r));

    // ------------------------------------------------------------ queries

    private static readonly TokenListParser<SqlToken, OrderItem> OrderItemParser =
        from e in Expr
        from dir in K("asc").Or(K("desc")).OptionalOrDefault()
        from nulls in Ks("nulls").IgnoreThen(K("first").Or(K("last"))).OptionalOrDefault()
        select new OrderItem(e, dir.HasValue && dir.ToStringValue().Equals("desc", StringComparison.OrdinalIgnoreCase));

    private static readonly TokenListParser<SqlToken, string?> Alias =
        K("as").IgnoreThen(Name).Select(n => (string?)n.Name)
            .Or(Name.Select(n => (string?)n.Name))
            .OptionalOrDefault();

    private static readonly TokenListParser<SqlToken, SelectItem> SelectItemParser =
        Token.EqualTo(SqlToken.Star).Select(t => new SelectItem(null, null, At(t), null, true))
            .Or((from q in Name
                 from d in Dot
                 from s in Token.EqualTo(SqlToken.Star)
                 select new SelectItem(null, null, q.Pos, q.Name, true)).Try())
            .Or(from pos in Pos
                from e in Expr
                from alias in Alias
                select new SelectItem(e, alias, pos));

    private static readonly TokenListParser<SqlToken, FromItem> TableFactor = Parse.Ref(() => TableFactorImpl!);

    private static readonly TokenListParser<SqlToken, string> JoinKind =
        K("join").Value("INNER")
            .Or(K("inner").IgnoreThen(K("join")).Value("INNER"))
            .Or(K("left").IgnoreThen(K("outer").Optional()).IgnoreThen(K("join")).Value("LEFT"))
            .Or(K("right").IgnoreThen(K("outer").Optional()).IgnoreThen(K("join")).Value("RIGHT"))
            .Or(K("full").IgnoreThen(K("outer").Optional()).IgnoreThen(K("join")).Value("FULL"))
            .Or(K("cross").IgnoreThen(K("join")).Value("CROSS"))
            .Or(NotSupported<string>(K("natural"), "NATURAL JOIN"));

    private static readonly TokenListParser<SqlToken, FromItem> JoinedTable = input =>
    {
        var left = TableFactor(input);
        if (!left.HasValue)
        {
            return left;
        }

        var item = left.Value;
        var rest = left.Remainder;
        while (true)
        {
            var kindPos = Pos(rest).Value;
            var kind = JoinKind(rest);
            if (!kind.HasValue)
            {
                if (kind.Remainder != rest)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, string, FromItem>(kind);
                }

                break;
            }

            if (K("lateral")(kind.Remainder) is { HasValue: true } lat)
            {
                throw new SqlException(At(lat.Value), "not supported: LATERAL joins");
            }

            var right = TableFactor(kind.Remainder);
            if (!right.HasValue)
            {
                return right;
            }

            rest = right.Remainder;
            SqlExpr? on = null;
            if (kind.Value != "CROSS")
            {
                if (K("using")(rest) is { HasValue: true } usingKw)
                {
                    throw new SqlException(At(usingKw.Value), "not supported: JOIN ... USING (write ON a.k = b.k)");
                }

                var onKw = K("on")(rest);
                if (!onKw.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, FromItem>(onKw);
                }

                var cond = Expr(onKw.Remainder);
                if (!cond.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, SqlExpr, FromItem>(cond);
                }

                on = cond.Value;
                rest = cond.Remainder;
            }

            item = new JoinRef(kindPos, kind.Value, item, right.Value, on);
        }

        return TokenListParserResult.Value(item, input, rest);
    };

    private static readonly TokenListParser<SqlToken, FromItem> FromClause =
        JoinedTable.AtLeastOnceDelimitedBy(Comma).Select(items =>
        {
            var result = items[0];
            for (var i = 1; i < items.Length; i++)
            {
                result = new JoinRef(items[i].Pos, "CROSS", result, items[i], null);
            }

            return result;
        });

    /// <summary>PARTITION BY a, b inside a window TVF: stops before the comma that introduces DESCRIPTOR(...).</summary>
    private static readonly TokenListParser<SqlToken, SqlExpr[]> PartitionColumns = input =>
    {
        var cols = new List<SqlExpr>();
        var first = ColumnRef(input);
        if (!first.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, SqlExpr, SqlExpr[]>(first);
        }

        cols.Add(first.Value);
        var rest = first.Remainder;
        while (Comma(rest) is { HasValue: true } comma && !K("descriptor")(comma.Remainder).HasValue)
        {
            var next = ColumnRef(comma.Remainder);
            if (!next.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, SqlExpr, SqlExpr[]>(next);
            }

            cols.Add(next.Value);
            rest = next.Remainder;
        }

        return TokenListParserResult.Value(cols.ToArray(), input, rest);
    };

    private static readonly TokenListParser<SqlToken, FromItem> WindowTvf =
        from kind in K("tumble").Or(K("hop")).Or(K("session")).Or(K("cumulate")).Named("window function (TUMBLE, HOP, SESSION, CUMULATE)")
        from lp in LParen
        from dataName in Parse.Ref(() => TvfArgName!)
        from tableKw in K("table")
        from src in QualifiedName
        from part in Ks("partition", "by").IgnoreThen(PartitionColumns).OptionalOrDefault([])
        from c1 in Comma
        from timeName in Parse.Ref(() => TvfArgName!)
        from desc in K("descriptor")
        from lp2 in LParen
        from col in Name
        from rp2 in RParen
        from args in Comma.IgnoreThen(Parse.Ref(() => TvfArgName!)).IgnoreThen(Expr).Many()
        from rp in RParen
        select (FromItem)new WindowTvfRef(At(kind), kind.ToStringValue().ToUpperInvariant(), new TableRef(src.Pos, src.Name, null), part, col.Name, col.Pos, args, null);

    private static readonly TokenListParser<SqlToken, FromItem> TableFactorImpl = input =>
    {
        var lp = LParen(input);
        if (lp.HasValue)
        {
            if (K("select")(lp.Remainder).HasValue || K("with")(lp.Remainder).HasValue || K("values")(lp.Remainder).HasValue || LParen(lp.Remainder).HasValue)
            {
                var q = Query.Then(qq => RParen.Value(qq))(lp.Remainder);
                if (!q.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, QueryExpr, FromItem>(q);
                }

                var alias = Alias(q.Remainder);
                if (!alias.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, string?, FromItem>(alias);
                }

                var columns = ColumnAliasList(alias.Remainder, alias.Value);
                if (!columns.HasValue)
                {
                    return TokenListParserResult.CastEmpty<SqlToken, string[], FromItem>(columns);
                }

                return TokenListParserResult.Value<SqlToken, FromItem>(new SubqueryRef(At(lp.Value), q.Value, alias.Value, columns.Value), input, columns.Remainder);
            }

            var inner = FromClause.Then(f => RParen.Value(f))(lp.Remainder);
            return inner;
        }

        var tableKw = K("table")(input);
        if (tableKw.HasValue)
        {
            var tvf = LParen.IgnoreThen(WindowTvf).Then(w => RParen.Value(w))(tableKw.Remainder);
            if (!tvf.HasValue)
            {
                return tvf;
            }

            var alias = Alias(tvf.Remainder);
            if (!alias.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, string?, FromItem>(alias);
            }

            return TokenListParserResult.Value<SqlToken, FromItem>(((WindowTvfRef)tvf.Value) with { Alias = alias.Value }, input, alias.Remainder);
        }

        if (K("unnest")(input) is { HasValue: true } un)
        {
            throw new SqlException(At(un.Value), "not supported: UNNEST");
        }

        if (K("lateral")(input) is { HasValue: true } lat)
        {
            throw new SqlException(At(lat.Value), "not supported: LATERAL");
        }

        if (K("values")(input) is { HasValue: true } vals)
        {
            throw new SqlException(At(vals.Value), "not supported: VALUES as a table");
        }

        var name = QualifiedName(input);
        if (!name.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, (string, SourcePosition), FromItem>(name);
        }

        var rest = name.Remainder;
        SqlExpr? asOf = null;
        if (K("for")(rest) is { HasValue: true } forKw)
        {
            // FOR SYSTEM_TIME AS OF x: a temporal join against the version of the table valid at x.
            var sys = Ks("system_time", "as", "of").IgnoreThen(Expr)(forKw.Remainder);
            if (!sys.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, SqlExpr, FromItem>(sys);
            }

            asOf = sys.Value;
            rest = sys.Remainder;
        }

        RejectMatchRecognize(rest);

        if (LParen(rest) is { HasValue: true } callParen)
        {
            throw new SqlException(name.Value.Pos, $"not supported: table function `{name.Value.Name}` (window functions need TABLE(TUMBLE(...)))");
        }

        var a = Alias(rest);
        if (!a.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, string?, FromItem>(a);
        }

        RejectMatchRecognize(a.Remainder);
        return TokenListParserResult.Value<SqlToken, FromItem>(new TableRef(name.Value.Pos, name.Value.Name, a.Value, asOf), input, a.Remainder);
    };


    private static readonly TokenListParser<SqlToken, SqlExpr> LimitClause =
        K("limit").IgnoreThen(Expr)
            .Or(NotSupported<SqlExpr>(K("offset"), "OFFSET"))
            .Or(NotSupported<SqlExpr>(K("fetch"), "FETCH FIRST"));

    private static readonly TokenListParser<SqlToken, QueryExpr> SelectCore =
        from kw in K("select")
        from distinct in K("distinct").Value(true).Or(K("all").Value(false)).OptionalOrDefault(false)
        from items in SelectItemParser.AtLeastOnceDelimitedBy(Comma)
        from fromItem in K("from").IgnoreThen(FromClause).AsNullable().OptionalOrDefault()
        from whereExpr in Opt(K("where").IgnoreThen(Expr))
        from groupBy in Ks("group", "by").IgnoreThen(Parse.Ref(() => GroupingItems!)).OptionalOrDefault([])
        from having in Opt(K("having").IgnoreThen(Expr))
        from windows in Parse.Ref(() => WindowClause!)
        select (QueryExpr)new SelectQuery(At(kw), distinct, items, fromItem, whereExpr, groupBy, having, [], null, windows);

    private static readonly TokenListParser<SqlToken, SqlExpr[]> GroupingItems =
        NotSupported<SqlExpr[]>(K("grouping").Or(K("rollup")).Or(K("cube")), "GROUPING SETS / ROLLUP / CUBE")
            .Or(Expr.AtLeastOnceDelimitedBy(Comma));

    private static readonly TokenListParser<SqlToken, QueryExpr> SetOperand =
        SelectCore.Or(LParen.IgnoreThen(Query).Then(q => RParen.Value(q)));

    private static readonly TokenListParser<SqlToken, (string Op, bool All, SourcePosition Pos)> SetOperator =
        from kw in K("union").Or(K("intersect")).Or(K("except")).Or(K("minus"))
        from all in K("all").Value(true).Or(K("distinct").Value(false)).OptionalOrDefault(false)
        select (kw.ToStringValue().ToUpperInvariant(), all, At(kw));

    private static readonly TokenListParser<SqlToken, QueryExpr> QueryBody = input =>
    {
        if (K("with")(input).HasValue)
        {
            return WithClause!(input);
        }

        if (K("values")(input).HasValue)
        {
            return ValuesClause!(input);
        }

        var first = SetOperand(input);
        if (!first.HasValue)
        {
            return first;
        }

        var q = first.Value;
        var rest = first.Remainder;
        while (SetOperator(rest) is { HasValue: true } op)
        {
            var next = SetOperand(op.Remainder);
            if (!next.HasValue)
            {
                return next;
            }

            q = new SetOpQuery(op.Value.Pos, op.Value.Op, op.Value.All, q, next.Value);
            rest = next.Remainder;
        }

        var order = Ks("order", "by").IgnoreThen(OrderItemParser.AtLeastOnceDelimitedBy(Comma))(rest);
        OrderItem[] orderBy = [];
        if (order.HasValue)
        {
            orderBy = order.Value;
            rest = order.Remainder;
        }
        else if (order.Remainder != rest)
        {
            return TokenListParserResult.CastEmpty<SqlToken, OrderItem[], QueryExpr>(order);
        }

        var limit = LimitClause(rest);
        SqlExpr? limitExpr = null;
        if (limit.HasValue)
        {
            limitExpr = limit.Value;
            rest = limit.Remainder;
        }
        else if (limit.Remainder != rest)
        {
            return limit.Remainder == rest ? TokenListParserResult.Value(q, input, rest) : TokenListParserResult.CastEmpty<SqlToken, SqlExpr, QueryExpr>(limit);
        }

        if (orderBy.Length > 0 || limitExpr is not null)
        {
            if (q is SelectQuery s)
            {
                q = s with { OrderBy = orderBy, Limit = limitExpr };
            }
            else
            {
                throw new SqlException(q.Pos, "not supported: ORDER BY / LIMIT on a set operation");
            }
        }

        return TokenListParserResult.Value(q, input, rest);
    };

    // ------------------------------------------------------------ statements

    private static readonly TokenListParser<SqlToken, (KeyValuePair<string, string> Option, SourcePosition ValuePos)> OptionItem =
        from key in StringLit.Or(Name.AtLeastOnceDelimitedBy(Dot).Select(p => string.Join('.', p.Select(x => x.Name))))
        from eq in T(SqlToken.Equal, "=")
        from pos in Pos
        from value in StringLit.Or(Token.EqualTo(SqlToken.Integer).Or(Token.EqualTo(SqlToken.Number)).Or(Token.EqualTo(SqlToken.Identifier)).Select(t => t.ToStringValue()))
        select (new KeyValuePair<string, string>(key.ToLowerInvariant(), value), pos);

    private static readonly TokenListParser<SqlToken, (KeyValuePair<string, string> Option, SourcePosition ValuePos)[]> WithOptions =
        K("with").IgnoreThen(LParen).IgnoreThen(OptionItem.ManyDelimitedBy(Comma)).Then(o => RParen.Value(o));

    /// <summary>One element of a CREATE column list: a column, a WATERMARK, or a PRIMARY KEY.</summary>
    private abstract record Element;

    private sealed record ColumnElement(ColumnDef Def, bool IsKey = false) : Element;

    private sealed record WatermarkElement(WatermarkDef Def) : Element;

    private sealed record KeyElement(string[] Columns) : Element;

    private static readonly TokenListParser<SqlToken, Element> WatermarkElementParser =
        from kw in K("watermark")
        from f in K("for")
        from col in Name
        from a in K("as")
        from e in Expr
        select (Element)new WatermarkElement(new WatermarkDef(col.Name, e, At(kw)));

    private static readonly TokenListParser<SqlToken, Element> KeyElementParser =
        from pk in Ks("primary", "key")
        from cols in LParen.IgnoreThen(Name.AtLeastOnceDelimitedBy(Comma)).Then(c => RParen.Value(c))
        from ne in Ks("not", "enforced").Optional()
        select (Element)new KeyElement(cols.Select(c => c.Name).ToArray());

    private static readonly TokenListParser<SqlToken, Element> ColumnElementParser = input =>
    {
        var name = Name(input);
        if (!name.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, (string, SourcePosition), Element>(name);
        }

        var asKw = K("as")(name.Remainder);
        if (asKw.HasValue)
        {
            var computed = Expr(asKw.Remainder);
            if (!computed.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, SqlExpr, Element>(computed);
            }

            return TokenListParserResult.Value<SqlToken, Element>(new ColumnElement(new ColumnDef(name.Value.Name, new TypeRef(DataType.Null), name.Value.Pos, computed.Value)), input, computed.Remainder);
        }

        var type = TypeName(name.Remainder);
        if (!type.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, TypeRef, Element>(type);
        }

        var rest = type.Remainder;
        var notNull = false;
        if (Ks("not", "null")(rest) is { HasValue: true } nn)
        {
            notNull = true;
            rest = nn.Remainder;
        }
        else if (K("null")(rest) is { HasValue: true } n)
        {
            rest = n.Remainder;
        }

        if (K("metadata")(rest) is { HasValue: true } md)
        {
            throw new SqlException(At(md.Value), "not supported: METADATA columns");
        }

        if (Ks("primary", "key")(rest) is { HasValue: true } pk)
        {
            rest = Ks("not", "enforced").Optional()(pk.Remainder).Remainder;
            return TokenListParserResult.Value<SqlToken, Element>(new ColumnElement(new ColumnDef(name.Value.Name, type.Value, name.Value.Pos, null, true), true), input, rest);
        }

        if (K("comment")(rest) is { HasValue: true } comment)
        {
            rest = StringLit(comment.Remainder).Remainder;
        }

        return TokenListParserResult.Value<SqlToken, Element>(new ColumnElement(new ColumnDef(name.Value.Name, type.Value, name.Value.Pos, null, notNull)), input, rest);
    };

    private static readonly TokenListParser<SqlToken, Statement> CreateSource = input =>
    {
        var create = K("create")(input);
        if (!create.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, Statement>(create);
        }

        var rest = create.Remainder;
        if (K("temporary")(rest) is { HasValue: true } temp)
        {
            rest = temp.Remainder;
        }

        if (K("or")(rest) is { HasValue: true } or)
        {
            var replace = K("replace")(or.Remainder);
            if (!replace.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, Statement>(replace);
            }

            rest = replace.Remainder;
        }

        var kind = K("stream").Or(K("table")).Or(K("view")).Or(K("source")).Or(K("sink"))(rest);
        if (!kind.HasValue)
        {
            if (K("function")(rest) is { HasValue: true } fn)
            {
                throw new SqlException(At(fn.Value), "not supported: CREATE FUNCTION (user-defined functions)");
            }

            if (K("catalog")(rest).HasValue || K("database")(rest).HasValue)
            {
                throw new SqlException(Pos(rest).Value, "not supported: CREATE CATALOG / DATABASE");
            }

            if (Ks("materialized", "view")(rest) is { HasValue: true })
            {
                kind = Ks("materialized", "view")(rest);
            }
            else
            {
                return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, Statement>(kind);
            }
        }

        rest = kind.Remainder;
        var kindText = kind.Value.ToStringValue().ToUpperInvariant();
        var ifNotExists = false;
        if (Ks("if", "not", "exists")(rest) is { HasValue: true } ine)
        {
            ifNotExists = true;
            rest = ine.Remainder;
        }

        var name = QualifiedName(rest);
        if (!name.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, (string, SourcePosition), Statement>(name);
        }

        rest = name.Remainder;
        if (kindText == "VIEW")
        {
            var body = K("as").IgnoreThen(Query)(rest);
            if (!body.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, QueryExpr, Statement>(body);
            }

            return TokenListParserResult.Value<SqlToken, Statement>(new CreateViewStatement(At(create.Value), name.Value.Name, body.Value), input, body.Remainder);
        }

        var elements = LParen.IgnoreThen(WatermarkElementParser.Or(KeyElementParser.Try()).Or(ColumnElementParser).ManyDelimitedBy(Comma)).Then(e => RParen.Value(e))(rest);
        if (!elements.HasValue)
        {
            if (K("as")(rest) is { HasValue: true } asKw)
            {
                throw new SqlException(At(asKw.Value), "not supported: CREATE TABLE ... AS SELECT (declare the table, then INSERT INTO it)");
            }

            if (K("like")(rest) is { HasValue: true } likeKw)
            {
                throw new SqlException(At(likeKw.Value), "not supported: CREATE TABLE ... LIKE");
            }

            return TokenListParserResult.CastEmpty<SqlToken, Element[], Statement>(elements);
        }

        rest = elements.Remainder;
        if (K("comment")(rest) is { HasValue: true } comment)
        {
            rest = StringLit(comment.Remainder).Remainder;
        }

        if (Ks("partitioned", "by")(rest) is { HasValue: true } pb)
        {
            var cols = LParen.IgnoreThen(Name.AtLeastOnceDelimitedBy(Comma)).Then(c => RParen.Value(c))(pb.Remainder);
            rest = cols.HasValue ? cols.Remainder : rest;
        }

        (KeyValuePair<string, string> Option, SourcePosition ValuePos)[] options = [];
        if (K("with")(rest).HasValue)
        {
            var with = WithOptions(rest);
            if (!with.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, (KeyValuePair<string, string>, SourcePosition)[], Statement>(with);
            }

            options = with.Value;
            rest = with.Remainder;
        }

        var columns = new List<ColumnDef>();
        WatermarkDef? watermark = null;
        var key = new List<string>();
        foreach (var e in elements.Value)
        {
            switch (e)
            {
                case ColumnElement c:
                    columns.Add(c.Def);
                    if (c.IsKey)
                    {
                        key.Add(c.Def.Name);
                    }

                    break;
                case WatermarkElement w:
                    watermark = w.Def;
                    break;
                case KeyElement k:
                    key.AddRange(k.Columns);
                    break;
            }
        }

        return TokenListParserResult.Value<SqlToken, Statement>(
            new CreateSourceStatement(At(create.Value), kindText is "TABLE" or "SINK", name.Value.Name, columns, watermark, key, options.Select(o => o.Option).ToArray(), ifNotExists)
            {
                OptionPositions = options.GroupBy(o => o.Option.Key).ToDictionary(g => g.Key, g => g.Last().ValuePos),
            },
            input,
            rest);
    };

    private static readonly TokenListParser<SqlToken, Statement> Insert =
        from kw in K("insert")
        from intoKw in K("into").Or(K("overwrite"))
        from target in QualifiedName
        from partition in NotSupported<Token<SqlToken>>(K("partition"), "INSERT ... PARTITION").OptionalOrDefault()
        from columns in Parse.Ref(() => InsertColumnList!)
        from q in Query
        select (Statement)new InsertStatement(At(kw), target.Name, target.Pos, q) { Columns = columns };

    private static readonly TokenListParser<SqlToken, Statement> QueryStatement =
        from pos in Pos
        from q in Query
        select (Statement)new QueryStatement(pos, q);

    private static readonly TokenListParser<SqlToken, Statement> Show =
        from kw in K("show")
        from what in Token.EqualTo(SqlToken.Identifier).Named("STREAMS, TABLES or VIEWS")
        select (Statement)new ShowStatement(At(kw), what.ToStringValue().ToUpperInvariant());

    private static readonly TokenListParser<SqlToken, Statement> Describe =
        from kw in K("describe").Or(K("desc"))
        from name in QualifiedName
        select (Statement)new DescribeStatement(At(kw), name.Name, name.Pos);

    private static readonly TokenListParser<SqlToken, Statement> Drop =
        from kw in K("drop")
        from kind in K("stream").Or(K("table")).Or(K("view")).Or(K("source")).Or(K("sink"))
        from ifExists in Ks("if", "exists").Value(true).OptionalOrDefault(false)
        from name in QualifiedName
        select (Statement)new DropStatement(At(kw), kind.ToStringValue().ToUpperInvariant(), name.Name, name.Pos, ifExists);

    private static readonly TokenListParser<SqlToken, Statement> Set =
        from kw in K("set").Or(K("reset"))
        from key in StringLit.Or(Name.AtLeastOnceDelimitedBy(Dot).Select(p => string.Join('.', p.Select(x => x.Name)))).OptionalOrDefault("")
        from value in T(SqlToken.Equal, "=").IgnoreThen(StringLit.Or(Token.EqualTo(SqlToken.Identifier).Or(Token.EqualTo(SqlToken.Integer)).Select(t => t.ToStringValue()))).OptionalOrDefault("")
        select (Statement)new SetStatement(At(kw), key, value);

    private static readonly TokenListParser<SqlToken, Statement> Statement0 = Parse.Ref(() => StatementImpl!);

    private static readonly TokenListParser<SqlToken, Statement> Explain =
        from kw in K("explain")
        from details in Parse.Ref(() => ExplainDetails!)
        from plan in Ks("plan", "for").Optional()
        from inner in Statement0
        select (Statement)new ExplainStatement(At(kw), inner);

    private static readonly TokenListParser<SqlToken, Statement> StatementImpl =
        CreateSource
            .Or(Insert)
            .Or(Parse.Ref(() => StatementSet!))
            .Or(Explain)
            .Or(Show)
            .Or(Describe)
            .Or(Drop)
            .Or(Set)
            .Or(NotSupported<Statement>(K("update").Or(K("delete")).Or(K("alter")).Or(K("use")).Or(K("load")).Or(K("execute")).Or(K("begin")), "this statement"))
            .Or(QueryStatement)
            .Named("statement");

    private static readonly TokenListParser<SqlToken, Statement[]> Script =
        (from first in Statement0.AsNullable().OptionalOrDefault()
         from rest in Token.EqualTo(SqlToken.Semicolon).IgnoreThen(Statement0.AsNullable().OptionalOrDefault()).Many()
         select (first is null ? rest : rest.Prepend(first)).Where(s => s is not null).Select(s => s!).ToArray())
        .AtEnd();
}
