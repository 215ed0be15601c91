using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Runtime;
using Streams.Engine.Runtime.Exchange;
using Streams.Engine.State;

namespace Streams.Engine.Operators.OverAggregate;

/// <summary>
/// Keyed OVER aggregate in event time (Flink's row-time OVER windows): rows are held until the watermark passes their
/// time, then, in time order per partition, each is emitted once followed by the aggregates over its frame. Rows of
/// equal time keep their arrival order; under RANGE they are peers and all see the frame that includes every one of
/// them. Rows at or below the watermark when they arrive are late and go to <see cref="LateTag"/>.
/// Held rows live in pooled batches of the input schema, referenced from a binary heap of (time, key, arrival) entries,
/// so a watermark pops exactly the rows it releases, in emission order, and the steady state allocates nothing per row.
/// </summary>
public sealed partial class OverAggregateOperator : IOperator, ICheckpointableOperator, IDisposable
{
    private readonly Schema _input;
    private readonly Schema _outputSchema;
    private readonly OverAggregateSpec _spec;
    private readonly BatchPool _pool;
    private readonly int _batchSize;
    private readonly GroupKeyTable _keys;
    private readonly List<OverPartition?> _partitions = [];
    private readonly bool _peersShareFrame;

    // Held rows: a binary min-heap of entries in emission order (time, partition, arrival) pointing into _store
    // batches; _storeRemaining counts each batch's rows not yet emitted.
    private PendingRow[] _pending = new PendingRow[1024];
    private int _pendingCount;
    private PendingRow[] _ready = new PendingRow[1024];
    private readonly List<ColumnBatch?> _store = [];
    private int[] _storeRemaining = new int[16];
    private readonly Stack<int> _freeSlots = new();
    private int _appendSlot = -1;
    private long _watermark = long.MinValue;
    private long _arrivals;

    private int[] _ids = [];
    private int[] _rows = [];
    private int[] _late = [];

    /// <summary>Creates the operator for rows of <paramref name="input"/>; output batches come from <paramref name="pool"/>.</summary>
    public OverAggregateOperator(Schema input, OverAggregateSpec spec, OutputTag lateTag, BatchPool pool, int batchSize = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate(input);
        _input = input;
        _spec = spec;
        _outputSchema = spec.OutputSchema(input);
        _pool = pool;
        _batchSize = batchSize;
        _keys = new GroupKeyTable(input, spec.PartitionKeys);
        _peersShareFrame = spec.Frame.Unit == OverFrameUnit.Range;
        LateTag = lateTag;
    }

    /// <summary>The side output late rows go to (input schema).</summary>
    public OutputTag LateTag { get; }

    /// <summary>The input columns followed by one column per aggregate.</summary>
    public Schema OutputSchema => _outputSchema;

    /// <inheritdoc />
    public void OnBatch(ColumnBatch batch, IOperatorOutput output)
    {
        var n = batch.Count;
        if (_ids.Length < n)
        {
            _ids = new int[batch.Capacity];
            _rows = new int[batch.Capacity];
            _late = new int[batch.Capacity];
        }

        _keys.Lookup(batch, _ids);
        var tsColumn = batch.ColumnAt<long>(_spec.TimeColumn);
        var ts = tsColumn.Values;
        var keep = 0;
        var late = 0;
        for (var i = 0; i < n; i++)
        {
            if (_ids[i] < 0)
            {
                continue;
            }

            if (batch.HasRowKinds && batch.KindOf(i) != RowKind.Insert)
            {
                // A retraction cannot be taken back from rows already emitted with their aggregates.
                output.EmitError(batch, i, "OVER aggregates take insert-only input; got a " + batch.KindOf(i) + " row");
                continue;
            }

            var t = ts[i];
            if (tsColumn.IsNull(i) || !EventTime.IsValid(t))
            {
                output.EmitError(batch, i, tsColumn.IsNull(i)
                    ? $"event time '{batch.Schema[_spec.TimeColumn].Name}' is NULL: the row has no place in the OVER order"
                    : $"event time {t} ms is outside years 0001-9999");
                continue;
            }

            if (t <= _watermark)
            {
                _late[late++] = i;
                continue;
            }

            _rows[keep++] = i;
        }

        Hold(batch, _rows.AsSpan(0, keep));
        if (late > 0)
        {
            var lateBatch = batch.Pool.Rent(batch.Schema, batch.Capacity);
            BatchGather.Append(batch, _late.AsSpan(0, late), lateBatch);
            output.EmitSide(LateTag, lateBatch);
        }

        batch.Dispose();
    }

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        if (watermark > _watermark)
        {
            _watermark = watermark;
            Fire(watermark, output);
        }

