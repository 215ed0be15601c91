using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Engine.Operators;
using Streams.Engine.Runtime.Graph;

namespace Streams.Engine.Runtime.Execution;

/// <summary>
/// One parallel instance of a graph node. Its head is a source partition or an input channel (feeding a two-input
/// operator or the chain); the chain's operators call each other directly. What the chain emits is queued and then
/// written to the downstream channels, waiting when they are full: that wait is the backpressure.
/// </summary>
internal sealed class StreamTask
{
    private readonly Job _job;
    private readonly GraphNode _node;
    private readonly int _index;
    private readonly OperatorMetrics[] _metrics;
    private readonly OperatorMetrics _headMetrics;
    private readonly OperatorMetrics? _firstOpMetrics;
    private readonly IOperator[] _ops;
    private readonly ChainOutput[] _outs;
    private readonly ITwoInputOperator? _twoInput;
    private readonly ChainOutput? _twoInputOut;
    private readonly List<(ChannelWriter<StreamElement> Writer, StreamElement Element)> _pending = [];

    internal List<(ChannelWriter<StreamElement>, StreamElement)> PendingQueue => _pending;
    private readonly EdgeSender[][] _ports;
    private readonly Channel<StreamElement>? _input;
    private readonly JoinSide[] _senderSide;
    private readonly ConcurrentQueue<CheckpointBarrier> _injectedBarriers = new();
    private readonly ICheckpointHooks? _checkpoints;
    private readonly long _startOffset;
    private long _lastWatermarkOut = long.MinValue;
    private bool _idleOut;

    // metrics: the source or two-input head first (when there is one), then one per chained operator.
    public StreamTask(Job job, GraphNode node, int index, OperatorMetrics[] metrics, Channel<StreamElement>? input, JoinSide[] senderSide)
    {
        _job = job;
        _node = node;
        _index = index;
        _metrics = metrics;
        _headMetrics = metrics[0];
        var firstOp = node.Source is not null || node.TwoInput is not null ? 1 : 0;
        _firstOpMetrics = node.Chain.Count > 0 ? metrics[firstOp] : null;
        _input = input;
        _senderSide = senderSide;
        _ops = new IOperator[node.Chain.Count];
        _outs = new ChainOutput[node.Chain.Count];
        for (var k = 0; k < _ops.Length; k++)
        {
            _ops[k] = node.Chain[k].Factory(index);
            _ops[k] = job.Options.Checkpoints?.WrapOperator(node.StateName, node.Chain[k].Name, index, _ops[k]) ?? _ops[k];
        }

        for (var k = _ops.Length - 1; k >= 0; k--)
        {
            _outs[k] = new ChainOutput(this, k + 1 < _ops.Length ? _ops[k + 1] : null, k + 1 < _ops.Length ? _outs[k + 1] : null,
                metrics[firstOp + k], k + 1 < _ops.Length ? metrics[firstOp + k + 1] : null);
        }

        if (node.TwoInput is not null)
        {
            _twoInput = node.TwoInput(index);
            _twoInput = job.Options.Checkpoints?.WrapTwoInput(node.StateName, index, _twoInput) ?? _twoInput;
            _twoInputOut = new ChainOutput(this, _ops.Length > 0 ? _ops[0] : null, _ops.Length > 0 ? _outs[0] : null, metrics[0], _firstOpMetrics);
        }

        _ports = new EdgeSender[node.Ports.Count][];
        _checkpoints = job.Options.Checkpoints;
        _startOffset = node.Source is not null ? _checkpoints?.OpenSourcePartition(node.StateName, index, node.Parallelism) ?? 0 : 0;
    }

    public string Name => $"'{_node.Name}' task {_index}";

    /// <summary>Connects port <paramref name="port"/>'s edges to their downstream channels.</summary>
    public void SetPort(int port, EdgeSender[] senders) => _ports[port] = senders;

