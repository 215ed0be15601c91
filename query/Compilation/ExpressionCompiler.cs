using System.Linq.Expressions;
using System.Reflection;
using System.Text.RegularExpressions;
using Streams.Engine.Data;
using Streams.Engine.Operators.Filter;
using Streams.Engine.Operators.Project;
using Streams.Query.Binding;
using static System.Linq.Expressions.Expression;

namespace Streams.Query.Compilation;

/// <summary>
/// Compiles bound expressions with System.Linq.Expressions into delegates that loop over a whole
/// <see cref="ColumnBatch"/>: column arrays are hoisted out of the loop, each row computes a (value, is-null) pair
/// in typed locals, and NULL follows SQL's three-valued logic. Nothing is boxed or allocated per row.
/// </summary>
internal sealed class ExpressionCompiler
{
    private static readonly MethodInfo IsNullMethod = typeof(Column).GetMethod(nameof(Column.IsNull))!;
    private static readonly MethodInfo IsLiveMethod = typeof(ColumnBatch).GetMethod(nameof(ColumnBatch.IsLive))!;
    private static readonly MethodInfo FilterOutMethod = typeof(ColumnBatch).GetMethod(nameof(ColumnBatch.FilterOut))!;
    private static readonly MethodInfo SetNullMethod = typeof(Column).GetMethod(nameof(Column.SetNull), [typeof(int)])!;
    private static readonly PropertyInfo CountProperty = typeof(ColumnBatch).GetProperty(nameof(ColumnBatch.Count))!;
    private static readonly PropertyInfo ColumnsProperty = typeof(ColumnBatch).GetProperty(nameof(ColumnBatch.Columns))!;

    private readonly ParameterExpression _batch = Parameter(typeof(ColumnBatch), "input");
    private readonly ParameterExpression _row = Variable(typeof(int), "row");
    private readonly List<ParameterExpression> _locals = [];
    private readonly List<Expression> _prologue = [];
    private readonly Dictionary<int, (ParameterExpression Column, ParameterExpression Values)> _columns = [];
    private readonly Schema _input;
    private List<Expression> _body = [];

    private ExpressionCompiler(Schema input) => _input = input;

    /// <summary>Compiles a WHERE predicate: rows where it is not TRUE are filtered out.</summary>
    public static BatchFilter CompileFilter(BoundExpr predicate, Schema input)
    {
        var c = new ExpressionCompiler(input);
        var (val, nul) = c.Emit(predicate);
        c._body.Add(IfThen(OrElse(nul, Not(val)), Call(c._batch, FilterOutMethod, c._row)));
        var loop = c.RowLoop(Block(c._body));
        var block = Block(c._locals.Concat(c._columns.Values.SelectMany(v => new[] { v.Column, v.Values })).Append(c._row), c._prologue.Append(loop));
        return Lambda<BatchFilter>(block, c._batch).Compile();
    }

    /// <summary>Compiles a SELECT list: output column k is <paramref name="exprs"/>[k] evaluated on each live input row.</summary>
    public static BatchProjector CompileProjector(IReadOnlyList<BoundExpr> exprs, Schema input, Schema output)
    {
        var c = new ExpressionCompiler(input);
        var outBatch = Parameter(typeof(ColumnBatch), "output");
        var outVars = new List<ParameterExpression>();
        var outInit = new List<Expression>();
        for (var k = 0; k < exprs.Count; k++)
        {
            var clr = output[k].Type.ClrType();
            var colType = typeof(Column<>).MakeGenericType(clr);
            var col = Variable(colType, "out" + k);
            var vals = Variable(clr.MakeArrayType(), "outValues" + k);
            outVars.Add(col);
            outVars.Add(vals);
            outInit.Add(Assign(col, Convert(ArrayIndex(Property(outBatch, ColumnsProperty), Constant(k)), colType)));
            outInit.Add(Assign(vals, Property(col, "Values")));
            var (val, nul) = c.Emit(exprs[k]);
            c._body.Add(IfThenElse(nul, Call(col, SetNullMethod, c._row), Assign(ArrayAccess(vals, c._row), Coerce(val, clr))));
        }

        var loop = c.RowLoop(Block(c._body));
        var block = Block(
            c._locals.Concat(c._columns.Values.SelectMany(v => new[] { v.Column, v.Values })).Concat(outVars).Append(c._row),
            c._prologue.Concat(outInit).Append(loop));
        return Lambda<BatchProjector>(block, c._batch, outBatch).Compile();
    }

