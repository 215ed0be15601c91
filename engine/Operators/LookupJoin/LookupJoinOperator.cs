using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;
using Streams.Engine.State;

namespace Streams.Engine.Operators.LookupJoin;

/// <summary>
/// Stream-to-table join (ksqlDB stream-table join, Flink lookup join): the right input is a table given as a changelog or upsert
/// stream keyed by its primary key, of which only the latest row per key is kept; each left (stream) row is joined with the
/// table row its key maps to at the moment it arrives. Later table changes do not revise earlier output.
/// <para>
/// Output schema: all left columns, then all right columns (<see cref="JoinSchemas.Concat"/>); event time = the left
/// event-time column. Each output row carries the kind of its left row (+I for an append-only stream). LEFT emits an unmatched
/// stream row padded with NULLs; NULL keys never match. Table rows: +I/+U insert or replace the row of their key, -U/-D delete it
/// (a -U followed by +U is an update); a table row with a NULL key goes to the error output. Watermarks pass through.
/// The order of the two inputs decides which version a stream row sees: feed the table's initial contents first.
/// </para>
/// </summary>
public sealed class LookupJoinOperator : ITwoInputOperator, ICheckpointableOperator
{
    private readonly int[] _streamKeys;
    private readonly int[] _tableKeys;
    private readonly JoinType _type;
    private readonly JoinKeyHasher _streamHasher;
    private readonly JoinKeyHasher _tableHasher;
    private readonly JoinOutputBuilder _out;
    private readonly Schema _stream;
    private readonly Schema _table;
    private LookupJoinState _state;

    /// <summary>Creates a stream-to-table join.</summary>
    /// <param name="stream">Schema of the left (stream) input.</param>
    /// <param name="table">Schema of the right (table changelog) input.</param>
    /// <param name="streamKeys">Key column indexes in the stream schema.</param>
    /// <param name="tableKeys">The table's primary-key column indexes, pairwise equal-typed with <paramref name="streamKeys"/>.</param>
    /// <param name="type">Inner or Left.</param>
    /// <param name="outputBatchCapacity">Rows per output batch.</param>
    public LookupJoinOperator(Schema stream, Schema table, int[] streamKeys, int[] tableKeys, JoinType type = JoinType.Inner,
        int outputBatchCapacity = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(table);
        JoinSchemas.CheckKeys(stream, table, streamKeys, tableKeys);
        _streamKeys = (int[])streamKeys.Clone();
        _tableKeys = (int[])tableKeys.Clone();
        _type = type;
        _stream = stream;
        _table = table;
        OutputSchema = JoinSchemas.Concat(stream, table, type, stream.EventTimeIndex);
        _streamHasher = new JoinKeyHasher(_streamKeys);
        _tableHasher = new JoinKeyHasher(_tableKeys);
        _out = new JoinOutputBuilder(OutputSchema, stream.Count, table.Count, outputBatchCapacity);
        _state = new LookupJoinState(table, _tableKeys);
    }

    /// <summary>Stream columns then table columns; event time = the stream's event-time column.</summary>
    public Schema OutputSchema { get; }

    /// <summary>Rows in the table state (state-size metric).</summary>
    public int StateRowCount => _state.RowCount;

    internal LookupJoinState State => _state;

    /// <inheritdoc />
    public void OnBatch(JoinSide side, ColumnBatch batch, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        try
        {
            if (side == JoinSide.Left)
            {
                _out.Bind(output, batch.Pool);
                OnStream(batch);
                _out.Flush();
            }
            else
            {
                OnTable(batch, output);
            }
        }
        finally
        {
            batch.Dispose();
        }
    }

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SnapshotHeader.Write(writer, "lookup-join/1", _stream, _table);
        var slots = new List<int>(_state.RowCount);
        for (var k = 0; k < _state.Keys.IdCapacity; k++)
        {
            if (_state.Keys.RefCount(k) > 0)
            {
                slots.Add(_state.SlotOf[k]);
            }
        }

        JoinStateSnapshot.WriteRows(writer, _state.Rows, [.. slots]);
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        SnapshotHeader.Read(reader, "lookup-join/1", _stream, _table);
        var state = new LookupJoinState(_table, _tableKeys);
        using (var rows = JoinStateSnapshot.ReadRows(reader, _table, BatchPool.Shared))
        {
            _tableHasher.Hash(rows);
            for (var i = 0; i < rows.Count; i++)
            {
                var keyId = state.Keys.FindOrAdd(rows, _tableKeys, i, _tableHasher.Hashes[i]);
                state.Keys.AddRef(keyId);
                state.SlotOf[keyId] = state.Rows.Add(rows, i);
            }
        }

        _state = state;
    }

    private void OnStream(ColumnBatch batch)
    {
        _streamHasher.Hash(batch);
        var hashes = _streamHasher.Hashes;
        var nullKey = _streamHasher.NullKey;
        var keys = _state.Keys;
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            var keyId = nullKey[i] ? -1 : keys.Find(batch, _streamKeys, i, hashes[i]);
            if (keyId >= 0)
            {
                _out.LeftFrom(batch, i);
                _out.RightFrom(_state.Rows, _state.SlotOf[keyId]);
                _out.EndRow(batch.KindOf(i));
            }
            else if (_type == JoinType.Left)
            {
                _out.LeftFrom(batch, i);
                _out.RightNull();
                _out.EndRow(batch.KindOf(i));
            }
        }
    }

    private void OnTable(ColumnBatch batch, IOperatorOutput output)
    {
        _tableHasher.Hash(batch);
        var hashes = _tableHasher.Hashes;
        var nullKey = _tableHasher.NullKey;
        var keys = _state.Keys;
        var rows = _state.Rows;
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            if (nullKey[i])
            {
                output.EmitError(batch, i, "stream-table join: table row has a NULL primary key");
                continue;
            }

            if (batch.KindOf(i) is RowKind.Insert or RowKind.UpdateAfter)
            {
                var keyId = keys.FindOrAdd(batch, _tableKeys, i, hashes[i]);
                if (keys.RefCount(keyId) > 0)
                {
                    rows.Free(_state.SlotOf[keyId]);
                }
                else
                {
                    keys.AddRef(keyId);
                }

                _state.SlotOf[keyId] = rows.Add(batch, i);
            }
            else
            {
                var keyId = keys.Find(batch, _tableKeys, i, hashes[i]);
                if (keyId >= 0)
                {
                    rows.Free(_state.SlotOf[keyId]);
                    keys.Release(keyId);
                }
            }
        }
    }
}
