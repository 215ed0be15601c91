using Superpower;
using Superpower.Model;
using Superpower.Parsers;

namespace Streams.Query.Syntax;

/// <summary>
/// WITH (common table expressions), VALUES, EXISTS / IN subqueries, column alias lists, statement sets.
/// These parsers are lambdas (not combinator chains) so they can use the fields of the other part of the class
/// whatever order the static fields are initialised in.
/// </summary>
internal static partial class SqlParser
{
    /// <summary>WITH name [(col, ...)] AS (query) [, ...] body.</summary>
    private static readonly TokenListParser<SqlToken, QueryExpr> WithClause = input =>
    {
        var with = K("with")(input);
        if (!with.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, QueryExpr>(with);
        }

        if (K("recursive")(with.Remainder) is { HasValue: true } recursive)
        {
            throw new SqlException(At(recursive.Value), "not supported: WITH RECURSIVE");
        }

        var ctes = new List<CommonTableExpr>();
        var rest = with.Remainder;
        while (true)
        {
            var name = Name(rest);
            if (!name.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, (string, SourcePosition), QueryExpr>(name);
            }

            var columns = ColumnAliasList(name.Remainder, name.Value.Name);
            if (!columns.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, string[], QueryExpr>(columns);
            }

            var body = K("as").IgnoreThen(LParen).IgnoreThen(Query).Then(q => RParen.Value(q))(columns.Remainder);
            if (!body.HasValue)
            {
                return body;
            }

            ctes.Add(new CommonTableExpr(name.Value.Name, name.Value.Pos, columns.Value, body.Value));
            rest = body.Remainder;
            if (Comma(rest) is not { HasValue: true } comma)
            {
                break;
            }

            rest = comma.Remainder;
        }

        var main = Query(rest);
        if (!main.HasValue)
        {
            return main;
        }

        return TokenListParserResult.Value<SqlToken, QueryExpr>(new WithQuery(At(with.Value), ctes, main.Value), input, main.Remainder);
    };

    /// <summary>VALUES (e, ...), (e, ...): every row the same width.</summary>
    private static readonly TokenListParser<SqlToken, QueryExpr> ValuesClause = input =>
    {
        var values = K("values")(input);
        if (!values.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, QueryExpr>(values);
        }

        var row = LParen.IgnoreThen(Expr.AtLeastOnceDelimitedBy(Comma)).Then(r => RParen.Value(r));
        var rows = row.AtLeastOnceDelimitedBy(Comma)(values.Remainder);
        if (!rows.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, SqlExpr[][], QueryExpr>(rows);
        }

        var width = rows.Value[0].Length;
        foreach (var r in rows.Value)
        {
            if (r.Length != width)
            {
                throw new SqlException(r[0].Pos, $"VALUES rows must all have {width} value{(width == 1 ? "" : "s")}, this one has {r.Length}");
            }
        }

        return TokenListParserResult.Value<SqlToken, QueryExpr>(new ValuesQuery(At(values.Value), rows.Value), input, rows.Remainder);
    };

    /// <summary>[NOT] EXISTS (query); NOT is parsed by the NOT operator.</summary>
    private static readonly TokenListParser<SqlToken, SqlExpr> ExistsSubquery = input =>
    {
        var exists = K("exists")(input);
        if (!exists.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, SqlExpr>(exists);
        }

        var q = LParen.IgnoreThen(Query).Then(qq => RParen.Value(qq))(exists.Remainder);
        if (!q.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, QueryExpr, SqlExpr>(q);
        }

        return TokenListParserResult.Value<SqlToken, SqlExpr>(new SubqueryExpr(At(exists.Value), q.Value, "EXISTS"), input, q.Remainder);
    };

    /// <summary>ARRAY[...] / MAP[...] values: recognised only to reject them at their position.</summary>
    private static readonly TokenListParser<SqlToken, SqlExpr> CollectionValue = input =>
    {
        var kw = K("array").Or(K("map"))(input);
        if (kw.HasValue && Token.EqualTo(SqlToken.LBracket)(kw.Remainder).HasValue)
        {
            throw new SqlException(At(kw.Value), $"not supported: {kw.Value.ToStringValue().ToUpperInvariant()} values");
        }

        return TokenListParserResult.Empty<SqlToken, SqlExpr>(input);
    };

