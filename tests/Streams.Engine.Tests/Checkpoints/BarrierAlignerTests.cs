using Streams.Engine.Checkpoints;
using Streams.Engine.Operators;

namespace Streams.Engine.Tests.Checkpoints;

public sealed class BarrierAlignerTests
{
    [Fact]
    public void Blocks_an_input_after_its_barrier_until_every_input_delivered_it()
    {
        var aligner = new BarrierAligner(3);

        Assert.False(aligner.OnBarrier(1, new CheckpointBarrier(5, 100), out _));
        Assert.True(aligner.IsBlocked(1));
        Assert.False(aligner.IsBlocked(0));
        Assert.False(aligner.OnBarrier(0, new CheckpointBarrier(5, 100), out _));
        Assert.True(aligner.OnBarrier(2, new CheckpointBarrier(5, 100), out var aligned));

        Assert.Equal(new CheckpointBarrier(5, 100), aligned);
        Assert.False(aligner.IsBlocked(0) || aligner.IsBlocked(1) || aligner.IsBlocked(2));
        Assert.Equal(-1, aligner.PendingCheckpointId);
    }

    [Fact]
    public void An_ended_input_no_longer_holds_barriers_back()
    {
        var aligner = new BarrierAligner(2);
        Assert.False(aligner.OnBarrier(0, new CheckpointBarrier(1, 0), out _));
        Assert.True(aligner.OnEndOfInput(1, out var aligned));
        Assert.Equal(1, aligned.CheckpointId);

        Assert.True(aligner.OnBarrier(0, new CheckpointBarrier(2, 0), out aligned));
        Assert.Equal(2, aligned.CheckpointId);
    }

    [Fact]
    public void A_barrier_overtaking_an_unaligned_one_is_reported()
    {
        var aligner = new BarrierAligner(2);
        aligner.OnBarrier(0, new CheckpointBarrier(1, 0), out _);
        var error = Assert.Throws<InvalidOperationException>(() => aligner.OnBarrier(0, new CheckpointBarrier(2, 0), out _));
        Assert.Contains("barrier 1 is still being aligned", error.Message, StringComparison.Ordinal);
    }
}