    /// <summary>Evaluates a constant expression (no column references) once, for constant folding.</summary>
    public static object? EvaluateConstant(BoundExpr e)
    {
        var c = new ExpressionCompiler(new Schema([]));
        var (val, nul) = c.Emit(e);
        var result = Variable(typeof(object), "result");
        c._body.Add(Assign(result, Condition(nul, Constant(null, typeof(object)), Convert(val, typeof(object)))));
        var block = Block(c._locals.Append(result).Append(c._row), c._body.Append(result));
        // One evaluation: interpreting is far cheaper than compiling to IL.
        return Lambda<Func<ColumnBatch?, object?>>(block, c._batch).Compile(preferInterpretation: true)(null);
    }

    private static Expression Coerce(Expression e, Type t) => e.Type == t ? e : Convert(e, t);

    private Expression RowLoop(Expression body)
    {
        var brk = Label("end");
        var count = Variable(typeof(int), "count");
        _locals.Add(count);
        return Block(
            Assign(count, Property(_batch, CountProperty)),
            Assign(_row, Constant(0)),
            Loop(
                IfThenElse(
                    LessThan(_row, count),
                    Block(IfThen(Call(_batch, IsLiveMethod, _row), body), PostIncrementAssign(_row)),
                    Break(brk)),
                brk));
    }

    private static Type ClrOf(DataType t) => t == DataType.Null ? typeof(string) : t.ClrType();

    private ParameterExpression Temp(Type t, string name = "t")
    {
        var v = Variable(t, name + _locals.Count);
        _locals.Add(v);
        return v;
    }

    private (ParameterExpression Val, ParameterExpression Nul) Temps(DataType t)
    {
        return (Temp(ClrOf(t), "v"), Temp(typeof(bool), "n"));
    }

    private List<Expression> Nested(Action emit)
    {
        var saved = _body;
        _body = [];
        emit();
        var result = _body;
        _body = saved;
        return result;
    }

    private static Expression BlockOf(List<Expression> exprs) => exprs.Count == 0 ? Empty() : Block(exprs);

    public (Expression Val, Expression Nul) Emit(BoundExpr e)
    {
        switch (e)
        {
            case BoundLiteral lit:
                {
                    var clr = ClrOf(lit.Type);
                    return lit.Value is null
                        ? (Default(clr), Constant(true))
                        : (Constant(System.Convert.ChangeType(lit.Value, clr, System.Globalization.CultureInfo.InvariantCulture), clr), Constant(false));
                }

            case BoundInterval iv:
                return (Constant(iv.Millis), Constant(false));
            case BoundColumn col:
                {
                    if (!_columns.TryGetValue(col.Index, out var hoisted))
                    {
                        var clr = ClrOf(_input[col.Index].Type);
                        var colType = typeof(Column<>).MakeGenericType(clr);
                        hoisted = (Variable(colType, "c" + col.Index), Variable(clr.MakeArrayType(), "a" + col.Index));
                        _prologue.Add(Assign(hoisted.Column, Convert(ArrayIndex(Property(_batch, ColumnsProperty), Constant(col.Index)), colType)));
                        _prologue.Add(Assign(hoisted.Values, Property(hoisted.Column, "Values")));
                        _columns[col.Index] = hoisted;
                    }

                    var (v, n) = Temps(col.Type);
                    _body.Add(Assign(n, Call(hoisted.Column, IsNullMethod, _row)));
                    _body.Add(Assign(v, Coerce(ArrayIndex(hoisted.Values, _row), v.Type)));
                    return (v, n);
                }

            case BoundCase cs:
                return EmitCase(cs);
            case BoundCall call:
                return EmitCall(call);
            default:
                throw new InvalidOperationException($"cannot compile {e.GetType().Name}");
        }
    }