        output.EmitWatermark(watermark);
    }

    /// <inheritdoc />
    public void OnEndOfInput(IOperatorOutput output) => Fire(long.MaxValue, output);

    /// <summary>Returns the batches still holding rows to their pool (the job stopped before their watermark came).</summary>
    public void Dispose()
    {
        for (var slot = 0; slot < _store.Count; slot++)
        {
            if (_store[slot] is not null)
            {
                Release(slot);
            }
        }

        _pendingCount = 0;
    }

    /// <summary>Copies the kept rows into the held-row batches and records an entry per row.</summary>
    private void Hold(ColumnBatch batch, ReadOnlySpan<int> rows)
    {
        var ts = batch.ColumnAt<long>(_spec.TimeColumn).Values;
        while (rows.Length > 0)
        {
            var target = AppendTarget();
            var take = Math.Min(rows.Length, target.Capacity - target.Count);
            var chunk = rows[..take];
            var first = target.Count;
            for (var j = 0; j < take; j++)
            {
                var row = chunk[j];
                Push(new PendingRow(ts[row], _arrivals++, _ids[row], _appendSlot, first + j));
            }

            BatchGather.Append(batch, chunk, target);
            _storeRemaining[_appendSlot] += take;
            rows = rows[take..];
        }
    }

    private ColumnBatch AppendTarget()
    {
        if (_appendSlot >= 0 && _store[_appendSlot]!.Count < _store[_appendSlot]!.Capacity)
        {
            return _store[_appendSlot]!;
        }

        var batch = _pool.Rent(_input, _batchSize);
        if (_freeSlots.TryPop(out var slot))
        {
            _store[slot] = batch;
        }
        else
        {
            slot = _store.Count;
            _store.Add(batch);
            if (slot >= _storeRemaining.Length)
            {
                Array.Resize(ref _storeRemaining, _storeRemaining.Length * 2);
            }
        }

        _storeRemaining[slot] = 0;
        _appendSlot = slot;
        return batch;
    }

    private void Release(int slot)
    {
        _store[slot]!.Dispose();
        _store[slot] = null;
        _freeSlots.Push(slot);
        if (slot == _appendSlot)
        {
            _appendSlot = -1;
        }
    }

    private void EnsurePending(int count)
    {
        if (count > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(count, _pending.Length * 2));
        }
    }

    /// <summary>Emits, in time order, every held row at or below <paramref name="limit"/> with its aggregates.</summary>
    private void Fire(long limit, IOperatorOutput output)
    {
        if (_pendingCount == 0 || _pending[0].Ts > limit)
        {
            return;
        }

        if (_ready.Length < _pendingCount)
        {
            _ready = new PendingRow[_pending.Length];
        }

        var ready = 0;
        while (_pendingCount > 0 && _pending[0].Ts <= limit)
        {
            _ready[ready++] = Pop();
        }

        var rows = _ready.AsSpan(0, ready);
        Emit(rows, output);
        foreach (var p in rows)
        {
            if (--_storeRemaining[p.Slot] == 0)
            {
                Release(p.Slot);
            }
        }
    }

    private void Push(PendingRow row)
    {
        EnsurePending(_pendingCount + 1);
        var i = _pendingCount++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (Before(_pending[parent], row))
            {
                break;
            }

            _pending[i] = _pending[parent];
            i = parent;
        }

        _pending[i] = row;
    }

    private PendingRow Pop()
    {
        var top = _pending[0];
        var last = _pending[--_pendingCount];
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= _pendingCount)
            {
                break;
            }

            if (child + 1 < _pendingCount && Before(_pending[child + 1], _pending[child]))
            {
                child++;
            }

            if (Before(last, _pending[child]))
            {
                break;
            }

            _pending[i] = _pending[child];
            i = child;
        }

        if (_pendingCount > 0)
        {
            _pending[i] = last;
        }

        return top;
    }

    /// <summary>Emission order: time, then partition (so RANGE peers are adjacent), then arrival.</summary>
    private static bool Before(in PendingRow x, in PendingRow y) =>
        x.Ts != y.Ts ? x.Ts < y.Ts : x.Key != y.Key ? x.Key < y.Key : x.Arrival < y.Arrival;

    private void Emit(ReadOnlySpan<PendingRow> rows, IOperatorOutput output)
    {
        var inputColumns = _input.Count;
        ColumnBatch? outBatch = null;
        var first = 0;
        var start = 0;
        while (start < rows.Length)
        {
            // A group: one row (ROWS) or every peer of equal time in the partition (RANGE).
            var end = start + 1;
            if (_peersShareFrame)
            {
                while (end < rows.Length && rows[end].Ts == rows[start].Ts && rows[end].Key == rows[start].Key)
                {
                    end++;
                }
            }

            var partition = PartitionOf(rows[start].Key);
            for (var i = start; i < end; i++)
            {
                partition.Add(_store[rows[i].Slot]!, rows[i].Row, rows[i].Ts);
            }

            partition.Evict(rows[start].Ts);
            for (var i = start; i < end; i++)
            {
                if (outBatch is null || outBatch.IsFull)
                {
                    if (outBatch is not null)
                    {
                        Flush(outBatch, rows[first..i], output);
                    }

                    outBatch = _pool.Rent(_outputSchema, _batchSize);
                    first = i;
                }

                partition.Write(outBatch, outBatch.Count, inputColumns);
                outBatch.Count++;
            }

            start = end;
        }

        if (outBatch is not null)
        {
            Flush(outBatch, rows[first..], output);
        }
    }

    /// <summary>Copies the input columns of <paramref name="rows"/> (the output rows, in order) a column at a time, then emits.</summary>
    private void Flush(ColumnBatch outBatch, ReadOnlySpan<PendingRow> rows, IOperatorOutput output)
    {
        for (var c = 0; c < _input.Count; c++)
        {
            switch (outBatch.Columns[c])
            {
                case Column<long> t: Gather(t, rows, c); break;
                case Column<int> t: Gather(t, rows, c); break;
                case Column<double> t: Gather(t, rows, c); break;
                case Column<bool> t: Gather(t, rows, c); break;
                case Column<decimal> t: Gather(t, rows, c); break;
                case Column<string?> t: Gather(t, rows, c); break;
                default: throw new NotSupportedException("cannot copy a column of " + outBatch.Columns[c].Type);
            }
        }

        output.Emit(outBatch);
    }

    private void Gather<T>(Column<T> target, ReadOnlySpan<PendingRow> rows, int column)
    {
        var values = target.Values;
        var slot = -1;
        Column<T> source = null!;
        for (var i = 0; i < rows.Length; i++)
        {
            // Consecutive rows mostly come from the same held batch: look its column up once per run.
            if (rows[i].Slot != slot)
            {
                slot = rows[i].Slot;
                source = (Column<T>)_store[slot]!.Columns[column];
            }

            var row = rows[i].Row;
            values[i] = source.Values[row];
            if (source.IsNull(row))
            {
                target.SetNull(i);
            }
        }
    }

    private OverPartition PartitionOf(int key)
    {
        while (_partitions.Count <= key)
        {
            _partitions.Add(null);
        }

        return _partitions[key] ??= new OverPartition(_spec, _input);
    }

    /// <summary>A held row: its time, arrival number and partition, and where its values are.</summary>
    private readonly record struct PendingRow(long Ts, long Arrival, int Key, int Slot, int Row);
}
