using Streams.Engine.Data;
using Streams.Query.Syntax;

namespace Streams.Query.Binding;

internal sealed partial class Binder
{
    public BoundExpr BindExpr(SqlExpr e, Scope scope) => BindExprWith(e, scope, null);

    public BoundExpr BindPredicate(SqlExpr e, Scope scope, string clause)
    {
        var b = BindExpr(e, scope);
        if (b.Type == DataType.Null)
        {
            return new BoundLiteral(null, DataType.Boolean);
        }

        if (b.Type != DataType.Boolean)
        {
            throw new SqlException(e.Pos, $"{clause} needs a BOOLEAN condition, not {b.Type.SqlName()}");
        }

        return b;
    }

    /// <summary>The type both sides convert to, or null when they do not mix.</summary>
    public static DataType? CommonType(DataType a, DataType b)
    {
        if (a == b)
        {
            return a;
        }

        if (a == DataType.Null)
        {
            return b;
        }

        if (b == DataType.Null)
        {
            return a;
        }

        if (a.IsNumeric() && b.IsNumeric())
        {
            return Rank(a) > Rank(b) ? a : b;
        }

        return null;
    }

    private static int Rank(DataType t) => t switch
    {
        DataType.Int32 => 1,
        DataType.Int64 => 2,
        DataType.Decimal => 3,
        DataType.Double => 4,
        _ => 0,
    };

    public static BoundExpr Cast(BoundExpr e, DataType to)
    {
        if (e.Type == to)
        {
            return e;
        }

        if (e is BoundLiteral { Value: null })
        {
            return new BoundLiteral(null, to);
        }

        return new BoundCall("CAST", [e], to);
    }

