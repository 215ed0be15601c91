using System.Runtime.CompilerServices;
using Streams.Engine.Data;
using Streams.Engine.Operators.Joins;
using Streams.Engine.State;

namespace Streams.Engine.Operators.EquiJoin;

/// <summary>
/// Regular (unbounded) equi-join, inner or LEFT, over inputs that may be changelogs. Every live row of both sides is kept,
/// so a row on either side joins with everything that arrived before it on the other side, whatever the time.
/// <para>
/// Output schema: all left columns, then all right columns (<see cref="JoinSchemas.Concat"/>); no event-time column.
/// Output is a changelog using +I and -D, as Flink's streaming join does:
/// an accumulating input row (+I or +U) emits +I for each new pair; a retracting row (-U or -D) removes one stored row equal in
/// every column and emits -D for each pair it was part of. For a LEFT join, a left row without partners is emitted padded with
/// NULLs (+I); when its first partner arrives the padded row is retracted (-D) before the pair is added (+I), and when its last
/// partner is retracted the padded row comes back. Applying the changelog in order yields exactly the SQL join of the current
/// inputs. NULL keys never match; a retraction of a row that is not in the state goes to the error output.
/// Watermarks pass through unchanged.
/// </para>
/// </summary>
public sealed class EquiJoinOperator : ITwoInputOperator, ICheckpointableOperator
{
    private readonly int[] _leftKeys;
    private readonly int[] _rightKeys;
    private readonly JoinType _type;
    private readonly JoinKeyHasher _leftHasher;
    private readonly JoinKeyHasher _rightHasher;
    private readonly JoinOutputBuilder _out;
    private readonly Schema _left;
    private readonly Schema _right;
    private EquiJoinState _state;

    /// <summary>Creates a regular equi-join.</summary>
    /// <param name="left">Schema of the left (first) input.</param>
    /// <param name="right">Schema of the right (second) input.</param>
    /// <param name="leftKeys">Key column indexes in the left schema.</param>
    /// <param name="rightKeys">Key column indexes in the right schema, pairwise equal-typed with <paramref name="leftKeys"/>.</param>
    /// <param name="type">Inner or Left.</param>
    /// <param name="outputBatchCapacity">Rows per output batch.</param>
    public EquiJoinOperator(Schema left, Schema right, int[] leftKeys, int[] rightKeys, JoinType type = JoinType.Inner,
        int outputBatchCapacity = BatchPool.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        JoinSchemas.CheckKeys(left, right, leftKeys, rightKeys);
        _leftKeys = (int[])leftKeys.Clone();
        _rightKeys = (int[])rightKeys.Clone();
        _type = type;
        _left = left;
        _right = right;
        OutputSchema = JoinSchemas.Concat(left, right, type, -1);
        _leftHasher = new JoinKeyHasher(_leftKeys);
        _rightHasher = new JoinKeyHasher(_rightKeys);
        _out = new JoinOutputBuilder(OutputSchema, left.Count, right.Count, outputBatchCapacity);
        _state = new EquiJoinState(left, right, _leftKeys);
    }

    /// <summary>Left columns then right columns; no event-time column.</summary>
    public Schema OutputSchema { get; }

    /// <summary>Rows currently held in state on both sides (state-size metric).</summary>
    public int StateRowCount => _state.RowCount;

    /// <summary>Distinct keys currently held in state.</summary>
    public int StateKeyCount => _state.Keys.Count;

    /// <summary>Retractions that found no equal row in the state (sent to the error output).</summary>
    public long UnmatchedRetractions { get; private set; }