    public void InjectBarrier(CheckpointBarrier barrier) => _injectedBarriers.Enqueue(barrier);

    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            if (_node.Source is not null)
            {
                await RunSourceAsync(_node.Source, ct).ConfigureAwait(false);
            }
            else
            {
                await RunInputAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException && ex is not JobExecutionException)
        {
            throw new JobExecutionException($"{Name} of job '{_job.Options.Name}' failed: {ex.Message}", ex);
        }
        finally
        {
            DisposePending();
            foreach (var op in _ops)
            {
                (op as IDisposable)?.Dispose();
            }

            (_twoInput as IDisposable)?.Dispose();
        }
    }

    // ---- source head ----

    private async Task RunSourceAsync(ISourceConnector source, CancellationToken ct)
    {
        var strategy = _node.Watermarks;
        using var reader = source.OpenPartition(_index, _startOffset);
        var maxEventTime = long.MinValue;
        var watermark = long.MinValue;
        while (true)
        {
            while (_injectedBarriers.TryDequeue(out var barrier))
            {
                _checkpoints?.OnSourceBarrier(_node.StateName, _index, barrier, reader.Offset);
                HeadBarrier(barrier);
                await FlushAsync(ct).ConfigureAwait(false);
            }

            ColumnBatch? batch;
            var read = reader.ReadAsync(ct);
            if (read.IsCompleted || strategy?.IdleTimeout is not { } idle)
            {
                batch = await read.ConfigureAwait(false);
            }
            else
            {
                var readTask = read.AsTask();
                if (await Task.WhenAny(readTask, Task.Delay(idle, ct)).ConfigureAwait(false) != readTask && !_idleOut)
                {
                    // Silent longer than the idle timeout: stop holding back downstream watermarks.
                    _idleOut = true;
                    BroadcastAll(StreamElement.OfIdle(0));
                    await FlushAsync(ct).ConfigureAwait(false);
                }

                batch = await readTask.ConfigureAwait(false);
            }

            if (batch is null)
            {
                break;
            }

            _idleOut = false;
            if (strategy is not null)
            {
                maxEventTime = Math.Max(maxEventTime, ScanEventTime(batch, strategy.EventTimeColumn, reader.Offset));
            }

            if (batch.HasFiltered && batch.LiveCount() == 0)
            {
                batch.Dispose();
            }
            else
            {
                HeadBatch(JoinSide.Left, batch);
            }

            if (strategy is not null)
            {
                var next = strategy.WatermarkFor(maxEventTime);
                if (next > watermark)
                {
                    watermark = next;
                    HeadWatermark(watermark);
                }
            }

            if (_pending.Count > 0)
            {
                await FlushAsync(ct).ConfigureAwait(false);
            }
        }

        _checkpoints?.OnSourceEnded(_node.StateName, _index, reader.Offset);
        HeadWatermark(long.MaxValue);
        EndOfInput();
        await FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The largest valid event time of the batch; rows with NULL or out-of-range event time go to the dead letters.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private long ScanEventTime(ColumnBatch batch, int column, long offsetAfter)
    {
        var ts = batch.ColumnAt<long>(column);
        var values = ts.Values;
        var max = long.MinValue;
        var n = batch.Count;
        if (!ts.HasNulls && !batch.HasFiltered)
        {
            // Vectors of event times: the lane-wise min and max answer both the range check and the watermark.
            var span = values.AsSpan(0, n);
            var vectors = MemoryMarshal.Cast<long, Vector<long>>(span);
            var vmin = new Vector<long>(long.MaxValue);
            var vmax = new Vector<long>(long.MinValue);
            foreach (var v in vectors)
            {
                vmin = Vector.Min(vmin, v);
                vmax = Vector.Max(vmax, v);
            }

            var min = long.MaxValue;
            for (var lane = 0; lane < Vector<long>.Count; lane++)
            {
                min = Math.Min(min, vmin[lane]);
                max = Math.Max(max, vmax[lane]);
            }

            foreach (var v in span[(vectors.Length * Vector<long>.Count)..])
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }

            if (n == 0 || (min >= EventTime.MinValid && max <= EventTime.MaxValid))
            {
                return max;
            }

            max = long.MinValue;
        }

        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i))
            {
                continue;
            }

            if (ts.IsNull(i))
            {
                RejectSourceRow(batch, i, offsetAfter, "event time is NULL");
            }
            else if (values[i] < EventTime.MinValid || values[i] > EventTime.MaxValid)
            {
                RejectSourceRow(batch, i, offsetAfter, $"event time {values[i]} ms is outside years 0001-9999");
            }
            else
            {
                max = Math.Max(max, values[i]);
            }
        }

        return max;
    }

    private void RejectSourceRow(ColumnBatch batch, int row, long offsetAfter, string reason)
    {
        var location = $"{_node.Name} partition {_index} @ offset {offsetAfter - batch.Count + row}";
        ReportError(batch, row, reason, location, _headMetrics);
        batch.FilterOut(row);
    }

    // ---- channel head ----

    private async Task RunInputAsync(CancellationToken ct)
    {
        var reader = _input!.Reader;
        var senders = _senderSide.Length;
        var watermarks = new long[senders];
        Array.Fill(watermarks, long.MinValue);
        var idle = new bool[senders];
        var ended = new bool[senders];
        var blocked = new bool[senders];
        Queue<StreamElement>[]? held = null;
        var replay = new Queue<StreamElement>();
        var endedCount = 0;
        var aligned = 0;
        var combined = long.MinValue;
        var barrier = default(CheckpointBarrier);

        while (true)
        {
            StreamElement e;
            if (replay.Count > 0)
            {
                e = replay.Dequeue();
            }
            else if (!reader.TryRead(out e))
            {
                if (!await reader.WaitToReadAsync(ct).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            var s = e.Sender;
            if (blocked[s])
            {
                // Aligning a checkpoint: this sender's rows after its barrier wait until every sender's barrier is in.
                held ??= new Queue<StreamElement>[senders];
                (held[s] ??= new Queue<StreamElement>()).Enqueue(e);
                continue;
            }

            switch (e.Kind)
            {
                case ElementKind.Batch:
                    idle[s] = false;
                    HeadBatch(_senderSide[s], e.Batch!);
                    break;
                case ElementKind.Watermark:
                    idle[s] = false;
                    watermarks[s] = Math.Max(watermarks[s], e.Value);
                    AdvanceWatermark();
                    break;
                case ElementKind.Idle:
                    idle[s] = true;
                    AdvanceWatermark();
                    break;
                case ElementKind.Barrier:
                    blocked[s] = true;
                    aligned++;
                    barrier = new CheckpointBarrier(e.Value, e.Timestamp);
                    CompleteAlignmentIfReady();
                    break;
                case ElementKind.End:
                    ended[s] = true;
                    idle[s] = false;
                    watermarks[s] = long.MaxValue;
                    endedCount++;
                    AdvanceWatermark();
                    CompleteAlignmentIfReady();
                    if (endedCount == senders)
                    {
                        EndOfInput();
                        await FlushAsync(ct).ConfigureAwait(false);
                        return;
                    }

                    break;
            }

            if (_pending.Count > 0)
            {
                await FlushAsync(ct).ConfigureAwait(false);
            }
        }

        void AdvanceWatermark()
        {
            var min = long.MaxValue;
            var active = 0;
            for (var i = 0; i < senders; i++)
            {
                if (!idle[i])
                {
                    active++;
                    min = Math.Min(min, watermarks[i]);
                }
            }

            if (active == 0)
            {
                // Every input is idle: flush to the largest watermark any of them reached (Flink's valve does the
                // same), then say so downstream rather than hold it back.
                var max = long.MinValue;
                for (var i = 0; i < senders; i++)
                {
                    max = Math.Max(max, watermarks[i]);
                }

                if (max > combined)
                {
                    combined = max;
                    HeadWatermark(max);
                }

                if (!_idleOut)
                {
                    _idleOut = true;
                    BroadcastAll(StreamElement.OfIdle(0));
                }

                return;
            }

            if (min > combined)
            {
                combined = min;
                HeadWatermark(min);
            }
        }

        void CompleteAlignmentIfReady()
        {
            // Aligned when every sender still running has delivered this checkpoint's barrier.
            if (aligned == 0 || aligned < senders - endedCount)
            {
                return;
            }

            HeadBarrier(barrier);
            aligned = 0;
            for (var i = 0; i < senders; i++)
            {
                blocked[i] = false;
                if (held?[i] is { } q)
                {
                    while (q.TryDequeue(out var h))
                    {
                        replay.Enqueue(h);
                    }
                }
            }
        }
    }

    // ---- chain entry points ----

    private void HeadBatch(JoinSide side, ColumnBatch batch)
    {
        var live = batch.LiveCount();
        _headMetrics.AddIn(live);
        if (_node.Source is not null)
        {
            _headMetrics.AddOut(live);
            _firstOpMetrics?.AddIn(live);
        }

        if (_twoInput is not null)
        {
            _twoInput.OnBatch(side, batch, _twoInputOut!);
        }
        else if (_ops.Length > 0)
        {
            _ops[0].OnBatch(batch, _outs[0]);
        }
        else
        {
            EmitMain(batch);
        }
    }

    private void HeadWatermark(long watermark)
    {
        foreach (var m in _metrics)
        {
            m.SetWatermark(_index, watermark);
        }

        if (_twoInput is not null)
        {
            _twoInput.OnWatermark(watermark, _twoInputOut!);
        }
        else if (_ops.Length > 0)
        {
            _ops[0].OnWatermark(watermark, _outs[0]);
        }
        else
        {
            EmitMainWatermark(watermark);
        }
    }

    private void HeadBarrier(CheckpointBarrier barrier)
    {
        if (_twoInput is not null)
        {
            _twoInput.OnBarrier(barrier, _twoInputOut!);
        }
        else if (_ops.Length > 0)
        {
            _ops[0].OnBarrier(barrier, _outs[0]);
        }
        else
        {
            EmitMainBarrier(barrier);
        }
    }

    private void EndOfInput()
    {
        _twoInput?.OnEndOfInput(_twoInputOut!);
        for (var k = 0; k < _ops.Length; k++)
        {
            _ops[k].OnEndOfInput(_outs[k]);
        }

        BroadcastAll(StreamElement.OfEnd(0));
    }

    // ---- outputs ----

    internal void EmitMain(ColumnBatch batch)
    {
        if (batch.HasFiltered && batch.LiveCount() == 0)
        {
            batch.Dispose();
            return;
        }

        SendToPort(0, batch);
    }

    internal void EmitMainWatermark(long watermark)
    {
        if (watermark <= _lastWatermarkOut)
        {
            return;
        }

        _lastWatermarkOut = watermark;
        _idleOut = false;
        BroadcastAll(StreamElement.OfWatermark(0, watermark));
    }

    internal void EmitMainBarrier(CheckpointBarrier barrier) => BroadcastAll(StreamElement.OfBarrier(0, barrier));

    internal void EmitSide(OutputTag tag, ColumnBatch batch, OperatorMetrics metrics)
    {
        var live = batch.LiveCount();
        if (tag.CountsAsLate)
        {
            metrics.AddLate(live);
        }

        if (!_node.SidePorts.TryGetValue(tag, out var port) || _ports[port].Length == 0)
        {
            // Nobody reads this side output: the rows still must not vanish.
            for (var r = 0; r < batch.Count; r++)
            {
                if (batch.IsLive(r))
                {
                    ReportError(batch, r, tag.CountsAsLate ? "late event: its window already fired" : $"side output '{tag.Name}'", null, metrics);
                }
            }

            batch.Dispose();
            return;
        }

        SendToPort(port, batch);
    }

    internal void ReportError(ColumnBatch batch, int row, string reason, string? location, OperatorMetrics metrics)
    {
        metrics.AddError();
        _job.ReportDeadLetter(new DeadLetter(_node.Name, location ?? $"{_node.Name} task {_index}", reason, RenderRow(batch, row)));
    }

    private void SendToPort(int port, ColumnBatch batch)
    {
        var senders = _ports[port];
        if (senders.Length == 0)
        {
            batch.Dispose();
            return;
        }

        for (var i = 1; i < senders.Length; i++)
        {
            senders[i].Send(Exchange.BatchGather.CopyLive(batch));
        }

        senders[0].Send(batch);
    }

    private void BroadcastAll(StreamElement element)
    {
        foreach (var port in _ports)
        {
            foreach (var sender in port)
            {
                sender.Broadcast(element);
            }
        }
    }

    private async ValueTask FlushAsync(CancellationToken ct)
    {
        var pending = _pending;
        for (var i = 0; i < pending.Count; i++)
        {
            var (writer, element) = pending[i];
            if (!writer.TryWrite(element))
            {
                try
                {
                    await writer.WriteAsync(element, ct).ConfigureAwait(false);
                }
                catch
                {
                    // The rest was never handed over: return it to the pool.
                    pending.RemoveRange(0, i + 1);
                    element.Batch?.Dispose();
                    throw;
                }
            }
        }

        pending.Clear();
    }

    private void DisposePending()
    {
        foreach (var (_, element) in _pending)
        {
            element.Batch?.Dispose();
        }

        _pending.Clear();
    }

    internal static string RenderRow(ColumnBatch batch, int row)
    {
        var text = new StringBuilder();
        for (var c = 0; c < batch.Columns.Length; c++)
        {
            if (c > 0)
            {
                text.Append(", ");
            }

            text.Append(batch.Schema[c].Name).Append('=');
            var value = batch.Columns[c].GetBoxed(row);
            text.Append(value is null ? "NULL" : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>The output handed to one operator of the chain: calls the next operator, or the task's ports at the end.</summary>
    private sealed class ChainOutput(StreamTask task, IOperator? next, ChainOutput? nextOutput, OperatorMetrics self, OperatorMetrics? nextMetrics) : IOperatorOutput
    {
        public void Emit(ColumnBatch batch)
        {
            var live = batch.LiveCount();
            self.AddOut(live);
            if (next is not null)
            {
                nextMetrics!.AddIn(live);
                next.OnBatch(batch, nextOutput!);
            }
            else
            {
                task.EmitMain(batch);
            }
        }

        public void EmitWatermark(long watermark)
        {
            if (next is not null)
            {
                next.OnWatermark(watermark, nextOutput!);
            }
            else
            {
                task.EmitMainWatermark(watermark);
            }
        }

        public void EmitBarrier(CheckpointBarrier barrier)
        {
            if (next is not null)
            {
                next.OnBarrier(barrier, nextOutput!);
            }
            else
            {
                task.EmitMainBarrier(barrier);
            }
        }

        public void EmitError(ColumnBatch batch, int row, string reason) => task.ReportError(batch, row, reason, null, self);

        public void EmitSide(OutputTag tag, ColumnBatch batch) => task.EmitSide(tag, batch, self);
    }
}