    private BoundExpr BindExprWith(SqlExpr e, Scope scope, Func<SqlExpr, BoundExpr?>? replace)
    {
        if (replace?.Invoke(e) is { } replaced)
        {
            return replaced;
        }

        BoundExpr Bind(SqlExpr x) => BindExprWith(x, scope, replace);

        switch (e)
        {
            case LiteralExpr lit:
                return new BoundLiteral(lit.Value, lit.Type);
            case IntervalExpr iv:
                return new BoundInterval(iv.Millis);
            case ColumnExpr { Qualifier: null } col when col.Name.ToUpperInvariant() is "CURRENT_TIMESTAMP" or "LOCALTIMESTAMP" or "CURRENT_ROW_TIMESTAMP" or "CURRENT_DATE" or "CURRENT_TIME" or "LOCALTIME"
                && !scope.Columns.Any(c => c.Name.Equals(col.Name, StringComparison.OrdinalIgnoreCase)):
                // Niladic time functions are written without parentheses in standard SQL.
                return col.Name.ToUpperInvariant() is "CURRENT_DATE" or "CURRENT_TIME" or "LOCALTIME"
                    ? throw new SqlException(col.Pos, $"not supported: {col.Name.ToUpperInvariant()} (DATE and TIME types); use CURRENT_TIMESTAMP")
                    : new BoundCall("NOW", [], DataType.Timestamp);
            case ColumnExpr col:
                {
                    var idx = scope.Resolve(col.Qualifier, col.Name, col.Pos);
                    return new BoundColumn(idx, scope.Columns[idx].Type, scope.Columns[idx].Name);
                }

            case UnaryExpr u when u.Op == "NOT":
                {
                    var a = Bind(u.Operand);
                    ExpectBoolean(a, u.Operand.Pos, "NOT");
                    return new BoundCall("NOT", [Cast(a, DataType.Boolean)], DataType.Boolean);
                }

            case UnaryExpr u:
                {
                    var a = Bind(u.Operand);
                    if (a is BoundInterval iv)
                    {
                        return new BoundInterval(-iv.Millis);
                    }

                    if (!a.Type.IsNumeric() && a.Type != DataType.Null)
                    {
                        throw new SqlException(u.Pos, $"cannot negate {a.Type.SqlName()}");
                    }

                    return new BoundCall("NEG", [a], a.Type == DataType.Null ? DataType.Int32 : a.Type);
                }

            case BinaryExpr b:
                return BindBinary(b, Bind(b.Left), Bind(b.Right));
            case BetweenExpr bt:
                {
                    var x = Bind(bt.Operand);
                    var lo = BindBinary(new BinaryExpr(bt.Pos, ">=", bt.Operand, bt.Low), x, Bind(bt.Low));
                    var hi = BindBinary(new BinaryExpr(bt.Pos, "<=", bt.Operand, bt.High), x, Bind(bt.High));
                    BoundExpr r = new BoundCall("AND", [lo, hi], DataType.Boolean);
                    return bt.Negated ? new BoundCall("NOT", [r], DataType.Boolean) : r;
                }

            case InExpr ie:
                {
                    var x = Bind(ie.Operand);
                    var list = ie.List.Select(Bind).ToList();
                    var type = x.Type;
                    foreach (var (item, i) in list.Select((v, i) => (v, i)))
                    {
                        type = CommonType(type, item.Type) ?? (type == DataType.Timestamp && item.Type == DataType.String ? type
                            : throw new SqlException(ie.List[i].Pos, $"cannot compare {x.Type.SqlName()} with {item.Type.SqlName()} in IN"));
                    }

                    var args = new List<BoundExpr> { Cast(x, type) };
                    args.AddRange(list.Select(l => Cast(l, type)));
                    BoundExpr r = new BoundCall("IN", args, DataType.Boolean);
                    return ie.Negated ? new BoundCall("NOT", [r], DataType.Boolean) : r;
                }

            case LikeExpr like:
                {
                    var x = Bind(like.Operand);
                    var p = Bind(like.Pattern);
                    ExpectString(x, like.Operand.Pos, "LIKE");
                    ExpectString(p, like.Pattern.Pos, "LIKE");
                    BoundExpr r = new BoundCall("LIKE", [Cast(x, DataType.String), Cast(p, DataType.String)], DataType.Boolean);
                    return like.Negated ? new BoundCall("NOT", [r], DataType.Boolean) : r;
                }

            case IsExpr isx:
                {
                    var x = Bind(isx.Operand);
                    if (isx.What != "NULL")
                    {
                        ExpectBoolean(x, isx.Operand.Pos, "IS " + isx.What);
                        var name = (isx.Negated ? "IS NOT " : "IS ") + (isx.What == "UNKNOWN" ? "NULL" : isx.What);
                        return new BoundCall(name, [Cast(x, DataType.Boolean)], DataType.Boolean);
                    }

                    return new BoundCall(isx.Negated ? "IS NOT NULL" : "IS NULL", [x], DataType.Boolean);
                }

            case CaseExpr cs:
                {
                    var whens = new List<(BoundExpr, BoundExpr)>();
                    var operand = cs.Operand is null ? null : Bind(cs.Operand);
                    foreach (var (when, then) in cs.Whens)
                    {
                        var w = operand is null
                            ? Bind(when)
                            : BindBinary(new BinaryExpr(when.Pos, "=", cs.Operand!, when), operand, Bind(when));
                        if (operand is null)
                        {
                            ExpectBoolean(w, when.Pos, "CASE WHEN");
                        }

                        whens.Add((w, Bind(then)));
                    }

                    var els = cs.Else is null ? null : Bind(cs.Else);
                    var type = DataType.Null;
                    var i = 0;
                    foreach (var v in whens.Select(w => w.Item2).Concat(els is null ? [] : [els]))
                    {
                        var pos = i < cs.Whens.Count ? cs.Whens[i].Then.Pos : cs.Else!.Pos;
                        type = CommonType(type, v.Type) ?? throw new SqlException(pos, $"CASE branches have types {type.SqlName()} and {v.Type.SqlName()} that do not mix");
                        i++;
                    }

                    return new BoundCase(whens.Select(w => (Cast(w.Item1, DataType.Boolean), Cast(w.Item2, type))).ToArray(), els is null ? null : Cast(els, type), type);
                }

            case CastExpr ce:
                {
                    var x = Bind(ce.Operand);
                    var to = ce.Type.Type;
                    if (x is BoundInterval)
                    {
                        throw new SqlException(ce.Pos, "cannot CAST an INTERVAL");
                    }

                    var ok = x.Type == DataType.Null || x.Type == to || to == DataType.String || x.Type == DataType.String
                        || (x.Type.IsNumeric() && to.IsNumeric()) || (x.Type == DataType.Boolean && to.IsNumeric()) || (x.Type.IsNumeric() && to == DataType.Boolean)
                        || (x.Type is DataType.Int64 && to == DataType.Timestamp) || (x.Type == DataType.Timestamp && to == DataType.Int64);
                    if (!ok)
                    {
                        throw new SqlException(ce.Pos, $"cannot CAST {x.Type.SqlName()} to {to.SqlName()}");
                    }

                    if (x is BoundLiteral { Value: string s } && to == DataType.Timestamp)
                    {
                        return Compilation.SqlFunctions.TryParseTimestamp(s, out var ms) ? new BoundLiteral(ms, DataType.Timestamp) : throw new SqlException(ce.Operand.Pos, $"'{s}' is not a valid TIMESTAMP");
                    }

                    return x.Type == DataType.Null ? new BoundLiteral(null, to) : new BoundCall("CAST", [x], to);
                }

            case ExtractExpr ex:
                {
                    var x = Bind(ex.Operand);
                    if (x.Type != DataType.Timestamp && x.Type != DataType.Null)
                    {
                        throw new SqlException(ex.Operand.Pos, $"EXTRACT needs a TIMESTAMP, not {x.Type.SqlName()}");
                    }

                    var field = ex.Field switch
                    {
                        "YEAR" or "QUARTER" or "MONTH" or "WEEK" or "DAY" or "DOW" or "DOY" or "HOUR" or "MINUTE" or "SECOND" or "MILLISECOND" or "EPOCH" or "DAYOFWEEK" or "DAYOFYEAR" or "DAYOFMONTH" => ex.Field,
                        _ => throw new SqlException(ex.Pos, $"unknown EXTRACT field `{ex.Field}`"),
                    };
                    return new BoundCall("EXTRACT", [Cast(x, DataType.Timestamp)], DataType.Int64, field);
                }

            case CallExpr call:
                return BindCall(call, scope, replace);
            case SubqueryExpr or InSubqueryExpr:
                // Reached only where no subquery value was joined in: ON, GROUP BY, aggregate arguments.
                throw new SqlException(e.Pos, $"not supported: {(e is SubqueryExpr { Kind: "scalar" } ? "scalar" : e is InSubqueryExpr ? "IN" : "EXISTS")} subqueries here (use them in WHERE, HAVING or the select list)");
            default:
                throw new SqlException(e.Pos, "not supported: this expression");
        }
    }

