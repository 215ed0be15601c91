using System.Runtime.CompilerServices;
using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;
using Streams.Engine.State;

namespace Streams.Engine.Operators.LookupJoin;

/// <summary>
/// Event-time temporal join (Flink's <c>JOIN table FOR SYSTEM_TIME AS OF stream.ts</c> on a versioned table): each stream row
/// joins the table row that was valid at the stream row's event time — the version of its key with the greatest version time
/// at or before it, unless that version is a delete. Results do not depend on how the two inputs interleave: a stream row
/// waits until the watermark reaches its time, so every version up to then has arrived.
/// <para>
/// Output schema: all stream columns, then all table columns (<see cref="JoinSchemas.Concat"/>); event time = the stream's
/// event-time column; append-only (+I), emitted when the watermark reaches the stream row's time. LEFT pads stream rows that
/// find no valid version. NULL keys never match. Table input: +I/+U start a new version at the row's time, -D ends the key's
/// validity at its time, -U is ignored (its +U follows). State keeps waiting stream rows and, per key, the newest version at
/// or before the watermark plus any newer ones; older versions are dropped. Stream rows at or behind the watermark are
/// joined at once against the versions held; stream retractions go to the error output.
/// </para>
/// </summary>
public sealed class TemporalJoinOperator : ITwoInputOperator, ICheckpointableOperator
{
    private readonly Schema _stream;
    private readonly Schema _table;
    private readonly int[] _streamKeys;
    private readonly int[] _tableKeys;
    private readonly int _streamTime;
    private readonly int _tableTime;
    private readonly JoinType _type;
    private readonly JoinKeyHasher _streamHasher;
    private readonly JoinKeyHasher _tableHasher;
    private readonly JoinOutputBuilder _out;
    private TemporalJoinState _state;

    /// <summary>Creates an event-time temporal join.</summary>
    /// <param name="stream">Schema of the left (stream) input.</param>
    /// <param name="table">Schema of the right (versioned table changelog) input.</param>
    /// <param name="streamKeys">Key column indexes in the stream schema.</param>
    /// <param name="tableKeys">The table's primary-key column indexes, pairwise equal-typed with <paramref name="streamKeys"/>.</param>
    /// <param name="type">Inner or Left.</param>
    /// <param name="streamTimeColumn">The stream's event-time column; -1 = the schema's.</param>
    /// <param name="tableTimeColumn">The table's version-time column; -1 = the schema's event-time column.</param>
    /// <param name="outputBatchCapacity">Rows per output batch.</param>
    public TemporalJoinOperator(Schema stream, Schema table, int[] streamKeys, int[] tableKeys, JoinType type = JoinType.Inner,
        int streamTimeColumn = -1, int tableTimeColumn = -1, int outputBatchCapacity = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(table);
        JoinSchemas.CheckKeys(stream, table, streamKeys, tableKeys);
        _stream = stream;
        _table = table;
        _streamKeys = (int[])streamKeys.Clone();
        _tableKeys = (int[])tableKeys.Clone();
        _streamTime = JoinSchemas.TimeColumn(stream, streamTimeColumn, "stream (left)");
        _tableTime = JoinSchemas.TimeColumn(table, tableTimeColumn, "versioned table (right)");
        _type = type;
        OutputSchema = JoinSchemas.Concat(stream, table, type, _streamTime);
        _streamHasher = new JoinKeyHasher(_streamKeys);
        _tableHasher = new JoinKeyHasher(_tableKeys);
        _out = new JoinOutputBuilder(OutputSchema, stream.Count, table.Count, outputBatchCapacity);
        _state = new TemporalJoinState(stream, table, _streamKeys);
    }

    /// <summary>Stream columns then table columns; event time = the stream's event-time column.</summary>
    public Schema OutputSchema { get; }

    /// <summary>Waiting stream rows plus held table versions (state-size metric).</summary>
    public int StateRowCount => _state.RowCount;

    /// <summary>Table versions held.</summary>
    public int VersionCount => _state.Versions.Count;

