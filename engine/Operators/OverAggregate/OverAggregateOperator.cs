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
/// Held rows live in pooled batches of the input schema, referenced from a flat array of (time, key, arrival) entries
/// that is sorted when the watermark moves, so the steady state allocates nothing per row.
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

    // Held rows: entries point into _store batches; _storeRemaining counts each batch's rows not yet emitted.
    private PendingRow[] _pending = new PendingRow[1024];
    private int _pendingCount;
    private PendingRow[] _ready = new PendingRow[1024];
    private readonly List<ColumnBatch?> _store = [];
    private int[] _storeRemaining = new int[16];
    private readonly Stack<int> _freeSlots = new();
    private int _appendSlot = -1;
    private long _minPendingTs = long.MaxValue;
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
        _minPendingTs = long.MaxValue;
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
            EnsurePending(_pendingCount + take);
            var first = target.Count;
            for (var j = 0; j < take; j++)
            {
                var row = chunk[j];
                var t = ts[row];
                _pending[_pendingCount++] = new PendingRow(t, _arrivals++, _ids[row], _appendSlot, first + j);
                if (t < _minPendingTs)
                {
                    _minPendingTs = t;
                }
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
        if (_minPendingTs > limit)
        {
            return;
        }

        if (_ready.Length < _pendingCount)
        {
            _ready = new PendingRow[_pending.Length];
        }

        var ready = 0;
        var kept = 0;
        var min = long.MaxValue;
        for (var i = 0; i < _pendingCount; i++)
        {
            var p = _pending[i];
            if (p.Ts <= limit)
            {
                _ready[ready++] = p;
            }
            else
            {
                _pending[kept++] = p;
                min = Math.Min(min, p.Ts);
            }
        }

        _pendingCount = kept;
        _minPendingTs = min;
        var rows = _ready.AsSpan(0, ready);
        rows.Sort(PendingOrder);
        Emit(rows, output);
        foreach (var p in rows)
        {
            if (--_storeRemaining[p.Slot] == 0)
            {
                Release(p.Slot);
            }
        }
    }

    private void Emit(ReadOnlySpan<PendingRow> rows, IOperatorOutput output)
    {
        var inputColumns = _input.Count;
        ColumnBatch? outBatch = null;
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
                        output.Emit(outBatch);
                    }

                    outBatch = _pool.Rent(_outputSchema, _batchSize);
                }

                var source = _store[rows[i].Slot]!;
                var outRow = outBatch.Count;
                for (var c = 0; c < inputColumns; c++)
                {
                    source.Columns[c].CopyRowTo(rows[i].Row, outBatch.Columns[c], outRow);
                }

                partition.Write(outBatch, outRow, inputColumns);
                outBatch.Count = outRow + 1;
            }

            start = end;
        }

        if (outBatch is not null)
        {
            output.Emit(outBatch);
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

    /// <summary>Time, then partition (so peers are adjacent), then arrival; a cached delegate, so sorting allocates nothing.</summary>
    private static readonly Comparison<PendingRow> PendingOrder = static (x, y) =>
    {
        var c = x.Ts.CompareTo(y.Ts);
        if (c != 0)
        {
            return c;
        }

        c = x.Key.CompareTo(y.Key);
        return c != 0 ? c : x.Arrival.CompareTo(y.Arrival);
    };
}
