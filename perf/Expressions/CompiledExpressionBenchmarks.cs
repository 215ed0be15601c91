using BenchmarkDotNet.Attributes;
using Streams.Engine.Data;
using Streams.Engine.Operators.Filter;
using Streams.Engine.Operators.Project;
using Streams.Perf.Shared;
using Streams.Query.Binding;
using Streams.Query.Compilation;
using Streams.Query.Syntax;

namespace Streams.Perf.Expressions;

/// <summary>
/// Compiled SQL expressions over one 4096-row bid batch: the q2 predicate <c>MOD(auction, 123) = 0</c>, a compound
/// predicate, and the q1 projection <c>0.908 * price</c> (DECIMAL). Reported per batch; divide by 4096 for per row.
/// </summary>
[MemoryDiagnoser]
public class CompiledExpressionBenchmarks
{
    private BidBatches _input = null!;
    private ColumnBatch _batch = null!;
    private ColumnBatch _projected = null!;
    private BatchFilter _mod = null!;
    private BatchFilter _compound = null!;
    private BatchProjector _toEuro = null!;

    [GlobalSetup]
    public void Setup()
    {
        _input = new BidBatches(1, 10_000, 1);
        _batch = _input.Next();
        var scope = new Scope(BidBatches.Schema.Fields.Select(f => new ScopeColumn(null, f.Name, f.Type)).ToList());
        var binder = new Binder(new Catalog());
        _mod = ExpressionCompiler.CompileFilter(binder.BindExpr(SqlParser.ParseExpression("MOD(auction, 123) = 0"), scope), BidBatches.Schema);
        _compound = ExpressionCompiler.CompileFilter(binder.BindExpr(SqlParser.ParseExpression("price > 50000 AND (bidder < 100 OR auction BETWEEN 10 AND 20)"), scope), BidBatches.Schema);
        var euro = binder.BindExpr(SqlParser.ParseExpression("0.908 * price"), scope);
        var output = new Schema([new Field("auction", DataType.Int64), new Field("price", euro.Type)]);
        _toEuro = ExpressionCompiler.CompileProjector([binder.BindExpr(SqlParser.ParseExpression("auction"), scope), euro], BidBatches.Schema, output);
        _projected = _input.Pool.Rent(output, BidBatches.Rows);
    }

    [Benchmark]
    public int FilterMod()
    {
        _batch.Clear();
        _batch.Count = BidBatches.Rows;
        _mod(_batch);
        return _batch.Count;
    }

    [Benchmark]
    public int FilterCompound()
    {
        _batch.Clear();
        _batch.Count = BidBatches.Rows;
        _compound(_batch);
        return _batch.Count;
    }

    [Benchmark]
    public int ProjectDecimal()
    {
        _toEuro(_batch, _projected);
        return _projected.Count;
    }
}