    private (Expression, Expression) EmitCase(BoundCase cs)
    {
        var (v, n) = Temps(cs.Type);
        var done = Temp(typeof(bool), "done");
        _body.Add(Assign(done, Constant(false)));
        _body.Add(Assign(n, Constant(true)));
        _body.Add(Assign(v, Default(v.Type)));
        foreach (var (when, then) in cs.Whens)
        {
            var branch = Nested(() =>
            {
                var (cv, cn) = Emit(when);
                var thenBlock = Nested(() =>
                {
                    var (tv, tn) = Emit(then);
                    _body.Add(Assign(v, Coerce(tv, v.Type)));
                    _body.Add(Assign(n, tn));
                    _body.Add(Assign(done, Constant(true)));
                });
                _body.Add(IfThen(AndAlso(Not(cn), cv), BlockOf(thenBlock)));
            });
            _body.Add(IfThen(Not(done), BlockOf(branch)));
        }

        if (cs.Else is not null)
        {
            var elseBlock = Nested(() =>
            {
                var (ev, en) = Emit(cs.Else);
                _body.Add(Assign(v, Coerce(ev, v.Type)));
                _body.Add(Assign(n, en));
            });
            _body.Add(IfThen(Not(done), BlockOf(elseBlock)));
        }

        return (v, n);
    }

    private (Expression, Expression) EmitCall(BoundCall call)
    {
        switch (call.Name)
        {
            case "AND":
            case "OR":
                {
                    var (lv, ln) = Emit(call.Args[0]);
                    var (rv, rn) = Emit(call.Args[1]);
                    var (v, n) = Temps(DataType.Boolean);
                    if (call.Name == "AND")
                    {
                        var isFalse = OrElse(AndAlso(Not(ln), Not(lv)), AndAlso(Not(rn), Not(rv)));
                        _body.Add(Assign(n, AndAlso(Not(isFalse), OrElse(ln, rn))));
                        _body.Add(Assign(v, AndAlso(Not(isFalse), Not(n))));
                    }
                    else
                    {
                        var isTrue = OrElse(AndAlso(Not(ln), lv), AndAlso(Not(rn), rv));
                        _body.Add(Assign(v, isTrue));
                        _body.Add(Assign(n, AndAlso(Not(isTrue), OrElse(ln, rn))));
                    }

                    return (v, n);
                }

            case "NOT":
                {
                    var (a, an) = Emit(call.Args[0]);
                    return (Not(a), an);
                }

            case "IS NULL":
            case "IS NOT NULL":
                {
                    var (_, an) = Emit(call.Args[0]);
                    return (call.Name == "IS NULL" ? an : Not(an), Constant(false));
                }

            case "IS TRUE":
            case "IS FALSE":
            case "IS NOT TRUE":
            case "IS NOT FALSE":
                {
                    var (a, an) = Emit(call.Args[0]);
                    Expression r = call.Name switch
                    {
                        "IS TRUE" => AndAlso(Not(an), a),
                        "IS FALSE" => AndAlso(Not(an), Not(a)),
                        "IS NOT TRUE" => OrElse(an, Not(a)),
                        _ => OrElse(an, a),
                    };
                    return (r, Constant(false));
                }

            case "IS DISTINCT FROM":
            case "IS NOT DISTINCT FROM":
                {
                    var (a, an) = Emit(call.Args[0]);
                    var (b, bn) = Emit(call.Args[1]);
                    var distinct = OrElse(NotEqual(an, bn), AndAlso(AndAlso(Not(an), Not(bn)), Not(Equality(a, b, call.Args[0].Type))));
                    return (call.Name == "IS DISTINCT FROM" ? distinct : Not(distinct), Constant(false));
                }

            case "=":
            case "<>":
            case "<":
            case "<=":
            case ">":
            case ">=":
                {
                    var (a, an) = Emit(call.Args[0]);
                    var (b, bn) = Emit(call.Args[1]);
                    var (v, n) = Temps(DataType.Boolean);
                    _body.Add(Assign(n, OrElse(an, bn)));
                    _body.Add(Assign(v, Compare(call.Name, a, b, call.Args[0].Type)));
                    return (v, n);
                }

            case "+":
            case "-":
            case "*":
            case "/":
            case "%":
                return EmitArithmetic(call);
            case "NEG":
                {
                    var (a, an) = Emit(call.Args[0]);
                    return (Negate(a), an);
                }

            case "||":
                return Strict(call, args => Call(typeof(string).GetMethod(nameof(string.Concat), [typeof(string), typeof(string)])!, args));
            case "CAST":
                return EmitCast(call.Args[0], call.Type);
            case "COALESCE":
                {
                    var (v, n) = Temps(call.Type);
                    _body.Add(Assign(n, Constant(true)));
                    _body.Add(Assign(v, Default(v.Type)));
                    foreach (var arg in call.Args)
                    {
                        var block = Nested(() =>
                        {
                            var (av, an) = Emit(arg);
                            _body.Add(Assign(v, Coerce(av, v.Type)));
                            _body.Add(Assign(n, an));
                        });
                        _body.Add(IfThen(n, BlockOf(block)));
                    }

                    return (v, n);
                }

            case "NULLIF":
                {
                    var (a, an) = Emit(call.Args[0]);
                    var (b, bn) = Emit(call.Args[1]);
                    var (v, n) = Temps(call.Type);
                    _body.Add(Assign(v, a));
                    _body.Add(Assign(n, OrElse(an, AndAlso(Not(bn), Equality(a, b, call.Args[0].Type)))));
                    return (v, n);
                }

            case "IN":
                {
                    var (a, an) = Emit(call.Args[0]);
                    var found = Temp(typeof(bool), "found");
                    var anyNull = Temp(typeof(bool), "anyNull");
                    _body.Add(Assign(found, Constant(false)));
                    _body.Add(Assign(anyNull, Constant(false)));
                    foreach (var item in call.Args.Skip(1))
                    {
                        var (b, bn) = Emit(item);
                        _body.Add(Assign(anyNull, OrElse(anyNull, bn)));
                        _body.Add(Assign(found, OrElse(found, AndAlso(Not(bn), Equality(a, b, call.Args[0].Type)))));
                    }

                    var (v, n) = Temps(DataType.Boolean);
                    _body.Add(Assign(n, OrElse(an, AndAlso(Not(found), anyNull))));
                    _body.Add(Assign(v, found));
                    return (v, n);
                }

            case "LIKE":
                {
                    if (call.Args[1] is BoundLiteral { Value: string pattern })
                    {
                        var regex = SqlFunctions.LikeRegex(pattern);
                        return Strict([call.Args[0]], DataType.Boolean, args => Call(Method(nameof(SqlFunctions.Like)), args[0], Constant(regex)));
                    }

                    return Strict(call, args => Call(Method(nameof(SqlFunctions.Like)), args[0], Call(Method(nameof(SqlFunctions.LikeRegex)), args[1])));
                }

            case "IF":
                {
                    var cs = new BoundCase([(call.Args[0], call.Args[1])], call.Args[2], call.Type);
                    return EmitCase(cs);
                }

            case "GREATEST":
            case "LEAST":
                {
                    var (v, n) = Temps(call.Type);
                    var (f, fn) = Emit(call.Args[0]);
                    _body.Add(Assign(v, Coerce(f, v.Type)));
                    _body.Add(Assign(n, fn));
                    foreach (var arg in call.Args.Skip(1))
                    {
                        var (b, bn) = Emit(arg);
                        var better = Compare(call.Name == "GREATEST" ? ">" : "<", b, v, call.Type);
                        _body.Add(Assign(n, OrElse(n, bn)));
                        _body.Add(IfThen(AndAlso(Not(n), better), Assign(v, b)));
                    }

                    return (v, n);
                }

            default:
                return EmitFunction(call);
        }
    }