    private static void ExpectBoolean(BoundExpr e, SourcePosition pos, string what)
    {
        if (e.Type is not (DataType.Boolean or DataType.Null))
        {
            throw new SqlException(pos, $"{what} needs a BOOLEAN, not {e.Type.SqlName()}");
        }
    }

    private static void ExpectString(BoundExpr e, SourcePosition pos, string what)
    {
        if (e.Type is not (DataType.String or DataType.Null))
        {
            throw new SqlException(pos, $"{what} needs a VARCHAR, not {e.Type.SqlName()}");
        }
    }

    private static BoundExpr BindBinary(BinaryExpr b, BoundExpr l, BoundExpr r)
    {
        switch (b.Op)
        {
            case "AND":
            case "OR":
                ExpectBoolean(l, b.Left.Pos, b.Op);
                ExpectBoolean(r, b.Right.Pos, b.Op);
                return new BoundCall(b.Op, [Cast(l, DataType.Boolean), Cast(r, DataType.Boolean)], DataType.Boolean);
            case "||":
                {
                    return new BoundCall("||", [Cast(l, DataType.String), Cast(r, DataType.String)], DataType.String);
                }

            case "=":
            case "<>":
            case "<":
            case "<=":
            case ">":
            case ">=":
            case "IS DISTINCT FROM":
            case "IS NOT DISTINCT FROM":
                {
                    var (cl, cr) = CoerceForComparison(l, r, b);
                    return new BoundCall(b.Op, [cl, cr], DataType.Boolean);
                }

            case "+":
            case "-":
                {
                    if (l.Type == DataType.Timestamp && r is BoundInterval)
                    {
                        return new BoundCall(b.Op, [l, r], DataType.Timestamp);
                    }

                    if (r.Type == DataType.Timestamp && l is BoundInterval && b.Op == "+")
                    {
                        return new BoundCall("+", [r, l], DataType.Timestamp);
                    }

                    if (l is BoundInterval li && r is BoundInterval ri)
                    {
                        return new BoundInterval(b.Op == "+" ? li.Millis + ri.Millis : li.Millis - ri.Millis);
                    }

                    goto case "*";
                }

            case "*":
            case "/":
            case "%":
                {
                    if (l is BoundInterval iv && r is BoundLiteral { Value: int n } && b.Op == "*")
                    {
                        return new BoundInterval(iv.Millis * n);
                    }

                    if (l is BoundInterval || r is BoundInterval)
                    {
                        throw new SqlException(b.Pos, $"cannot apply `{b.Op}` to {Describe(l)} and {Describe(r)}");
                    }

                    var t = CommonType(l.Type, r.Type);
                    if (t is null || !(t.Value.IsNumeric() || t == DataType.Null))
                    {
                        throw new SqlException(b.Pos, $"cannot apply `{b.Op}` to {l.Type.SqlName()} and {r.Type.SqlName()}");
                    }

                    var type = t.Value == DataType.Null ? DataType.Int32 : t.Value;
                    return new BoundCall(b.Op, [Cast(l, type), Cast(r, type)], type);
                }

            default:
                throw new SqlException(b.Pos, $"not supported: operator {b.Op}");
        }
    }

