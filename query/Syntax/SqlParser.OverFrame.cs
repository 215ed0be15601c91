using Superpower;
using Superpower.Model;

namespace Streams.Query.Syntax;

/// <summary>
/// The OVER part of the grammar: <c>OVER (PARTITION BY .. ORDER BY .. [ROWS|RANGE frame])</c>, <c>OVER name</c> and the
/// <c>WINDOW name AS (...)</c> clause. Frames ending anywhere but CURRENT ROW are rejected as not supported, as Flink
/// does in streaming. Written as hand-rolled parsers that reach the rest of the grammar only when they run, so the
/// order in which the partial class's static fields initialise does not matter.
/// </summary>
internal static partial class SqlParser
{
    /// <summary>OVER (spec) or OVER name.</summary>
    private static TokenListParserResult<SqlToken, WindowSpecExpr> OverClause(TokenList<SqlToken> input)
    {
        var kw = K("over")(input);
        if (!kw.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, WindowSpecExpr>(kw);
        }

        var name = Name(kw.Remainder);
        if (name.HasValue)
        {
            return TokenListParserResult.Value(new WindowSpecExpr([], [], At(kw.Value), null, name.Value.Name), input, name.Remainder);
        }

        return ParenthesizedWindowSpec(kw.Remainder, At(kw.Value));
    }