    internal EquiJoinState State => _state;

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
                OnLeft(batch, output);
            }
            else
            {
                OnRight(batch, output);
            }

            _out.Flush();
        }
        finally
        {
            batch.Dispose();
        }
    }

    private void OnLeft(ColumnBatch batch, IOperatorOutput output)
    {
        _leftHasher.Hash(batch);
        var hashes = _leftHasher.Hashes;
        var nullKey = _leftHasher.NullKey;
        var keys = _state.Keys;
        var left = _state.Left;
        var right = _state.Right;
        var outer = _type == JoinType.Left;
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            var accumulate = IsAccumulate(batch.KindOf(i));
            if (nullKey[i])
            {
                // A NULL key joins nothing, so it needs no state: a LEFT join passes it through padded.
                if (outer)
                {
                    EmitLeftPadded(batch, i, accumulate ? RowKind.Insert : RowKind.Delete);
                }

                continue;
            }

            if (accumulate)
            {
                var keyId = keys.FindOrAdd(batch, _leftKeys, i, hashes[i]);
                var count = 0;
                for (var r = right.First(keyId); r >= 0; r = right.Next(r))
                {
                    _out.LeftFrom(batch, i);
                    _out.RightFrom(right.Rows, r);
                    _out.EndRow(RowKind.Insert);
                    count++;
                }

                if (outer && count == 0)
                {
                    EmitLeftPadded(batch, i, RowKind.Insert);
                }

                var slot = left.Add(batch, i, keyId);
                _state.Matches[slot] = count;
            }
            else
            {
                var keyId = keys.Find(batch, _leftKeys, i, hashes[i]);
                var slot = keyId < 0 ? -1 : FindEqual(left, keyId, batch, i);
                if (slot < 0)
                {
                    UnmatchedRetraction(batch, i, output);
                    continue;
                }

                var count = 0;
                for (var r = right.First(keyId); r >= 0; r = right.Next(r))
                {
                    _out.LeftFrom(batch, i);
                    _out.RightFrom(right.Rows, r);
                    _out.EndRow(RowKind.Delete);
                    count++;
                }

                if (outer && count == 0)
                {
                    EmitLeftPadded(batch, i, RowKind.Delete);
                }

                left.Remove(slot);
            }
        }
    }

    private void OnRight(ColumnBatch batch, IOperatorOutput output)
    {
        _rightHasher.Hash(batch);
        var hashes = _rightHasher.Hashes;
        var nullKey = _rightHasher.NullKey;
        var keys = _state.Keys;
        var left = _state.Left;
        var right = _state.Right;
        var outer = _type == JoinType.Left;
        var n = batch.Count;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i) || nullKey[i])
            {
                // A right row with a NULL key matches nothing and is not part of a LEFT join's result.
                continue;
            }

            var matches = _state.Matches;
            if (IsAccumulate(batch.KindOf(i)))
            {
                var keyId = keys.FindOrAdd(batch, _rightKeys, i, hashes[i]);
                for (var l = left.First(keyId); l >= 0; l = left.Next(l))
                {
                    if (outer && matches[l]++ == 0)
                    {
                        _out.LeftFrom(left.Rows, l);
                        _out.RightNull();
                        _out.EndRow(RowKind.Delete);
                    }

                    _out.LeftFrom(left.Rows, l);
                    _out.RightFrom(batch, i);
                    _out.EndRow(RowKind.Insert);
                }

                right.Add(batch, i, keyId);
            }
            else
            {
                var keyId = keys.Find(batch, _rightKeys, i, hashes[i]);
                var slot = keyId < 0 ? -1 : FindEqual(right, keyId, batch, i);
                if (slot < 0)
                {
                    UnmatchedRetraction(batch, i, output);
                    continue;
                }

                for (var l = left.First(keyId); l >= 0; l = left.Next(l))
                {
                    _out.LeftFrom(left.Rows, l);
                    _out.RightFrom(batch, i);
                    _out.EndRow(RowKind.Delete);
                    if (outer && --matches[l] == 0)
                    {
                        _out.LeftFrom(left.Rows, l);
                        _out.RightNull();
                        _out.EndRow(RowKind.Insert);
                    }
                }

                right.Remove(slot);
            }
        }
    }

    /// <inheritdoc />
    public void Snapshot(IStateSnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SnapshotHeader.Write(writer, "equi-join/1", _left, _right);
        var left = JoinStateSnapshot.LiveSlots(_state.Left, _state.Keys.IdCapacity);
        JoinStateSnapshot.WriteRows(writer, _state.Left.Rows, left);
        writer.WriteValues<int>(JoinStateSnapshot.PerSlot(_state.Matches, left));
        JoinStateSnapshot.WriteRows(writer, _state.Right.Rows, JoinStateSnapshot.LiveSlots(_state.Right, _state.Keys.IdCapacity));
        writer.WriteInt64(UnmatchedRetractions);
    }

    /// <inheritdoc />
    public void Restore(IStateSnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        SnapshotHeader.Read(reader, "equi-join/1", _left, _right);
        var state = new EquiJoinState(_left, _right, _leftKeys);
        using (var left = JoinStateSnapshot.ReadRows(reader, _left, BatchPool.Shared))
        {
            var matches = reader.ReadValues<int>();
            _leftHasher.Hash(left);
            for (var i = 0; i < left.Count; i++)
            {
                var slot = state.Left.Add(left, i, state.Keys.FindOrAdd(left, _leftKeys, i, _leftHasher.Hashes[i]));
                state.Matches[slot] = matches[i];
            }
        }

        using (var right = JoinStateSnapshot.ReadRows(reader, _right, BatchPool.Shared))
        {
            _rightHasher.Hash(right);
            for (var i = 0; i < right.Count; i++)
            {
                state.Right.Add(right, i, state.Keys.FindOrAdd(right, _rightKeys, i, _rightHasher.Hashes[i]));
            }
        }

        UnmatchedRetractions = reader.ReadInt64();
        _state = state;
    }

    private void EmitLeftPadded(ColumnBatch batch, int row, RowKind kind)
    {
        _out.LeftFrom(batch, row);
        _out.RightNull();
        _out.EndRow(kind);
    }

    private static int FindEqual(KeyedRowStore store, int keyId, ColumnBatch batch, int row)
    {
        for (var s = store.First(keyId); s >= 0; s = store.Next(s))
        {
            if (store.Rows.RowEquals(s, batch, row))
            {
                return s;
            }
        }

        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsAccumulate(RowKind kind) => kind is RowKind.Insert or RowKind.UpdateAfter;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void UnmatchedRetraction(ColumnBatch batch, int row, IOperatorOutput output)
    {
        UnmatchedRetractions++;
        output.EmitError(batch, row, $"join: {batch.KindOf(row)} retracts a row that is not in the join state");
    }
}