    /// <inheritdoc />
    public void OnBatch(JoinSide side, ColumnBatch batch, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        _out.Bind(output, batch.Pool);
        try
        {
            if (side == JoinSide.Left)
            {
                OnStream(batch, output);
            }
            else
            {
                OnTable(batch, output);
            }

            _out.Flush();
        }
        finally
        {
            batch.Dispose();
        }
    }

    private void OnStream(ColumnBatch batch, IOperatorOutput output)
    {
        _streamHasher.Hash(batch);
        var times = batch.ColumnAt<long>(_streamTime);
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            var kind = batch.KindOf(i);
            if (kind is not (RowKind.Insert or RowKind.UpdateAfter) || times.IsNull(i))
            {
                output.EmitError(batch, i, times.IsNull(i) && kind is RowKind.Insert or RowKind.UpdateAfter
                    ? "temporal join: the stream's event-time column is NULL"
                    : $"temporal join: the stream input must be append-only, got a {kind} row");
                continue;
            }

            var ts = times.Values[i];
            var nullKey = _streamHasher.NullKey[i];
            if (ts > _state.Watermark && !nullKey)
            {
                var keyId = _state.Keys.FindOrAdd(batch, _streamKeys, i, _streamHasher.Hashes[i]);
                var slot = _state.Stream.Add(batch, i, keyId);
                _state.Pending.Push(ts, slot);
                continue;
            }

            // Behind the watermark (or a NULL key): every version it can see is here already.
            var version = nullKey ? -1 : FindVersion(_state.Keys.Find(batch, _streamKeys, i, _streamHasher.Hashes[i]), ts);
            if (version >= 0 || _type == JoinType.Left)
            {
                _out.LeftFrom(batch, i);
                if (version >= 0)
                {
                    _out.RightFrom(_state.Versions.Rows, version);
                }
                else
                {
                    _out.RightNull();
                }

                _out.EndRow();
            }
        }
    }

    private void OnTable(ColumnBatch batch, IOperatorOutput output)
    {
        _tableHasher.Hash(batch);
        var times = batch.ColumnAt<long>(_tableTime);
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            var kind = batch.KindOf(i);
            if (kind == RowKind.UpdateBefore)
            {
                continue;
            }

            if (_tableHasher.NullKey[i] || times.IsNull(i))
            {
                output.EmitError(batch, i, _tableHasher.NullKey[i]
                    ? "temporal join: versioned table row has a NULL primary key"
                    : "temporal join: versioned table row has a NULL version time");
                continue;
            }

            var keyId = _state.Keys.FindOrAdd(batch, _tableKeys, i, _tableHasher.Hashes[i]);
            var slot = _state.Versions.Add(batch, i, keyId);
            _state.Tombstone[slot] = kind == RowKind.Delete;
            Prune(keyId);
        }
    }

    /// <summary>The version of <paramref name="keyId"/> valid at <paramref name="ts"/>, or -1 (none, or deleted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindVersion(int keyId, long ts)
    {
        if (keyId < 0)
        {
            return -1;
        }

        var versions = _state.Versions;
        var vts = versions.Rows.ValuesOf<long>(_tableTime);
        var best = -1;
        var bestTs = long.MinValue;
        for (var v = versions.First(keyId); v >= 0; v = versions.Next(v))
        {
            // Ties keep the later arrival, as a changelog applies in order.
            var t = vts[v];
            if (t <= ts && t >= bestTs)
            {
                best = v;
                bestTs = t;
            }
        }

        return best >= 0 && _state.Tombstone[best] ? -1 : best;
    }

    /// <summary>Drops versions of <paramref name="keyId"/> that no waiting or future stream row can see: all but the newest at or before the earliest such row.</summary>
    private void Prune(int keyId)
    {
        var versions = _state.Versions;
        // No stream row, waiting or future, is earlier than this; rows still being fired may be behind the watermark.
        var watermark = _state.Pending.Count > 0 ? Math.Min(_state.Watermark, _state.Pending.MinTime) : _state.Watermark;
        var vts = versions.Rows.ValuesOf<long>(_tableTime);
        var keep = -1;
        var keepTs = long.MinValue;
        var stale = 0;
        for (var v = versions.First(keyId); v >= 0; v = versions.Next(v))
        {
            var t = vts[v];
            if (t <= watermark)
            {
                stale++;
                if (t >= keepTs)
                {
                    keep = v;
                    keepTs = t;
                }
            }
        }

        if (stale == 0 || (stale == 1 && !_state.Tombstone[keep]))
        {
            return;
        }

        // Keep the newest version at or before the watermark: rows after the watermark may need it. A delete there reads the
        // same as no version at all, so it goes too.
        for (var v = versions.First(keyId); v >= 0;)
        {
            var next = versions.Next(v);
            if (vts[v] <= watermark && (v != keep || _state.Tombstone[v]))
            {
                versions.Remove(v);
            }

            v = next;
        }
    }

    /// <inheritdoc />
    public void OnWatermark(long watermark, IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (watermark <= _state.Watermark)
        {
            return;
        }

        _out.Bind(output, null);
        Fire(watermark);
        _out.Flush();
        output.EmitWatermark(watermark);
    }

    /// <inheritdoc />
    public void OnEndOfInput(IOperatorOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _out.Bind(output, null);
        Fire(long.MaxValue);
        _out.Flush();
    }

    private void Fire(long watermark)
    {
        _state.Watermark = watermark;
        var pending = _state.Pending;
        var stream = _state.Stream;
        var times = stream.Rows.ValuesOf<long>(_streamTime);
        while (pending.Count > 0 && pending.MinTime <= watermark)
        {
            var slot = pending.MinSlot;
            pending.Pop();
            var keyId = stream.KeyOf(slot);
            var version = FindVersion(keyId, times[slot]);
            if (version >= 0 || _type == JoinType.Left)
            {
                _out.LeftFrom(stream.Rows, slot);
                if (version >= 0)
                {
                    _out.RightFrom(_state.Versions.Rows, version);
                }
                else
                {
                    _out.RightNull();
                }

                _out.EndRow();
            }

            // Copy the joined row out before its slots may be freed; the key stays while the row is held, so prune first.
            _out.Settle();
            Prune(keyId);
            stream.Remove(slot);
        }

        if (watermark == long.MaxValue)
        {
            // Input ended: no stream row can come to see a version again.
            _state = new TemporalJoinState(_stream, _table, _streamKeys) { Watermark = long.MaxValue };
        }
    }

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SnapshotHeader.Write(writer, "temporal-join/1", _stream, _table);
        writer.WriteInt64(_state.Watermark);
        JoinStateSnapshot.WriteRows(writer, _state.Stream.Rows, JoinStateSnapshot.LiveSlots(_state.Stream, _state.Keys.IdCapacity));
        var versions = JoinStateSnapshot.LiveSlots(_state.Versions, _state.Keys.IdCapacity);
        JoinStateSnapshot.WriteRows(writer, _state.Versions.Rows, versions);
        writer.WriteValues<bool>(JoinStateSnapshot.PerSlot(_state.Tombstone, versions));
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        SnapshotHeader.Read(reader, "temporal-join/1", _stream, _table);
        var state = new TemporalJoinState(_stream, _table, _streamKeys) { Watermark = reader.ReadInt64() };
        using (var rows = JoinStateSnapshot.ReadRows(reader, _stream, BatchPool.Shared))
        {
            _streamHasher.Hash(rows);
            var times = rows.ColumnAt<long>(_streamTime).Values;
            for (var i = 0; i < rows.Count; i++)
            {
                var slot = state.Stream.Add(rows, i, state.Keys.FindOrAdd(rows, _streamKeys, i, _streamHasher.Hashes[i]));
                state.Pending.Push(times[i], slot);
            }
        }

        using (var rows = JoinStateSnapshot.ReadRows(reader, _table, BatchPool.Shared))
        {
            var tombstones = reader.ReadValues<bool>();
            _tableHasher.Hash(rows);
            for (var i = 0; i < rows.Count; i++)
            {
                var slot = state.Versions.Add(rows, i, state.Keys.FindOrAdd(rows, _tableKeys, i, _tableHasher.Hashes[i]));
                state.Tombstone[slot] = tombstones[i];
            }
        }

        _state = state;
    }
}
