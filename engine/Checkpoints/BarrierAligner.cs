namespace Streams.Engine.Checkpoints;

/// <summary>
/// Barrier alignment for an operator with several inputs: once barrier N arrived on one input, that input is blocked
/// (its later rows belong after the snapshot) until barrier N arrived on every input that has not ended. The runtime
/// buffers rows of blocked inputs (<see cref="IsBlocked"/>), snapshots the operator when <see cref="OnBarrier"/> or
/// <see cref="OnEndOfInput"/> returns the aligned barrier, forwards one barrier, and then replays what it buffered.
/// </summary>
public sealed class BarrierAligner
{
    private readonly bool[] _arrived;
    private readonly bool[] _ended;
    private long _pending = -1;
    private long _pendingTimestamp;

    /// <summary>Aligns <paramref name="inputs"/> inputs.</summary>
    public BarrierAligner(int inputs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        _arrived = new bool[inputs];
        _ended = new bool[inputs];
    }

    /// <summary>True when rows from <paramref name="input"/> must be held back until the current barrier is aligned.</summary>
    public bool IsBlocked(int input) => _arrived[input];

    /// <summary>The barrier being aligned, if any.</summary>
    public long PendingCheckpointId => _pending;

    /// <summary>Barrier <paramref name="barrier"/> arrived on <paramref name="input"/>; returns true with the barrier when every live input has it.</summary>
    public bool OnBarrier(int input, Operators.CheckpointBarrier barrier, out Operators.CheckpointBarrier aligned)
    {
        if (_pending < 0)
        {
            _pending = barrier.CheckpointId;
            _pendingTimestamp = barrier.TimestampMs;
        }
        else if (barrier.CheckpointId != _pending)
        {
            throw new InvalidOperationException(
                $"input {input} delivered barrier {barrier.CheckpointId} while barrier {_pending} is still being aligned: a blocked input was not held back");
        }

        if (!_arrived[input])
        {
            _arrived[input] = true;
        }

        return TryRelease(out aligned);
    }

    /// <summary>Input <paramref name="input"/> ended: it no longer holds a pending barrier back. Returns true when that completes an alignment.</summary>
    public bool OnEndOfInput(int input, out Operators.CheckpointBarrier aligned)
    {
        _ended[input] = true;
        return TryRelease(out aligned);
    }

    private bool TryRelease(out Operators.CheckpointBarrier aligned)
    {
        aligned = default;
        if (_pending < 0)
        {
            return false;
        }

        for (var i = 0; i < _arrived.Length; i++)
        {
            if (!_arrived[i] && !_ended[i])
            {
                return false;
            }
        }

        aligned = new Operators.CheckpointBarrier(_pending, _pendingTimestamp);
        _pending = -1;
        Array.Clear(_arrived);
        return true;
    }
}