    private static string Describe(BoundExpr e) => e is BoundInterval ? "INTERVAL" : e.Type.SqlName();

    private static (BoundExpr, BoundExpr) CoerceForComparison(BoundExpr l, BoundExpr r, BinaryExpr b)
    {
        // A string literal compared with a timestamp is a timestamp literal.
        if (l.Type == DataType.Timestamp && r is BoundLiteral { Value: string rs })
        {
            r = Compilation.SqlFunctions.TryParseTimestamp(rs, out var ms) ? new BoundLiteral(ms, DataType.Timestamp) : throw new SqlException(b.Right.Pos, $"'{rs}' is not a valid TIMESTAMP");
        }
        else if (r.Type == DataType.Timestamp && l is BoundLiteral { Value: string ls })
        {
            l = Compilation.SqlFunctions.TryParseTimestamp(ls, out var ms) ? new BoundLiteral(ms, DataType.Timestamp) : throw new SqlException(b.Left.Pos, $"'{ls}' is not a valid TIMESTAMP");
        }

        if (l is BoundInterval || r is BoundInterval)
        {
            throw new SqlException(b.Pos, $"cannot compare {Describe(l)} with {Describe(r)}");
        }

        var t = CommonType(l.Type, r.Type) ?? throw new SqlException(b.Pos, $"cannot compare {l.Type.SqlName()} with {r.Type.SqlName()}");
        if (t == DataType.Null)
        {
            t = DataType.Int32;
        }

        return (Cast(l, t), Cast(r, t));
    }

