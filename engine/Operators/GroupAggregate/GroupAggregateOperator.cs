using Streams.Engine.Data;

namespace Streams.Engine.Operators.GroupAggregate;

/// <summary>
/// Non-windowed GROUP BY producing a changelog. Each input batch updates the groups it touches (rows marked -U/-D are
/// retracted), then for every touched group emits +I (new), -U/+U (changed; nothing when unchanged) or -D (its last
/// row was retracted). Output: key columns..., aggregates... with row kinds set.
/// </summary>
public sealed partial class GroupAggregateOperator : IOperator
{
    private readonly GroupAggregateSpec _spec;
    private readonly Schema _outputSchema;
    private readonly GroupAggregateState _state;
    private readonly BatchPool _pool;
    private readonly int _batchSize;
    private readonly ColumnBatch _scratch;
    private int[] _ids = [];
    private int[] _adds = [];
    private int[] _retracts = [];
    private readonly List<int> _touched = [];
    private bool[] _isTouched = [];

    /// <summary>Creates the operator for rows of <paramref name="input"/>.</summary>
    public GroupAggregateOperator(Schema input, GroupAggregateSpec spec, BatchPool pool, int batchSize = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(pool);
        _spec = spec;
        _outputSchema = spec.OutputSchema(input);
        _state = new GroupAggregateState(input, spec);
        _pool = pool;
        _batchSize = batchSize;
        _scratch = new BatchPool(1).Rent(_outputSchema, 1);
    }

    /// <inheritdoc />
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        var n = batch.Count;
        if (_ids.Length < n)
        {
            _ids = new int[batch.Capacity];
            _adds = new int[batch.Capacity];
            _retracts = new int[batch.Capacity];
        }

        _state.Keys.Lookup(batch, _ids);
        _state.EnsureKeys(_state.Keys.Count);
        if (_isTouched.Length < _state.Keys.Count)
        {
            Array.Resize(ref _isTouched, _state.SlotByKey.Length);
        }

        for (var i = 0; i < n; i++)
        {
            var id = _ids[i];
            _adds[i] = -1;
            _retracts[i] = -1;
            if (id < 0)
            {
                continue;
            }

            var slot = _state.SlotByKey[id];
            if (slot < 0)
            {
                slot = _state.Slots.Allocate();
                _state.SlotByKey[id] = slot;
            }

            if (batch.KindOf(i) is RowKind.Insert or RowKind.UpdateAfter)
            {
                _adds[i] = slot;
                _state.RowsByKey[id]++;
            }
            else
            {
                _retracts[i] = slot;
                _state.RowsByKey[id]--;
            }

            if (!_isTouched[id])
            {
                _isTouched[id] = true;
                _touched.Add(id);
            }
        }

        _state.Slots.AddRows(batch, _adds, output, 1);
        if (batch.HasRowKinds)
        {
            _state.Slots.AddRows(batch, _retracts, output, -1);
        }

        batch.Dispose();
        EmitChanges(output);
    }

    private void EmitChanges(IOperatorOutput output)
    {
        ColumnBatch? result = null;
        var k = _spec.KeyColumns.Length;
        foreach (var id in _touched)
        {
            _isTouched[id] = false;
            var previous = _state.EmittedByKey[id];
            if (_state.RowsByKey[id] <= 0)
            {
                if (previous is not null)
                {
                    Append(ref result, previous, RowKind.Delete, output);
                    _state.EmittedByKey[id] = null;
                }

                _state.Slots.Release(_state.SlotByKey[id]);
                _state.SlotByKey[id] = -1;
                _state.RowsByKey[id] = 0;
                continue;
            }

            _scratch.Clear();
            _state.Keys.WriteKey(id, _scratch, 0);
            _state.Slots.Write(_state.SlotByKey[id], _scratch, k, 0);
            var current = new object?[_outputSchema.Count];
            for (var c = 0; c < current.Length; c++)
            {
                current[c] = _scratch.Columns[c].GetBoxed(0);
            }

            if (previous is null)
            {
                Append(ref result, current, RowKind.Insert, output);
            }
            else if (!previous.AsSpan().SequenceEqual(current))
            {
                Append(ref result, previous, RowKind.UpdateBefore, output);
                Append(ref result, current, RowKind.UpdateAfter, output);
            }

            _state.EmittedByKey[id] = current;
        }

        _touched.Clear();
        if (result is not null)
        {
            output.Emit(result);
        }
    }

    private void Append(ref ColumnBatch? result, object?[] values, RowKind kind, IOperatorOutput output)
    {
        if (result is null || result.IsFull)
        {
            if (result is not null)
            {
                output.Emit(result);
            }

            result = _pool.Rent(_outputSchema, _batchSize);
        }

        var row = result.Count;
        for (var c = 0; c < values.Length; c++)
        {
            result.Columns[c].SetBoxed(row, values[c]);
        }

        result.SetKind(row, kind);
        result.Count = row + 1;
    }
}
