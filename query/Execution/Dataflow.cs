using Streams.Engine.Data;
using Streams.Engine.Operators;

namespace Streams.Query.Execution;

/// <summary>A step of a running query that receives batches and signals from upstream.</summary>
internal interface IDataflowInput
{
    void OnBatch(ColumnBatch batch);

    void OnWatermark(long watermark);

    void OnEnd();
}

/// <summary>Runs a single-input <see cref="IOperator"/>, forwarding what it emits to the next step.</summary>
internal sealed class OperatorStep(IOperator op, IDataflowInput next, DeadLetterCounter errors) : IDataflowInput, IOperatorOutput
{
    public void OnBatch(ColumnBatch batch) => op.OnBatch(batch, this);

    public void OnWatermark(long watermark) => op.OnWatermark(watermark, this);

    public void OnEnd()
    {
        op.OnEndOfInput(this);
        next.OnEnd();
    }

    public void Emit(ColumnBatch batch) => next.OnBatch(batch);

    public void EmitWatermark(long watermark) => next.OnWatermark(watermark);

    public void EmitBarrier(CheckpointBarrier barrier)
    {
    }

    public void EmitError(ColumnBatch batch, int row, string reason) => errors.Report(reason);
}

/// <summary>Runs a two-input operator: two input ports, watermark = min of both, end when both ended.</summary>
internal sealed class TwoInputStep(ITwoInputOperator op, IDataflowInput next, DeadLetterCounter errors) : IOperatorOutput
{
    private readonly ITwoInputOperator _op = op;
    private long _leftWatermark = long.MinValue;
    private long _rightWatermark = long.MinValue;
    private long _emitted = long.MinValue;
    private int _ended;

    public IDataflowInput Left => new Port(this, JoinSide.Left);

    public IDataflowInput Right => new Port(this, JoinSide.Right);

    public void Emit(ColumnBatch batch) => next.OnBatch(batch);

    public void EmitWatermark(long watermark) => next.OnWatermark(watermark);

    public void EmitBarrier(CheckpointBarrier barrier)
    {
    }

    public void EmitError(ColumnBatch batch, int row, string reason) => errors.Report(reason);

    private void Watermark(JoinSide side, long wm)
    {
        if (side == JoinSide.Left)
        {
            _leftWatermark = Math.Max(_leftWatermark, wm);
        }
        else
        {
            _rightWatermark = Math.Max(_rightWatermark, wm);
        }

        var combined = Math.Min(_leftWatermark, _rightWatermark);
        if (combined > _emitted)
        {
            _emitted = combined;
            _op.OnWatermark(combined, this);
        }
    }

    private void End()
    {
        if (++_ended == 2)
        {
            _op.OnEndOfInput(this);
            next.OnEnd();
        }
    }

    private sealed class Port(TwoInputStep owner, JoinSide side) : IDataflowInput
    {
        public void OnBatch(ColumnBatch batch) => owner._op.OnBatch(side, batch, owner);

        public void OnWatermark(long watermark) => owner.Watermark(side, watermark);

        public void OnEnd()
        {
            owner.Watermark(side, long.MaxValue);
            owner.End();
        }
    }
}

/// <summary>Merges several inputs (UNION ALL): batches pass through, the watermark is the minimum, end when all ended.</summary>
internal sealed class UnionStep(int inputs, IDataflowInput next)
{
    private readonly IDataflowInput _next = next;
    private readonly long[] _watermarks = Enumerable.Repeat(long.MinValue, inputs).ToArray();
    private long _emitted = long.MinValue;
    private int _ended;

    public IDataflowInput Port(int i) => new UnionPort(this, i);

    private sealed class UnionPort(UnionStep owner, int index) : IDataflowInput
    {
        public void OnBatch(ColumnBatch batch) => owner._next.OnBatch(batch);

        public void OnWatermark(long watermark)
        {
            owner._watermarks[index] = Math.Max(owner._watermarks[index], watermark);
            var min = owner._watermarks.Min();
            if (min > owner._emitted)
            {
                owner._emitted = min;
                owner._next.OnWatermark(min);
            }
        }

        public void OnEnd()
        {
            OnWatermark(long.MaxValue);
            if (++owner._ended == owner._watermarks.Length)
            {
                owner._next.OnEnd();
            }
        }
    }
}

/// <summary>Counts rows that could not be processed and keeps the first reasons for the report on stderr.</summary>
public sealed class DeadLetterCounter
{
    private readonly List<string> _samples = [];
    private long _count;

    /// <summary>Rows rejected so far.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The first few reasons.</summary>
    public IReadOnlyList<string> Samples
    {
        get
        {
            lock (_samples)
            {
                return _samples.ToArray();
            }
        }
    }

    /// <summary>Records one rejected row.</summary>
    public void Report(string reason)
    {
        Interlocked.Increment(ref _count);
        lock (_samples)
        {
            if (_samples.Count < 10)
            {
                _samples.Add(reason);
            }
        }
    }
}