    /// <summary>WINDOW name AS (spec) [, name AS (spec)]..., or nothing.</summary>
    private static readonly TokenListParser<SqlToken, NamedWindow[]> WindowClause = input =>
    {
        var kw = K("window")(input);
        if (!kw.HasValue)
        {
            return TokenListParserResult.Value(Array.Empty<NamedWindow>(), input, input);
        }

        var windows = new List<NamedWindow>();
        var rest = kw.Remainder;
        while (true)
        {
            var name = Name(rest);
            if (!name.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, (string, SourcePosition), NamedWindow[]>(name);
            }

            var asKw = K("as")(name.Remainder);
            if (!asKw.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, NamedWindow[]>(asKw);
            }

            var spec = ParenthesizedWindowSpec(asKw.Remainder, name.Value.Pos);
            if (!spec.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, WindowSpecExpr, NamedWindow[]>(spec);
            }

            if (windows.Any(w => w.Name.Equals(name.Value.Name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new SqlException(name.Value.Pos, $"window `{name.Value.Name}` is defined twice");
            }

            windows.Add(new NamedWindow(name.Value.Name, spec.Value, name.Value.Pos));
            rest = spec.Remainder;
            var comma = Comma(rest);
            if (!comma.HasValue)
            {
                return TokenListParserResult.Value(windows.ToArray(), input, rest);
            }

            rest = comma.Remainder;
        }
    };

    /// <summary>( [PARTITION BY e, ...] [ORDER BY o, ...] [ROWS|RANGE frame] ).</summary>
    private static TokenListParserResult<SqlToken, WindowSpecExpr> ParenthesizedWindowSpec(TokenList<SqlToken> input, SourcePosition pos)
    {
        var lp = LParen(input);
        if (!lp.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, WindowSpecExpr>(lp);
        }

        var rest = lp.Remainder;
        if (Name(rest) is { HasValue: true } baseName && !K("partition")(rest).HasValue && !K("order")(rest).HasValue
            && !K("rows")(rest).HasValue && !K("range")(rest).HasValue)
        {
            throw new SqlException(baseName.Value.Pos, "not supported: a window that refines another named window");
        }

        SqlExpr[] partition = [];
        if (Ks("partition", "by")(rest) is { HasValue: true } pb)
        {
            var keys = Expr.AtLeastOnceDelimitedBy(Comma)(pb.Remainder);
            if (!keys.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, SqlExpr[], WindowSpecExpr>(keys);
            }

            partition = keys.Value;
            rest = keys.Remainder;
        }

        OrderItem[] order = [];
        if (Ks("order", "by")(rest) is { HasValue: true } ob)
        {
            var items = OrderItemParser.AtLeastOnceDelimitedBy(Comma)(ob.Remainder);
            if (!items.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, OrderItem[], WindowSpecExpr>(items);
            }

            order = items.Value;
            rest = items.Remainder;
        }

        FrameSpec? frame = null;
        var unit = K("rows").Or(K("range"))(rest);
        if (unit.HasValue)
        {
            var f = Frame(unit.Remainder, unit.Value.ToStringValue().ToUpperInvariant(), At(unit.Value));
            if (!f.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, FrameSpec, WindowSpecExpr>(f);
            }

            frame = f.Value;
            rest = f.Remainder;
        }

        var rp = RParen(rest);
        if (!rp.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, WindowSpecExpr>(rp);
        }

        return TokenListParserResult.Value(new WindowSpecExpr(partition, order, pos, frame), input, rp.Remainder);
    }

    /// <summary>After ROWS|RANGE: BETWEEN start AND CURRENT ROW, or just start (which then ends at CURRENT ROW).</summary>
    private static TokenListParserResult<SqlToken, FrameSpec> Frame(TokenList<SqlToken> input, string unit, SourcePosition pos)
    {
        var between = K("between")(input);
        var rest = between.HasValue ? between.Remainder : input;
        var start = FrameBound(rest);
        if (!start.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, (string, SqlExpr?, SourcePosition), FrameSpec>(start);
        }

        var (kind, offset, startPos) = start.Value;
        if (kind is "FOLLOWING")
        {
            throw new SqlException(startPos, $"not supported: OVER {unit} frames starting at FOLLOWING rows (frames end at CURRENT ROW)");
        }

        rest = start.Remainder;
        if (between.HasValue)
        {
            var and = K("and")(rest);
            if (!and.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, FrameSpec>(and);
            }

            var end = FrameBound(and.Remainder);
            if (!end.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, (string, SqlExpr?, SourcePosition), FrameSpec>(end);
            }

            if (end.Value.Kind != "CURRENT")
            {
                throw new SqlException(end.Value.Pos, end.Value.Kind == "FOLLOWING"
                    ? $"not supported: OVER {unit} frames ending at FOLLOWING rows (streaming frames end at CURRENT ROW)"
                    : $"not supported: OVER {unit} frames ending before CURRENT ROW");
            }

            rest = end.Remainder;
        }

        // CURRENT ROW as the start is a frame of the current row (and, for RANGE, its peers): zero preceding.
        var preceding = kind == "CURRENT" ? new LiteralExpr(startPos, 0, Engine.Data.DataType.Int32) : offset;
        return TokenListParserResult.Value(new FrameSpec(unit, preceding, pos), input, rest);
    }

    /// <summary>UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW, or offset PRECEDING|FOLLOWING (offset: an integer or INTERVAL).</summary>
    private static TokenListParserResult<SqlToken, (string Kind, SqlExpr? Offset, SourcePosition Pos)> FrameBound(TokenList<SqlToken> input)
    {
        var next = input.ConsumeToken();
        var pos = next.HasValue ? At(next.Value) : default;
        if (Ks("current", "row")(input) is { HasValue: true } current)
        {
            return TokenListParserResult.Value<SqlToken, (string, SqlExpr?, SourcePosition)>(("CURRENT", null, pos), input, current.Remainder);
        }

        SqlExpr? offset = null;
        TokenList<SqlToken> rest;
        if (K("unbounded")(input) is { HasValue: true } unbounded)
        {
            rest = unbounded.Remainder;
        }
        else
        {
            var e = Expr(input);
            if (!e.HasValue)
            {
                return TokenListParserResult.CastEmpty<SqlToken, SqlExpr, (string, SqlExpr?, SourcePosition)>(e);
            }

            offset = e.Value;
            rest = e.Remainder;
        }

        var direction = K("preceding").Or(K("following"))(rest);
        if (!direction.HasValue)
        {
            return TokenListParserResult.CastEmpty<SqlToken, Token<SqlToken>, (string, SqlExpr?, SourcePosition)>(direction);
        }

        var kind = direction.Value.ToStringValue().ToUpperInvariant();
        return TokenListParserResult.Value<SqlToken, (string, SqlExpr?, SourcePosition)>((kind, offset, pos), input, direction.Remainder);
    }
}
