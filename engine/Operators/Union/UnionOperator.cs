using Streams.Engine.Data;

namespace Streams.Engine.Operators.Union;

/// <summary>
/// UNION ALL of n inputs: passes every batch on untouched (no copy) and emits the minimum of the inputs' watermarks whenever it
/// advances; an input that ended counts as +infinity. Barriers are forwarded once all inputs delivered the checkpoint's barrier.
/// <para>
/// Two ways to drive it: as an <see cref="ITwoInputOperator"/> (the runtime already delivers the min watermark of both
/// inputs, which is forwarded when it advances), or n-ary through <see cref="OnInputBatch"/>, <see cref="OnInputWatermark"/>,
/// <see cref="OnInputBarrier"/> and <see cref="OnInputEnd"/>, where the operator combines watermarks itself.
/// Inputs must have the same column types in the same order (the SQL planner projects them to one schema); the first
/// input's schema is the output schema. A batch whose column types differ is refused with an error naming the input.
/// It is stateless for checkpointing: its watermark and barrier bookkeeping is rebuilt from its inputs after a restart.
/// </para>
/// </summary>
public sealed class UnionOperator : ITwoInputOperator, Streams.Engine.State.IStatelessOperator
{
    private readonly long[] _watermarks;
    private readonly long[] _barrierSeen;
    private readonly bool[] _ended;
    private readonly Schema[] _schemas;
    private long _emitted = long.MinValue;

    /// <summary>Creates a union of inputs with the given schemas (at least two).</summary>
    public UnionOperator(params Schema[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length < 2)
        {
            throw new ArgumentException("a union needs at least two inputs", nameof(inputs));
        }

        for (var i = 1; i < inputs.Length; i++)
        {
            CheckCompatible(inputs[0], inputs[i], i);
        }

        _schemas = inputs;
        _watermarks = new long[inputs.Length];
        Array.Fill(_watermarks, long.MinValue);
        _barrierSeen = new long[inputs.Length];
        Array.Fill(_barrierSeen, -1);
        _ended = new bool[inputs.Length];
        OutputSchema = inputs[0];
    }

    /// <summary>The first input's schema.</summary>
    public Schema OutputSchema { get; }

    /// <summary>How many inputs the union has.</summary>
    public int InputCount => _schemas.Length;

    /// <inheritdoc />
    public void OnBatch(JoinSide side, ColumnBatch batch, IOperatorOutput output) => OnInputBatch((int)side, batch, output);

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (watermark > _emitted)
        {
            _emitted = watermark;
            output.EmitWatermark(watermark);
        }
    }

    /// <summary>A batch arrived on input <paramref name="input"/>; it is passed on as is.</summary>
    public void OnInputBatch(int input, ColumnBatch batch, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        if (!ReferenceEquals(batch.Schema, _schemas[input]) && !SameTypes(batch.Schema, _schemas[input]))
        {
            var schema = batch.Schema;
            batch.Dispose();
            throw new ArgumentException($"union input {input} delivered a batch of {schema}, expected {_schemas[input]}");
        }

        output.Emit(batch);
    }

    /// <summary>Input <paramref name="input"/>'s watermark advanced; emits the new minimum over all inputs when it rose.</summary>
    public void OnInputWatermark(int input, long watermark, IOperatorOutput output)
    {
        if (watermark > _watermarks[input])
        {
            _watermarks[input] = watermark;
            EmitMinimum(output);
        }
    }

    /// <summary>Input <paramref name="input"/> ended: it no longer holds the watermark back.</summary>
    public void OnInputEnd(int input, IOperatorOutput output)
    {
        _ended[input] = true;
        _watermarks[input] = long.MaxValue;
        EmitMinimum(output);
    }

    /// <summary>True once every input ended (then the runtime calls <see cref="ITwoInputOperator.OnEndOfInput"/>).</summary>
    public bool AllEnded => _ended.All(e => e);

    /// <summary>Input <paramref name="input"/> delivered a barrier; forwards it when every input delivered it. Returns whether it was forwarded.</summary>
    public bool OnInputBarrier(int input, CheckpointBarrier barrier, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _barrierSeen[input] = barrier.CheckpointId;
        for (var i = 0; i < _barrierSeen.Length; i++)
        {
            if (_barrierSeen[i] < barrier.CheckpointId && !_ended[i])
            {
                return false;
            }
        }

        output.EmitBarrier(barrier);
        return true;
    }

    private void EmitMinimum(IOperatorOutput output)
    {
        var min = long.MaxValue;
        foreach (var w in _watermarks)
        {
            min = Math.Min(min, w);
        }

        OnWatermark(min, output);
    }

    private static void CheckCompatible(Schema first, Schema other, int index)
    {
        if (!SameTypes(first, other))
        {
            throw new ArgumentException($"union input {index} has columns {other}, which do not match input 0 {first} by position and type");
        }
    }

    private static bool SameTypes(Schema a, Schema b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].Type != b[i].Type)
            {
                return false;
            }
        }

        return true;
    }
}
