using System.Linq.Expressions;
using System.Reflection;
using Streams.Engine.Data;
using Streams.Engine.Operators.Filter;
using Streams.Engine.Operators.Project;

namespace Streams.Engine.Embedding;

/// <summary>
/// Turns C# lambdas over an event type into columnar batch code: every use of <c>e.Member</c> becomes a read of that
/// column's array at the loop index, and the whole loop is compiled once, so there is no delegate call per row.
/// </summary>
internal static class ColumnarExpressionCompiler
{
    private static readonly MethodInfo ColumnAt = typeof(ColumnBatch).GetMethod(nameof(ColumnBatch.ColumnAt))!;
    private static readonly MethodInfo FilterOut = typeof(ColumnBatch).GetMethod(nameof(ColumnBatch.FilterOut))!;
    private static readonly MethodInfo IsNull = typeof(Column).GetMethod(nameof(Column.IsNull))!;
    private static readonly MethodInfo SetNull = typeof(Column).GetMethod(nameof(Column.SetNull), [typeof(int)])!;
    private static readonly MethodInfo FromMs = typeof(ColumnarExpressionCompiler).GetMethod(nameof(DateTimeFromMs), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo ToMs = typeof(ColumnarExpressionCompiler).GetMethod(nameof(DateTimeToMs), BindingFlags.NonPublic | BindingFlags.Static)!;

    public static BatchFilter CompileFilter<T>(Expression<Func<T, bool>> predicate, Schema schema)
    {
        var batch = Expression.Parameter(typeof(ColumnBatch), "batch");
        var i = Expression.Variable(typeof(int), "i");
        var rewriter = new ColumnRewriter(predicate.Parameters[0], schema, batch, i);
        var test = rewriter.Visit(predicate.Body);
        var body = Loop(batch, i, rewriter, Expression.IfThen(Expression.Not(test), Expression.Call(batch, FilterOut, i)));
        return Expression.Lambda<BatchFilter>(body, batch).Compile();
    }

    /// <summary>The output columns of a selector: the members of <c>new { ... }</c>, or one column for a single expression.</summary>
    public static (Schema Schema, BatchProjector Projector) CompileProjection<T, TOut>(Expression<Func<T, TOut>> selector, Schema schema, string singleName)
    {
        var outputs = new List<(string Name, Expression Value)>();
        switch (selector.Body)
        {
            case NewExpression { Members: not null } created:
                for (var k = 0; k < created.Arguments.Count; k++)
                {
                    outputs.Add((created.Members[k].Name, created.Arguments[k]));
                }

                break;
            case MemberInitExpression init:
                foreach (var binding in init.Bindings.Cast<MemberAssignment>())
                {
                    outputs.Add((binding.Member.Name, binding.Expression));
                }

                break;
            case MemberExpression member when member.Expression == selector.Parameters[0]:
                outputs.Add((member.Member.Name, member));
                break;
            default:
                outputs.Add((singleName, selector.Body));
                break;
        }

        var fields = outputs.Select(o => new Field(o.Name, ClrTypes.ToDataType(o.Value.Type))).ToArray();
        var eventTime = Array.FindIndex(outputs.ToArray(), o => o.Value is MemberExpression m && m.Expression == selector.Parameters[0] && schema.IndexOf(m.Member.Name) == schema.EventTimeIndex && schema.EventTimeIndex >= 0);
        var outputSchema = new Schema(fields, eventTime);
        var input = Expression.Parameter(typeof(ColumnBatch), "input");
        var output = Expression.Parameter(typeof(ColumnBatch), "output");
        var i = Expression.Variable(typeof(int), "i");
        var rewriter = new ColumnRewriter(selector.Parameters[0], schema, input, i);
        var writes = new List<Expression>();
        var outputVariables = new List<ParameterExpression>();
        var prologue = new List<Expression>();
        for (var k = 0; k < outputs.Count; k++)
        {
            var storage = fields[k].Type.ClrType();
            var column = Expression.Variable(typeof(Column<>).MakeGenericType(storage), "out" + k);
            var values = Expression.Variable(storage.MakeArrayType(), "outValues" + k);
            outputVariables.Add(column);
            outputVariables.Add(values);
            prologue.Add(Expression.Assign(column, Expression.Call(output, ColumnAt.MakeGenericMethod(storage), Expression.Constant(k))));
            prologue.Add(Expression.Assign(values, Expression.Property(column, "Values")));
            var value = rewriter.Visit(outputs[k].Value);
            var underlying = Nullable.GetUnderlyingType(value.Type);
            var slot = Expression.ArrayAccess(values, i);
            if (underlying is not null)
            {
                var temp = Expression.Variable(value.Type, "v" + k);
                writes.Add(Expression.Block([temp],
                    Expression.Assign(temp, value),
                    Expression.IfThenElse(Expression.Property(temp, "HasValue"),
                        Expression.Assign(slot, ToStorageExpression(Expression.Property(temp, "Value"), storage)),
                        Expression.Call(column, SetNull, i))));
            }
            else if (!value.Type.IsValueType)
            {
                var temp = Expression.Variable(value.Type, "v" + k);
                writes.Add(Expression.Block([temp],
                    Expression.Assign(temp, value),
                    Expression.Assign(slot, Expression.Convert(temp, storage)),
                    Expression.IfThen(Expression.Equal(temp, Expression.Constant(null, value.Type)), Expression.Call(column, SetNull, i))));
            }
            else
            {
                writes.Add(Expression.Assign(slot, ToStorageExpression(value, storage)));
            }
        }

        var loop = Loop(input, i, rewriter, Expression.Block(writes));
        var body = Expression.Block(outputVariables, prologue.Append(loop));
        return (outputSchema, Expression.Lambda<BatchProjector>(body, input, output).Compile());
    }

    /// <summary>A projection that keeps every input column and appends one computed column per expression in <paramref name="extras"/>.</summary>
    public static (Schema Schema, BatchProjector Projector) CompileAppend(IReadOnlyList<LambdaExpression> extras, Schema schema)
    {
        var fields = schema.Fields.ToList();
        var computed = new List<BatchProjector>();
        for (var k = 0; k < extras.Count; k++)
        {
            var extra = extras[k];
            var name = "expr" + k;
            var single = typeof(ColumnarExpressionCompiler).GetMethod(nameof(CompileSingle), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(extra.Parameters[0].Type, extra.ReturnType);
            var (one, projector) = ((Schema, BatchProjector))single.Invoke(null, [extra, schema, name])!;
            fields.Add(one[0]);
            computed.Add(projector);
        }

        var output = new Schema(fields, schema.EventTimeIndex);
        var inputCount = schema.Count;
        return (output, (input, target) =>
        {
            for (var c = 0; c < inputCount; c++)
            {
                CopyColumn(input.Columns[c], target.Columns[c], input.Count);
            }

            for (var k = 0; k < computed.Count; k++)
            {
                // Each computed column is projected into its own one-column view of the target.
                using var view = input.Pool.Rent(new Schema([fields[inputCount + k]]), target.Capacity);
                view.Count = input.Count;
                computed[k](input, view);
                CopyColumn(view.Columns[0], target.Columns[inputCount + k], input.Count);
            }
        });
    }

    private static (Schema, BatchProjector) CompileSingle<T, TOut>(Expression<Func<T, TOut>> selector, Schema schema, string name) =>
        CompileProjection(Expression.Lambda<Func<T, TOut>>(Expression.Convert(selector.Body, typeof(TOut)), selector.Parameters), schema, name);

    private static void CopyColumn(Column from, Column to, int count)
    {
        switch (from)
        {
            case Column<long> s: Array.Copy(s.Values, ((Column<long>)to).Values, count); break;
            case Column<int> s: Array.Copy(s.Values, ((Column<int>)to).Values, count); break;
            case Column<double> s: Array.Copy(s.Values, ((Column<double>)to).Values, count); break;
            case Column<bool> s: Array.Copy(s.Values, ((Column<bool>)to).Values, count); break;
            case Column<decimal> s: Array.Copy(s.Values, ((Column<decimal>)to).Values, count); break;
            case Column<string?> s: Array.Copy(s.Values, ((Column<string?>)to).Values, count); break;
            default: throw new NotSupportedException(from.Type.ToString());
        }

        if (from.HasNulls)
        {
            for (var i = 0; i < count; i++)
            {
                to.SetNull(i, from.IsNull(i));
            }
        }
    }

    /// <summary>The column index <paramref name="selector"/> reads when it is a plain member access, else -1.</summary>
    public static int ColumnOf(LambdaExpression selector, Schema schema) =>
        selector.Body is MemberExpression m && m.Expression == selector.Parameters[0] ? schema.IndexOf(m.Member.Name) : -1;

    private static Expression ToStorageExpression(Expression value, Type storage)
    {
        if (value.Type == typeof(DateTime))
        {
            return Expression.Call(ToMs, value);
        }

        if (value.Type == typeof(DateTimeOffset))
        {
            return Expression.Call(value, typeof(DateTimeOffset).GetMethod(nameof(DateTimeOffset.ToUnixTimeMilliseconds))!);
        }

        return value.Type == storage ? value : Expression.Convert(value, storage);
    }

    private static BlockExpression Loop(ParameterExpression batch, ParameterExpression i, ColumnRewriter rewriter, Expression perRow)
    {
        var count = Expression.Variable(typeof(int), "count");
        var end = Expression.Label("end");
        var variables = new List<ParameterExpression> { i, count };
        variables.AddRange(rewriter.Variables);
        var block = new List<Expression>(rewriter.Prologue)
        {
            Expression.Assign(count, Expression.Property(batch, nameof(ColumnBatch.Count))),
            Expression.Assign(i, Expression.Constant(0)),
            Expression.Loop(
                Expression.IfThenElse(
                    Expression.LessThan(i, count),
                    Expression.Block(perRow, Expression.PostIncrementAssign(i)),
                    Expression.Break(end)),
                end),
        };
        return Expression.Block(variables, block);
    }

    private static DateTime DateTimeFromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;

    private static long DateTimeToMs(DateTime value) => (long)ClrTypes.ToStorage(value)!;

    /// <summary>Replaces <c>e.Member</c> with <c>columnValues[i]</c>, hoisting each column's array into a local.</summary>
    private sealed class ColumnRewriter(ParameterExpression parameter, Schema schema, ParameterExpression batch, ParameterExpression index) : ExpressionVisitor
    {
        private readonly Dictionary<int, (ParameterExpression Column, ParameterExpression Values)> _columns = [];

        public List<ParameterExpression> Variables { get; } = [];

        public List<Expression> Prologue { get; } = [];

        protected override Expression VisitParameter(ParameterExpression node) =>
            node == parameter ? throw new NotSupportedException("use the event's members (e.g. e.Price), not the event itself") : node;

        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Expression != parameter)
            {
                return base.VisitMember(node);
            }

            var c = schema.IndexOf(node.Member.Name);
            if (c < 0)
            {
                throw new ArgumentException($"'{node.Member.Name}' is not a column of {schema}");
            }

            var storage = schema[c].Type.ClrType();
            if (!_columns.TryGetValue(c, out var vars))
            {
                vars = (Expression.Variable(typeof(Column<>).MakeGenericType(storage), "col" + c), Expression.Variable(storage.MakeArrayType(), "values" + c));
                _columns[c] = vars;
                Variables.Add(vars.Column);
                Variables.Add(vars.Values);
                Prologue.Add(Expression.Assign(vars.Column, Expression.Call(batch, ColumnAt.MakeGenericMethod(storage), Expression.Constant(c))));
                Prologue.Add(Expression.Assign(vars.Values, Expression.Property(vars.Column, "Values")));
            }

            Expression value = Expression.ArrayAccess(vars.Values, index);
            var wanted = node.Type;
            var underlying = Nullable.GetUnderlyingType(wanted) ?? wanted;
            if (underlying == typeof(DateTime))
            {
                value = Expression.Call(FromMs, value);
            }
            else if (underlying == typeof(DateTimeOffset))
            {
                value = Expression.Call(typeof(DateTimeOffset).GetMethod(nameof(DateTimeOffset.FromUnixTimeMilliseconds))!, value);
            }
            else if (value.Type != underlying)
            {
                value = Expression.Convert(value, underlying);
            }

            if (underlying != wanted)
            {
                // Nullable member: NULL rows read as null.
                return Expression.Condition(Expression.Call(vars.Column, IsNull, index), Expression.Constant(null, wanted), Expression.Convert(value, wanted));
            }

            return value;
        }
    }
}