    private BoundExpr BindCall(CallExpr call, Scope scope, Func<SqlExpr, BoundExpr?>? replace)
    {
        if (call.Over is not null)
        {
            throw new SqlException(call.Pos, $"not supported: {call.Name}() OVER here (ROW_NUMBER() OVER works as a select item filtered by rn <= N in an outer query)");
        }

        if (AggregateFunctions.Contains(call.Name))
        {
            throw new SqlException(call.Pos, $"aggregate function {call.Name} is not allowed here");
        }

        if (UnsupportedAggregates.Contains(call.Name))
        {
            throw new SqlException(call.Pos, $"not supported: aggregate function {call.Name}");
        }

        if (call.Filter is not null)
        {
            throw new SqlException(call.Filter.Pos, $"FILTER (WHERE ...) only applies to aggregate functions, not {call.Name}");
        }

        if (call.Name is "TUMBLE" or "HOP" or "SESSION" or "CUMULATE")
        {
            throw new SqlException(call.Pos, $"{call.Name}(...) is a group window: use it in GROUP BY, or as TABLE({call.Name}(TABLE t, DESCRIPTOR(ts), ...)) in FROM");
        }

        if (WindowBoundFunction(call.Name) is not null)
        {
            throw new SqlException(call.Pos, $"{call.Name} needs a matching group window in GROUP BY");
        }

        // The first argument of TIMESTAMPADD / TIMESTAMPDIFF is a unit word, not a column.
        var args = call.Args.Select((a, i) => i == 0 && call.Name is "TIMESTAMPADD" or "TIMESTAMPDIFF" ? new BoundLiteral(null, DataType.Null) : BindExprWith(a, scope, replace)).ToArray();

        void Arity(int min, int max)
        {
            if (args.Length < min || args.Length > max)
            {
                var expected = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
                throw new SqlException(call.Pos, $"{call.Name} takes {expected} argument{(max == 1 ? "" : "s")}, not {args.Length}");
            }
        }

        BoundExpr Str(int i)
        {
            if (args[i].Type is not (DataType.String or DataType.Null))
            {
                throw new SqlException(call.Args[i].Pos, $"argument {i + 1} of {call.Name} must be VARCHAR, not {args[i].Type.SqlName()}");
            }

            return Cast(args[i], DataType.String);
        }

        BoundExpr Int(int i)
        {
            if (args[i].Type is not (DataType.Int32 or DataType.Int64 or DataType.Null))
            {
                throw new SqlException(call.Args[i].Pos, $"argument {i + 1} of {call.Name} must be an integer, not {args[i].Type.SqlName()}");
            }

            return Cast(args[i], DataType.Int32);
        }

        BoundExpr Int64Arg(int i)
        {
            if (args[i].Type is not (DataType.Int32 or DataType.Int64 or DataType.Null))
            {
                throw new SqlException(call.Args[i].Pos, $"argument {i + 1} of {call.Name} must be an integer, not {args[i].Type.SqlName()}");
            }

            return args[i];
        }

        BoundExpr Num(int i)
        {
            if (!args[i].Type.IsNumeric() && args[i].Type != DataType.Null)
            {
                throw new SqlException(call.Args[i].Pos, $"argument {i + 1} of {call.Name} must be numeric, not {args[i].Type.SqlName()}");
            }

            return args[i].Type == DataType.Null ? Cast(args[i], DataType.Double) : args[i];
        }

        BoundExpr Ts(int i)
        {
            if (args[i] is BoundLiteral { Value: string s } && Compilation.SqlFunctions.TryParseTimestamp(s, out var ms))
            {
                return new BoundLiteral(ms, DataType.Timestamp);
            }

            if (args[i].Type is not (DataType.Timestamp or DataType.Null))
            {
                throw new SqlException(call.Args[i].Pos, $"argument {i + 1} of {call.Name} must be a TIMESTAMP, not {args[i].Type.SqlName()}");
            }

            return Cast(args[i], DataType.Timestamp);
        }

        switch (call.Name)
        {
            case "UPPER" or "LOWER" or "INITCAP" or "REVERSE" or "LTRIM" or "RTRIM":
                Arity(1, 1);
                if (call.Name is "LTRIM" or "RTRIM")
                {
                    return new BoundCall("TRIM", [new BoundLiteral(call.Name == "LTRIM" ? "LEADING" : "TRAILING", DataType.String), new BoundLiteral(" ", DataType.String), Str(0)], DataType.String);
                }

                return new BoundCall(call.Name, [Str(0)], DataType.String);
            case "CHAR_LENGTH" or "CHARACTER_LENGTH" or "LENGTH":
                Arity(1, 1);
                return new BoundCall("CHAR_LENGTH", [Str(0)], DataType.Int32);
            case "SUBSTRING" or "SUBSTR":
                Arity(2, 3);
                return new BoundCall("SUBSTRING", args.Length == 3 ? [Str(0), Int(1), Int(2)] : [Str(0), Int(1)], DataType.String);
            case "TRIM":
                Arity(3, 3);
                return new BoundCall("TRIM", [Str(0), Str(1), Str(2)], DataType.String);
            case "CONCAT":
                Arity(1, int.MaxValue);
                return new BoundCall("CONCAT", args.Select(a => Cast(a, DataType.String)).ToArray(), DataType.String);
            case "CONCAT_WS":
                Arity(2, int.MaxValue);
                return new BoundCall("CONCAT_WS", args.Select(a => Cast(a, DataType.String)).ToArray(), DataType.String);
            case "REPLACE":
                Arity(3, 3);
                return new BoundCall("REPLACE", [Str(0), Str(1), Str(2)], DataType.String);
            case "POSITION" or "LOCATE" or "STRPOS" or "INSTR":
                Arity(2, 2);
                return call.Name is "POSITION" or "LOCATE"
                    ? new BoundCall("POSITION", [Str(0), Str(1)], DataType.Int32)
                    : new BoundCall("POSITION", [Str(1), Str(0)], DataType.Int32);
            case "LPAD" or "RPAD":
                Arity(3, 3);
                return new BoundCall(call.Name, [Str(0), Int(1), Str(2)], DataType.String);
            case "REGEXP_EXTRACT":
                Arity(2, 3);
                return new BoundCall("REGEXP_EXTRACT", args.Length == 3 ? [Str(0), Str(1), Int(2)] : [Str(0), Str(1)], DataType.String);
            case "REGEXP_REPLACE":
                Arity(3, 3);
                return new BoundCall("REGEXP_REPLACE", [Str(0), Str(1), Str(2)], DataType.String);
            case "REGEXP":
                Arity(2, 2);
                return new BoundCall("REGEXP", [Str(0), Str(1)], DataType.Boolean);
            case "SPLIT_INDEX":
                Arity(3, 3);
                return new BoundCall("SPLIT_INDEX", [Str(0), Str(1), Int(2)], DataType.String);
            case "ABS":
                Arity(1, 1);
                return new BoundCall("ABS", [Num(0)], Num(0).Type);
            case "ROUND":
                {
                    Arity(1, 2);
                    var x = Num(0);
                    return new BoundCall("ROUND", args.Length == 2 ? [x, Int(1)] : [x], x.Type);
                }

            case "FLOOR" or "CEIL" or "CEILING":
                {
                    Arity(1, 1);
                    var name = call.Name == "FLOOR" ? "FLOOR" : "CEIL";
                    return new BoundCall(name, [Num(0)], Num(0).Type);
                }

            case "MOD":
                {
                    Arity(2, 2);
                    var t = CommonType(Num(0).Type, Num(1).Type)!.Value;
                    return new BoundCall("%", [Cast(args[0], t), Cast(args[1], t)], t);
                }

            case "POWER" or "POW":
                Arity(2, 2);
                return new BoundCall("POWER", [Cast(Num(0), DataType.Double), Cast(Num(1), DataType.Double)], DataType.Double);
            case "SQRT" or "EXP" or "LN" or "LOG10":
                Arity(1, 1);
                return new BoundCall(call.Name, [Cast(Num(0), DataType.Double)], DataType.Double);
            case "SIGN":
                Arity(1, 1);
                return new BoundCall("SIGN", [Num(0)], Num(0).Type);
            case "COALESCE" or "IFNULL" or "NVL":
                {
                    Arity(call.Name == "COALESCE" ? 1 : 2, call.Name == "COALESCE" ? int.MaxValue : 2);
                    var t = CommonTypeOf(call, args);
                    return new BoundCall("COALESCE", args.Select(a => Cast(a, t)).ToArray(), t);
                }

            case "NULLIF":
                {
                    Arity(2, 2);
                    var t = CommonTypeOf(call, args);
                    return new BoundCall("NULLIF", args.Select(a => Cast(a, t)).ToArray(), t);
                }

            case "GREATEST" or "LEAST":
                {
                    Arity(1, int.MaxValue);
                    var t = CommonTypeOf(call, args);
                    return new BoundCall(call.Name, args.Select(a => Cast(a, t)).ToArray(), t);
                }

            case "IF":
                {
                    Arity(3, 3);
                    ExpectBoolean(args[0], call.Args[0].Pos, "IF");
                    var t = CommonTypeOf(call, args[1..]);
                    return new BoundCase([(Cast(args[0], DataType.Boolean), Cast(args[1], t))], Cast(args[2], t), t);
                }

            case "YEAR" or "QUARTER" or "MONTH" or "WEEK" or "DAYOFMONTH" or "DAYOFWEEK" or "DAYOFYEAR" or "HOUR" or "MINUTE" or "SECOND":
                Arity(1, 1);
                return new BoundCall("EXTRACT", [Ts(0)], DataType.Int64, call.Name);
            case "DATE_FORMAT":
                Arity(2, 2);
                return new BoundCall("DATE_FORMAT", [Ts(0), Str(1)], DataType.String);
            case "TO_TIMESTAMP":
                Arity(1, 2);
                return new BoundCall("TO_TIMESTAMP", args.Length == 2 ? [Str(0), Str(1)] : [Str(0)], DataType.Timestamp);
            case "DATE_TRUNC":
                {
                    Arity(2, 2);
                    var unit = call.Args[0] is LiteralExpr { Value: string u } ? u.ToUpperInvariant() : throw new SqlException(call.Args[0].Pos, "DATE_TRUNC needs a unit literal like 'hour'");
                    return new BoundCall("FLOOR", [Ts(1)], DataType.Timestamp, unit);
                }

            case "NOW" or "PROCTIME" or "CURRENT_TIMESTAMP" or "LOCALTIMESTAMP" or "CURRENT_ROW_TIMESTAMP":
                Arity(0, 0);
                return new BoundCall("NOW", [], DataType.Timestamp);
            case "FROM_UNIXTIME":
                {
                    // Seconds since the epoch as 'yyyy-MM-dd HH:mm:ss' text (UTC), or in the given format.
                    Arity(1, 2);
                    var millis = new BoundCall("*", [Cast(Int64Arg(0), DataType.Int64), new BoundLiteral(1000L, DataType.Int64)], DataType.Int64);
                    return new BoundCall("DATE_FORMAT", [new BoundCall("CAST", [millis], DataType.Timestamp), args.Length == 2 ? Str(1) : new BoundLiteral("yyyy-MM-dd HH:mm:ss", DataType.String)], DataType.String);
                }

            case "UNIX_TIMESTAMP":
                {
                    // Seconds since the epoch: now, or of a 'yyyy-MM-dd HH:mm:ss' text (or one in the given format).
                    Arity(0, 2);
                    var ts = args.Length == 0 ? new BoundCall("NOW", [], DataType.Timestamp)
                        : new BoundCall("TO_TIMESTAMP", args.Length == 2 ? [Str(0), Str(1)] : [Str(0)], DataType.Timestamp);
                    return new BoundCall("/", [new BoundCall("CAST", [ts], DataType.Int64), new BoundLiteral(1000L, DataType.Int64)], DataType.Int64);
                }

            case "TO_TIMESTAMP_LTZ":
                {
                    Arity(1, 2);
                    var precision = args.Length == 2 ? ConstantInt(call.Args[1]) : 3;
                    var scale = precision switch
                    {
                        0 => 1000L,
                        3 => 1L,
                        _ => throw new SqlException(call.Args[1].Pos, "TO_TIMESTAMP_LTZ precision must be 0 (seconds) or 3 (milliseconds)"),
                    };
                    var epoch = Cast(Int64Arg(0), DataType.Int64);
                    return new BoundCall("CAST", [scale == 1 ? epoch : new BoundCall("*", [epoch, new BoundLiteral(scale, DataType.Int64)], DataType.Int64)], DataType.Timestamp);
                }

            case "TIMESTAMPADD":
                {
                    Arity(3, 3);
                    var unit = TimeUnitMillis(call, 0);
                    var amount = new BoundCall("*", [Cast(Int64Arg(1), DataType.Int64), new BoundLiteral(unit, DataType.Int64)], DataType.Int64);
                    var sum = new BoundCall("+", [new BoundCall("CAST", [Ts(2)], DataType.Int64), amount], DataType.Int64);
                    return new BoundCall("CAST", [sum], DataType.Timestamp);
                }

            case "TIMESTAMPDIFF":
                {
                    Arity(3, 3);
                    var unit = TimeUnitMillis(call, 0);
                    var diff = new BoundCall("-", [new BoundCall("CAST", [Ts(2)], DataType.Int64), new BoundCall("CAST", [Ts(1)], DataType.Int64)], DataType.Int64);
                    return Cast(new BoundCall("/", [diff, new BoundLiteral(unit, DataType.Int64)], DataType.Int64), DataType.Int32);
                }

            case var name when UnsupportedFunctions.Contains(name):
                throw new SqlException(call.Pos, $"not supported: function {name}");
            default:
                var known = new[]
                {
                    "UPPER", "LOWER", "SUBSTRING", "CONCAT", "CHAR_LENGTH", "TRIM", "REPLACE", "POSITION", "ABS", "ROUND", "FLOOR", "CEIL", "MOD",
                    "COALESCE", "NULLIF", "DATE_FORMAT", "REGEXP_EXTRACT", "SPLIT_INDEX", "HOUR", "PROCTIME", "COUNT", "SUM", "AVG", "MIN", "MAX",
                };
                throw new SqlException(call.Pos, $"unknown function `{call.Name}`" + NameSuggestion.Hint(call.Name, known));
        }
    }