    private static MethodInfo Method(string name, params Type[] types) =>
        types.Length == 0 ? typeof(SqlFunctions).GetMethod(name)! : typeof(SqlFunctions).GetMethod(name, types)!;

    /// <summary>NULL if any argument is NULL; otherwise <paramref name="body"/> on the values. A null/nullable result also means NULL.</summary>
    private (Expression, Expression) Strict(BoundCall call, Func<Expression[], Expression> body) => Strict(call.Args, call.Type, body);

    private (Expression, Expression) Strict(IReadOnlyList<BoundExpr> args, DataType resultType, Func<Expression[], Expression> body)
    {
        var emitted = args.Select(Emit).ToArray();
        var (v, n) = Temps(resultType);
        Expression anyNull = Constant(false);
        foreach (var (_, an) in emitted)
        {
            anyNull = anyNull is ConstantExpression { Value: false } ? an : OrElse(anyNull, an);
        }

        _body.Add(Assign(n, anyNull));
        var result = body(emitted.Select(a => a.Val).ToArray());
        var underlying = Nullable.GetUnderlyingType(result.Type);
        if (underlying is not null)
        {
            var tmp = Temp(result.Type, "r");
            _body.Add(IfThenElse(n, Assign(v, Default(v.Type)), Block(
                Assign(tmp, result),
                Assign(n, Not(Property(tmp, "HasValue"))),
                Assign(v, Coerce(Property(tmp, "Value").Type == underlying ? Call(tmp, result.Type.GetMethod("GetValueOrDefault", Type.EmptyTypes)!) : result, v.Type)))));
        }
        else if (!result.Type.IsValueType)
        {
            _body.Add(IfThenElse(n, Assign(v, Default(v.Type)), Block(Assign(v, Coerce(result, v.Type)), Assign(n, Equal(v, Constant(null, v.Type))))));
        }
        else
        {
            _body.Add(IfThenElse(n, Assign(v, Default(v.Type)), Assign(v, Coerce(result, v.Type))));
        }

        return (v, n);
    }