    /// <summary>The optional (col, ...) after an alias; empty when absent.</summary>
    private static TokenListParserResult<SqlToken, string[]> ColumnAliasList(TokenList<SqlToken> rest, string? alias)
    {
        if (alias is null || !LParen(rest).HasValue)
        {
            return TokenListParserResult.Value<SqlToken, string[]>([], rest, rest);
        }

        return LParen.IgnoreThen(Name.AtLeastOnceDelimitedBy(Comma)).Then(c => RParen.Value(c.Select(x => x.Name).ToArray()))(rest);
    }

    /// <summary>INSERT INTO t (a, b): the column list, or null; INSERT INTO t (SELECT ...) is a parenthesised query.</summary>
    private static readonly TokenListParser<SqlToken, (string Name, SourcePosition Pos)[]?> InsertColumnList = input =>
    {
        if (LParen(input) is { HasValue: true } lp && Name(lp.Remainder) is { HasValue: true } first && (Comma(first.Remainder).HasValue || RParen(first.Remainder).HasValue))
        {
            return LParen.IgnoreThen(Name.AtLeastOnceDelimitedBy(Comma)).Then(c => RParen.Value<SqlToken, Token<SqlToken>, (string, SourcePosition)[]?>(c))(input);
        }

        return TokenListParserResult.Value<SqlToken, (string, SourcePosition)[]?>(null, input, input);
    };

    /// <summary>The optional <c>NAME =&gt;</c> of a window TVF argument (DATA, TIMECOL, SIZE, SLIDE, STEP, GAP): arguments are taken in order.</summary>
    private static readonly TokenListParser<SqlToken, bool> TvfArgName = input =>
    {
        if (Token.EqualTo(SqlToken.Identifier)(input) is { HasValue: true } name
            && Token.EqualTo(SqlToken.Equal)(name.Remainder) is { HasValue: true } eq
            && Token.EqualTo(SqlToken.Greater)(eq.Remainder) is { HasValue: true } arrow)
        {
            return TokenListParserResult.Value(true, input, arrow.Remainder);
        }

        return TokenListParserResult.Value(false, input, input);
    };

    private static readonly string[] ExplainDetailWords = ["estimated_cost", "changelog_mode", "json_execution_plan", "plan_advice"];

    /// <summary>EXPLAIN's detail words (ESTIMATED_COST, CHANGELOG_MODE, ...), comma-separated: accepted, the plan is the same.</summary>
    private static readonly TokenListParser<SqlToken, bool> ExplainDetails = input =>
    {
        var rest = input;
        while (Token.EqualTo(SqlToken.Identifier)(rest) is { HasValue: true } word && ExplainDetailWords.Contains(word.Value.ToStringValue().ToLowerInvariant()))
        {
            rest = Comma(word.Remainder) is { HasValue: true } comma ? comma.Remainder : word.Remainder;
        }

        return TokenListParserResult.Value(rest != input, input, rest);
    };

    /// <summary>MATCH_RECOGNIZE after a table reference.</summary>
    private static void RejectMatchRecognize(TokenList<SqlToken> rest)
    {
        if (K("match_recognize")(rest) is { HasValue: true } mr)
        {
            throw new SqlException(At(mr.Value), "not supported: MATCH_RECOGNIZE");
        }
    }

    /// <summary>
    /// EXECUTE STATEMENT SET BEGIN insert; ... END, BEGIN STATEMENT SET; ... END, and EXECUTE insert: the INSERTs are
    /// ordinary statements of the script (run one after the other); BEGIN and END are markers.
    /// </summary>
    private static readonly TokenListParser<SqlToken, Statement> StatementSet = input =>
    {
        if (Ks("execute", "statement", "set", "begin")(input) is { HasValue: true } execute)
        {
            var first = Insert(execute.Remainder);
            return first.HasValue || first.Remainder != execute.Remainder ? first : TokenListParserResult.Value<SqlToken, Statement>(new StatementSetMarker(At(execute.Value)), input, execute.Remainder);
        }

        if (K("execute")(input) is { HasValue: true } exec && K("insert")(exec.Remainder).HasValue)
        {
            return Insert(exec.Remainder);
        }

        if (Ks("begin", "statement", "set")(input) is { HasValue: true } begin)
        {
            return TokenListParserResult.Value<SqlToken, Statement>(new StatementSetMarker(At(begin.Value)), input, begin.Remainder);
        }

        if (K("end")(input) is { HasValue: true } end)
        {
            return TokenListParserResult.Value<SqlToken, Statement>(new StatementSetMarker(At(end.Value)), input, end.Remainder);
        }

        return TokenListParserResult.Empty<SqlToken, Statement>(input);
    };
}
