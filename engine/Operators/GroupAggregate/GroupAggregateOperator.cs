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
        _state = new GroupAggregateState(input, spec, _outputSchema);
        _pool = pool;
        _batchSize = batchSize;
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

            var kind = batch.KindOf(i);
            if (_spec.AppendOnlyInput && kind is not (RowKind.Insert or RowKind.UpdateAfter))
            {
                RejectRetraction(batch, i, kind, output);
                continue;
            }

            var slot = _state.SlotByKey[id];
            if (slot < 0)
            {
                slot = _state.Slots.Allocate();
                _state.SlotByKey[id] = slot;
            }

            if (kind is RowKind.Insert or RowKind.UpdateAfter)
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
        if (batch.HasRowKinds && !_spec.AppendOnlyInput)
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
        var emitted = _state.Emitted;
        foreach (var id in _touched)
        {
            _isTouched[id] = false;
            var previous = _state.EmittedByKey[id];
            if (_state.RowsByKey[id] <= 0)
            {
                if (previous >= 0)
                {
                    var deleted = Reserve(ref result, 1, output);
                    var row = deleted.Count;
                    _state.Keys.WriteKey(id, deleted, row);
                    emitted.CopyTo(previous, deleted, row, k);
                    deleted.SetKind(row, RowKind.Delete);
                    deleted.Count = row + 1;
                    emitted.Free(previous);
                    _state.EmittedByKey[id] = -1;
                }

                _state.Slots.Release(_state.SlotByKey[id]);
                _state.SlotByKey[id] = -1;
                _state.RowsByKey[id] = 0;
                continue;
            }

            // The current row goes after the room for a -U; it becomes the output only when it differs from the last one.
            var batch = Reserve(ref result, 2, output);
            var at = batch.Count;
            var current = previous < 0 ? at : at + 1;
            ClearNulls(batch, current);
            _state.Keys.WriteKey(id, batch, current);
            _state.Slots.Write(_state.SlotByKey[id], batch, k, current);
            if (previous < 0)
            {
                batch.SetKind(current, RowKind.Insert);
                batch.Count = current + 1;
                _state.EmittedByKey[id] = emitted.Add(batch, current);
            }
            else if (!emitted.RowEquals(previous, batch, current))
            {
                _state.Keys.WriteKey(id, batch, at);
                emitted.CopyTo(previous, batch, at, k);
                batch.SetKind(at, RowKind.UpdateBefore);
                batch.SetKind(current, RowKind.UpdateAfter);
                batch.Count = current + 1;
                emitted.Store(previous, batch, current);
            }
        }

        _touched.Clear();
        if (result is not null)
        {
            if (result.Count > 0)
            {
                output.Emit(result);
            }
            else
            {
                result.Dispose();
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void RejectRetraction(ColumnBatch batch, int row, RowKind kind, IOperatorOutput output) =>
        output.EmitError(batch, row, $"group aggregate: input must be append-only, got a {kind} row");

    /// <summary>The result batch with room for <paramref name="rows"/> more rows after its count, emitting a full one first.</summary>
    private ColumnBatch Reserve(ref ColumnBatch? result, int rows, IOperatorOutput output)
    {
        if (result is not null && result.Count + rows > result.Capacity)
        {
            output.Emit(result);
            result = null;
        }

        result ??= _pool.Rent(_outputSchema, Math.Max(_batchSize, rows));
        return result;
    }

    /// <summary>A row written and then dropped (unchanged group) may have left NULL bits behind.</summary>
    private static void ClearNulls(ColumnBatch batch, int row)
    {
        foreach (var column in batch.Columns)
        {
            column.SetNull(row, false);
        }
    }
}