    private (Expression, Expression) EmitArithmetic(BoundCall call)
    {
        var (a, an) = Emit(call.Args[0]);
        var (b, bn) = Emit(call.Args[1]);
        var t = ClrOf(call.Type);
        a = Coerce(a, t);
        b = Coerce(b, t);
        var (v, n) = Temps(call.Type);
        _body.Add(Assign(n, OrElse(an, bn)));
        Expression r = call.Name switch
        {
            "+" => Add(a, b),
            "-" => Subtract(a, b),
            "*" => Multiply(a, b),
            "/" when t == typeof(int) => Call(Method(nameof(SqlFunctions.DivInt)), a, b),
            "/" when t == typeof(long) => Call(Method(nameof(SqlFunctions.DivLong)), a, b),
            "/" when t == typeof(decimal) => Call(Method(nameof(SqlFunctions.DivDecimal)), a, b),
            "/" => Divide(a, b),
            "%" when t == typeof(int) => Call(Method(nameof(SqlFunctions.ModInt)), a, b),
            "%" when t == typeof(long) => Call(Method(nameof(SqlFunctions.ModLong)), a, b),
            "%" when t == typeof(decimal) => Condition(Equal(b, Constant(0m)), Constant(0m), Modulo(a, b)),
            _ => Modulo(a, b),
        };
        if (t == typeof(decimal))
        {
            // Decimal arithmetic throws on overflow; only evaluate it for non-NULL rows.
            _body.Add(IfThenElse(n, Assign(v, Default(t)), Assign(v, r)));
        }
        else
        {
            _body.Add(Assign(v, r));
        }

        if (call.Name is "/" or "%" && t != typeof(double))
        {
            // Division by zero gives NULL rather than failing the whole query.
            _body.Add(Assign(n, OrElse(n, Equal(b, Default(t)))));
        }

        return (v, n);
    }

    private static Expression Equality(Expression a, Expression b, DataType type) =>
        type == DataType.String ? Call(typeof(string).GetMethod(nameof(string.Equals), [typeof(string), typeof(string)])!, a, b) : Equal(a, Coerce(b, a.Type));

    private static Expression Compare(string op, Expression a, Expression b, DataType type)
    {
        if (type == DataType.String)
        {
            if (op is "=" or "<>")
            {
                var eq = Equality(a, b, type);
                return op == "=" ? eq : Not(eq);
            }

            a = Call(Method(nameof(SqlFunctions.CompareStrings)), a, b);
            b = Constant(0);
        }
        else if (type == DataType.Boolean && op is not ("=" or "<>"))
        {
            a = Condition(a, Constant(1), Constant(0));
            b = Condition(b, Constant(1), Constant(0));
        }

        b = Coerce(b, a.Type);
        return op switch
        {
            "=" => Equal(a, b),
            "<>" => NotEqual(a, b),
            "<" => LessThan(a, b),
            "<=" => LessThanOrEqual(a, b),
            ">" => GreaterThan(a, b),
            _ => GreaterThanOrEqual(a, b),
        };
    }