    /// <summary>Flink built-in functions this engine does not implement: rejected as such rather than as unknown names.</summary>
    private static readonly HashSet<string> UnsupportedFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "JSON_VALUE", "JSON_QUERY", "JSON_EXISTS", "JSON_OBJECT", "JSON_ARRAY", "JSON_STRING", "JSON_OBJECTAGG", "JSON_ARRAYAGG", "IS_JSON",
        "TO_DATE", "DATE", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME", "CONVERT_TZ", "DATEDIFF", "DATE_ADD", "DATE_SUB", "CURRENT_WATERMARK",
        "ARRAY", "MAP", "ROW", "CARDINALITY", "ELEMENT", "ARRAY_CONTAINS", "ARRAY_DISTINCT", "ARRAY_JOIN", "MAP_KEYS", "MAP_VALUES", "STR_TO_MAP", "SPLIT",
        "MD5", "SHA1", "SHA2", "SHA224", "SHA256", "SHA384", "SHA512", "HASH_CODE", "UUID", "RAND", "RAND_INTEGER", "TO_BASE64", "FROM_BASE64",
        "ENCODE", "DECODE", "ASCII", "CHR", "REPEAT", "OVERLAY", "LEFT", "RIGHT", "PARSE_URL", "URL_DECODE", "URL_ENCODE", "REGEXP_SUBSTR", "REGEXP_INSTR",
        "TRUNCATE", "LOG", "LOG2", "SIN", "COS", "TAN", "ASIN", "ACOS", "ATAN", "ATAN2", "SINH", "COSH", "TANH", "COT", "DEGREES", "RADIANS", "PI", "E", "BIN", "HEX", "UNHEX",
        "LAG", "LEAD", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST", "NTILE", "GROUPING", "GROUPING_ID", "TYPEOF",
    };

    private int ConstantInt(SqlExpr e) =>
        e is LiteralExpr { Value: int i } ? i : throw new SqlException(e.Pos, "expected an integer literal");

    /// <summary>The unit argument of TIMESTAMPADD / TIMESTAMPDIFF (written as a bare word) in milliseconds.</summary>
    private static long TimeUnitMillis(CallExpr call, int i)
    {
        var unit = call.Args[i] is ColumnExpr { Qualifier: null } c ? c.Name.ToUpperInvariant() : call.Args[i] is LiteralExpr { Value: string s } ? s.ToUpperInvariant() : "";
        if (unit.StartsWith("SQL_TSI_", StringComparison.Ordinal))
        {
            unit = unit[8..];
        }

        return unit switch
        {
            "MILLISECOND" or "FRAC_SECOND" => 1,
            "SECOND" => 1_000,
            "MINUTE" => 60_000,
            "HOUR" => 3_600_000,
            "DAY" => 86_400_000,
            "WEEK" => 604_800_000,
            "MONTH" or "QUARTER" or "YEAR" => throw new SqlException(call.Args[i].Pos, $"not supported: {call.Name} in {unit} (calendar arithmetic); use DAY"),
            _ => throw new SqlException(call.Args[i].Pos, $"{call.Name} needs a unit (SECOND, MINUTE, HOUR, DAY, WEEK) as its first argument"),
        };
    }

    private static DataType CommonTypeOf(CallExpr call, IReadOnlyList<BoundExpr> args)
    {
        var t = DataType.Null;
        for (var i = 0; i < args.Count; i++)
        {
            t = CommonType(t, args[i].Type) ?? throw new SqlException(call.Args[Math.Min(i, call.Args.Count - 1)].Pos, $"{call.Name} arguments have types {t.SqlName()} and {args[i].Type.SqlName()} that do not mix");
        }

        return t == DataType.Null ? DataType.String : t;
    }
}