    private (Expression, Expression) EmitCast(BoundExpr operand, DataType to)
    {
        var from = operand.Type;
        if (from == to || from == DataType.Null)
        {
            if (from == DataType.Null)
            {
                return (Default(ClrOf(to)), Constant(true));
            }

            return Emit(operand);
        }

        var args = new[] { operand };
        var clrTo = ClrOf(to);
        switch (to)
        {
            case DataType.String:
                return from switch
                {
                    DataType.Double => Strict(args, to, a => Call(Method(nameof(SqlFunctions.FormatDouble)), a[0])),
                    DataType.Decimal => Strict(args, to, a => Call(Method(nameof(SqlFunctions.FormatDecimal)), a[0])),
                    DataType.Boolean => Strict(args, to, a => Call(Method(nameof(SqlFunctions.FormatBool)), a[0])),
                    DataType.Timestamp => Strict(args, to, a => Call(Method(nameof(SqlFunctions.FormatTimestamp)), a[0])),
                    _ => Strict(args, to, a => Call(a[0], a[0].Type.GetMethod(nameof(ToString), [typeof(IFormatProvider)])!, Constant(System.Globalization.CultureInfo.InvariantCulture))),
                };
            case DataType.Int32 when from == DataType.String:
                return Strict(args, to, a => Call(Method(nameof(SqlFunctions.ParseInt)), a[0]));
            case DataType.Int64 when from == DataType.String:
                return Strict(args, to, a => Call(Method(nameof(SqlFunctions.ParseLong)), a[0]));
            case DataType.Double when from == DataType.String:
                return Strict(args, to, a => Call(Method(nameof(SqlFunctions.ParseDouble)), a[0]));
            case DataType.Decimal when from == DataType.String:
                return Strict(args, to, a => Call(Method(nameof(SqlFunctions.ParseDecimal)), a[0]));
            case DataType.Boolean when from == DataType.String:
                return Strict(args, to, a => Call(Method(nameof(SqlFunctions.ParseBool)), a[0]));
            case DataType.Timestamp when from == DataType.String:
                return Strict(args, to, a => Call(Method(nameof(SqlFunctions.ParseTimestamp)), a[0]));
            case DataType.Boolean:
                return Strict(args, to, a => NotEqual(a[0], Default(a[0].Type)));
            default:
                if (from == DataType.Boolean)
                {
                    return Strict(args, to, a => Condition(a[0], Convert(Constant(1), clrTo), Convert(Constant(0), clrTo)));
                }

                return Strict(args, to, a => Convert(a[0], clrTo));
        }
    }

    private static readonly Dictionary<string, Regex> RegexCache = [];

    private static Regex CachedRegex(string pattern)
    {
        lock (RegexCache)
        {
            if (!RegexCache.TryGetValue(pattern, out var r))
            {
                r = new Regex(pattern, RegexOptions.CultureInvariant);
                RegexCache[pattern] = r;
            }

            return r;
        }
    }

    private static readonly MethodInfo CachedRegexMethod = typeof(ExpressionCompiler).GetMethod(nameof(CachedRegex), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static Expression RegexOf(BoundExpr pattern, Expression value) =>
        pattern is BoundLiteral { Value: string p } ? Constant(CachedRegex(p)) : Call(CachedRegexMethod, value);

    private (Expression, Expression) EmitFunction(BoundCall call)
    {
        var a = call.Args;
        switch (call.Name)
        {
            case "UPPER":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.Upper)), x[0]));
            case "LOWER":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.Lower)), x[0]));
            case "SUBSTRING":
                return a.Count == 3
                    ? Strict(call, x => Call(Method(nameof(SqlFunctions.Substring), typeof(string), typeof(int), typeof(int)), x[0], x[1], x[2]))
                    : Strict(call, x => Call(Method(nameof(SqlFunctions.Substring), typeof(string), typeof(int)), x[0], x[1]));
            case "CONCAT":
                return Strict(call, x => Call(typeof(string).GetMethod(nameof(string.Concat), [typeof(string[])])!, NewArrayInit(typeof(string), x)));
            case "CONCAT_WS":
                return Strict(call, x => Call(typeof(string).GetMethod(nameof(string.Join), [typeof(string), typeof(string[])])!, x[0], NewArrayInit(typeof(string), x.Skip(1))));
            case "CHAR_LENGTH":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.CharLength)), x[0]));
            case "TRIM":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.Trim)), x[0], x[1], x[2]));
            case "REPLACE":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.Replace)), x[0], x[1], x[2]));
            case "POSITION":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.Position)), x[0], x[1]));
            case "INITCAP":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.InitCap)), x[0]));
            case "LPAD":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.Lpad)), x[0], x[1], x[2]));
            case "RPAD":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.Rpad)), x[0], x[1], x[2]));
            case "REVERSE":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.Reverse)), x[0]));
            case "REGEXP_EXTRACT":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.RegexpExtract)), x[0], RegexOf(a[1], x[1]), x.Length > 2 ? x[2] : Constant(0)));
            case "REGEXP_REPLACE":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.RegexpReplace)), x[0], RegexOf(a[1], x[1]), x[2]));
            case "REGEXP":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.RegexpMatches)), x[0], RegexOf(a[1], x[1])));
            case "SPLIT_INDEX":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.SplitIndex)), x[0], x[1], x[2]));
            case "ABS":
                return Strict(call, x => Call(typeof(Math).GetMethod(nameof(Math.Abs), [x[0].Type])!, x[0]));
            case "ROUND":
                {
                    var digits = a.Count > 1 ? null : (Expression)Constant(0);
                    return call.Type switch
                    {
                        DataType.Double => Strict(call, x => Call(Method(nameof(SqlFunctions.RoundDouble)), x[0], x.Length > 1 ? x[1] : digits!)),
                        DataType.Decimal => Strict(call, x => Call(Method(nameof(SqlFunctions.RoundDecimal)), x[0], x.Length > 1 ? x[1] : digits!)),
                        _ => Strict(call, x => Convert(Call(Method(nameof(SqlFunctions.RoundLong)), Convert(x[0], typeof(long)), x.Length > 1 ? x[1] : digits!), ClrOf(call.Type))),
                    };
                }

            case "FLOOR":
            case "CEIL":
                {
                    if (call.Extra is string unit)
                    {
                        return Strict(call, x => Call(Method(nameof(SqlFunctions.Truncate)), Constant(unit), x[0]));
                    }

                    if (call.Type is DataType.Int32 or DataType.Int64)
                    {
                        return Emit(a[0]);
                    }

                    var m = call.Name == "FLOOR" ? nameof(Math.Floor) : nameof(Math.Ceiling);
                    return Strict(call, x => Call(typeof(Math).GetMethod(m, [x[0].Type])!, x[0]));
                }

            case "MOD":
                return EmitArithmetic(call with { Name = "%" });
            case "POWER":
                return Strict(call, x => Call(typeof(Math).GetMethod(nameof(Math.Pow))!, x[0], x[1]));
            case "SQRT":
            case "EXP":
            case "LN":
            case "LOG10":
                {
                    var m = call.Name switch { "SQRT" => nameof(Math.Sqrt), "EXP" => nameof(Math.Exp), "LN" => nameof(Math.Log), _ => nameof(Math.Log10) };
                    return Strict(call, x => Call(typeof(Math).GetMethod(m, [typeof(double)])!, x[0]));
                }

            case "SIGN":
                return Strict(call, x => Convert(Call(typeof(Math).GetMethod(nameof(Math.Sign), [x[0].Type])!, x[0]), ClrOf(call.Type)));
            case "EXTRACT":
                return Strict(call, x => Convert(Call(Method(nameof(SqlFunctions.Extract)), Constant((string)call.Extra!), x[0]), ClrOf(call.Type)));
            case "DATE_FORMAT":
                {
                    if (a[1] is BoundLiteral { Value: string fmt })
                    {
                        var net = SqlFunctions.JavaToNetFormat(fmt);
                        return Strict([a[0]], call.Type, x => Call(Method(nameof(SqlFunctions.DateFormat)), x[0], Constant(net)));
                    }

                    return Strict(call, x => Call(Method(nameof(SqlFunctions.DateFormat)), x[0], Call(Method(nameof(SqlFunctions.JavaToNetFormat)), x[1])));
                }

            case "TO_TIMESTAMP":
                return a.Count == 1
                    ? Strict(call, x => Call(Method(nameof(SqlFunctions.ParseTimestamp)), x[0]))
                    : Strict(call, x => Call(Method(nameof(SqlFunctions.ParseTimestampWithFormat)), x[0], Call(Method(nameof(SqlFunctions.JavaToNetFormat)), x[1])));
            case "WINDOW_START":
                return Strict(call, x => Call(Method(nameof(SqlFunctions.WindowStart)), x[0], x[1]));
            case "NOW":
                return (Call(Method(nameof(SqlFunctions.NowMillis))), Constant(false));
            default:
                throw new InvalidOperationException($"no implementation for function {call.Name}");
        }
    }
}
