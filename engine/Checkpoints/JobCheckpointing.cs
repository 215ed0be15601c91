using Streams.Engine.Connectors;
using Streams.Engine.Operators;
using Streams.Engine.Operators.Sink;
using Streams.Engine.Runtime;
using Streams.Engine.State;

namespace Streams.Engine.Checkpoints;

/// <summary>
/// Exactly-once checkpointing for one runtime <see cref="Job"/>: set it as <see cref="JobOptions.Checkpoints"/> and run
/// the job with <see cref="RunAsync"/>. It resumes from the newest complete checkpoint in the state directory (sources
/// at their saved offsets, operators restored, sink transactions resolved), injects barriers every interval, snapshots
/// every operator that implements <see cref="ICheckpointableOperator"/> when it forwards a barrier, and ends a bounded
/// job with a final checkpoint so a rerun adds nothing.
/// </summary>
public sealed class JobCheckpointing : ICheckpointHooks
{
    private readonly CheckpointCoordinator _coordinator;
    private readonly Action<string> _log;
    private readonly List<IDisposable> _deferredDisposals = [];
    private readonly Lock _gate = new();

    /// <summary>Opens the state directory and finds the checkpoint to resume from.</summary>
    /// <param name="stateDirectory">The job's <c>--state-dir</c>.</param>
    /// <param name="planFingerprint">The <see cref="PlanFingerprint"/> of the job's plan; a directory of another plan is refused.</param>
    /// <param name="interval">The <c>--checkpoint-interval</c>.</param>
    /// <param name="retain">How many complete checkpoints to keep.</param>
    /// <param name="log">Where notices go (standard error when null).</param>
    public JobCheckpointing(string stateDirectory, string planFingerprint, TimeSpan interval, int retain = 3, Action<string>? log = null)
    {
        _log = log ?? (message => Console.Error.WriteLine(message));
        Store = new CheckpointStore(stateDirectory, retain, _log);
        RecoveredFrom = Store.LoadLatest(planFingerprint);
        _coordinator = new CheckpointCoordinator(Store, planFingerprint, interval, writeStateInBackground: true);
    }

    /// <summary>The checkpoint store.</summary>
    public CheckpointStore Store { get; }

    /// <summary>The coordinator (its <see cref="CheckpointCoordinator.Completed"/> event reports each checkpoint).</summary>
    public CheckpointCoordinator Coordinator => _coordinator;

    /// <summary>The checkpoint the job resumes from, or null on a fresh start.</summary>
    public CheckpointManifest? RecoveredFrom { get; }

    /// <summary>True when the state directory holds a finished run of this plan: running again adds nothing.</summary>
    public bool AlreadyFinished => RecoveredFrom?.IsFinal == true;

    /// <summary>
    /// Runs <paramref name="job"/> (built with this object as <see cref="JobOptions.Checkpoints"/>) with periodic
    /// checkpoints until it ends, and waits for its final checkpoint. Does nothing when the job already finished.
    /// </summary>
    public async Task RunAsync(Job job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (!ReferenceEquals(job.Options.Checkpoints, this))
        {
            throw new ArgumentException("the job was not built with this JobCheckpointing as JobOptions.Checkpoints", nameof(job));
        }

        if (AlreadyFinished)
        {
            ResolveFinishedSinks(job);
            _log($"job already finished (checkpoint {RecoveredFrom!.Id} in {Store.StateDirectory} is final): nothing to do");
            return;
        }

        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_coordinator.Interval.TotalMilliseconds / 4, 1, 100));
        try
        {
            var run = job.RunAsync(cancellationToken);
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(tick, CancellationToken.None)).ConfigureAwait(false);
                if (_coordinator.Failure is { } failure)
                {
                    throw new InvalidOperationException($"checkpointing failed: {failure.Message}", failure);
                }

                if (!run.IsCompleted && _coordinator.TryTrigger(out var barrier))
                {
                    job.TriggerCheckpoint(barrier);
                }
            }

            await run.ConfigureAwait(false);
            if (!_coordinator.FinalCompleted)
            {
                throw new InvalidOperationException(
                    $"the job ended but its final checkpoint did not complete ({_coordinator.DescribeMissing()}): an operator or sink did not finish");
            }
        }
        finally
        {
            // A cancelled run must not leave a state write behind that could complete a checkpoint under the next run.
            await _coordinator.WhenStateWritten().ConfigureAwait(false);
            DisposeDeferred();
        }
    }

    /// <summary>
    /// A crash between the final checkpoint's manifest and its commit leaves the final epoch's output staged: a rerun that
    /// runs nothing still opens each two-phase sink writer once so it publishes what the final manifest covers.
    /// </summary>
    private void ResolveFinishedSinks(Job job)
    {
        foreach (var node in job.Nodes)
        {
            if (!node.Terminated || node.Chain.Count == 0)
            {
                continue;
            }

            for (var task = 0; task < node.Parallelism; task++)
            {
                if (node.Chain[^1].Factory(task) is not SinkOperator { Writer: var writer } sink)
                {
                    break;
                }

                using (sink)
                {
                    (writer as ITransactionalSinkWriter)?.RecoverTransactions(CommittedTransaction(node.StateName, task));
                }
            }
        }
    }

    /// <summary>The transaction id the recovered manifest records for task <paramref name="task"/> of sink <paramref name="sinkId"/> (0 when none).</summary>
    private long CommittedTransaction(string sinkId, int task)
    {
        long committed = 0;
        foreach (var t in RecoveredFrom?.Sinks ?? [])
        {
            if (t.Task == task && string.Equals(t.SinkId, sinkId, StringComparison.Ordinal))
            {
                committed = t.TransactionId;
            }
        }

        return committed;
    }

    /// <inheritdoc/>
    public long OpenSourcePartition(string source, int partition, int partitionCount)
    {
        _coordinator.RegisterSource(source, partitionCount);
        return RecoveredFrom?.OffsetOf(source, partition) ?? 0;
    }

    /// <inheritdoc/>
    public void OnSourceBarrier(string source, int partition, CheckpointBarrier barrier, long offset) =>
        _coordinator.AcknowledgeSource(barrier.CheckpointId, source, partition, offset);

    /// <inheritdoc/>
    public void OnSourceEnded(string source, int partition, long offset) => _coordinator.FinishSource(source, partition, offset);

    /// <inheritdoc/>
    public IOperator WrapOperator(string node, string operatorName, int task, IOperator @operator)
    {
        if (@operator is SinkOperator sink)
        {
            return new CheckpointedSink(sink, sink.Writer, node, task, this);
        }

        if (@operator is ICheckpointableOperator stateful)
        {
            var id = $"{node}/{operatorName}#{task}";
            Restore(id, stateful);
            _coordinator.RegisterOperator(id);
            return new SnapshottingOperator(@operator, stateful, id, _coordinator);
        }

        if (@operator is IStatelessOperator)
        {
            return @operator;
        }

        throw NotCheckpointable(node, operatorName, @operator);
    }

    /// <inheritdoc/>
    public ITwoInputOperator WrapTwoInput(string node, int task, ITwoInputOperator @operator)
    {
        if (@operator is not ICheckpointableOperator stateful)
        {
            return @operator is IStatelessOperator ? @operator : throw NotCheckpointable(node, "two-input", @operator);
        }

        var id = $"{node}#{task}";
        Restore(id, stateful);
        _coordinator.RegisterOperator(id);
        return new SnapshottingTwoInputOperator(@operator, stateful, id, _coordinator);
    }

    private static NotSupportedException NotCheckpointable(string node, string operatorName, object @operator) =>
        new($"operator '{operatorName}' of '{node}' ({@operator.GetType().Name}) cannot be checkpointed yet (it implements neither ICheckpointableOperator nor IStatelessOperator): run this job without --state-dir");

    private void Restore(string operatorId, ICheckpointableOperator stateful)
    {
        if (RecoveredFrom is not null && !Store.RestoreOperatorState(RecoveredFrom, operatorId, stateful))
        {
            throw new InvalidOperationException(
                $"checkpoint {RecoveredFrom.Id} in {Store.StateDirectory} has no state for operator {operatorId}: the state directory belongs to a different plan or parallelism");
        }
    }

    private void DeferDispose(IDisposable disposable)
    {
        lock (_gate)
        {
            _deferredDisposals.Add(disposable);
        }
    }

    private void DisposeDeferred()
    {
        IDisposable[] all;
        lock (_gate)
        {
            all = [.. _deferredDisposals];
            _deferredDisposals.Clear();
        }

        foreach (var d in all)
        {
            d.Dispose();
        }
    }

    /// <summary>Snapshots a one-input operator at the moment it forwards a barrier, and once more after end of input.</summary>
    private sealed class SnapshottingOperator(IOperator inner, ICheckpointableOperator state, string id, CheckpointCoordinator coordinator) : IOperator, IDisposable
    {
        private BarrierInterceptor? _interceptor;

        public void OnBatch(Data.ColumnBatch batch, IOperatorOutput output) => inner.OnBatch(batch, output);

        public void OnWatermark(long watermark, IOperatorOutput output) => inner.OnWatermark(watermark, output);

        public void OnBarrier(CheckpointBarrier barrier, IOperatorOutput output)
        {
            if (_interceptor is null || !ReferenceEquals(_interceptor.Output, output))
            {
                _interceptor = new BarrierInterceptor(output, state, id, coordinator);
            }

            inner.OnBarrier(barrier, _interceptor);
        }

        public void OnEndOfInput(IOperatorOutput output)
        {
            inner.OnEndOfInput(output);
            coordinator.FinishOperator(id, state);
        }

        public void Dispose() => (inner as IDisposable)?.Dispose();
    }

    /// <summary>The two-input counterpart of <see cref="SnapshottingOperator"/> (the runtime aligned the barrier over both inputs).</summary>
    private sealed class SnapshottingTwoInputOperator(ITwoInputOperator inner, ICheckpointableOperator state, string id, CheckpointCoordinator coordinator) : ITwoInputOperator, IDisposable
    {
        private BarrierInterceptor? _interceptor;

        public void OnBatch(JoinSide side, Data.ColumnBatch batch, IOperatorOutput output) => inner.OnBatch(side, batch, output);

        public void OnWatermark(long watermark, IOperatorOutput output) => inner.OnWatermark(watermark, output);

        public void OnBarrier(CheckpointBarrier barrier, IOperatorOutput output)
        {
            if (_interceptor is null || !ReferenceEquals(_interceptor.Output, output))
            {
                _interceptor = new BarrierInterceptor(output, state, id, coordinator);
            }

            inner.OnBarrier(barrier, _interceptor);
        }

        public void OnEndOfInput(IOperatorOutput output)
        {
            inner.OnEndOfInput(output);
            coordinator.FinishOperator(id, state);
        }

        public void Dispose() => (inner as IDisposable)?.Dispose();
    }

    /// <summary>Passes everything through; when the operator forwards a barrier, its state is snapshotted first.</summary>
    private sealed class BarrierInterceptor(IOperatorOutput output, ICheckpointableOperator state, string id, CheckpointCoordinator coordinator) : IOperatorOutput
    {
        public IOperatorOutput Output => output;

        public void Emit(Data.ColumnBatch batch) => output.Emit(batch);

        public void EmitWatermark(long watermark) => output.EmitWatermark(watermark);

        public void EmitBarrier(CheckpointBarrier barrier)
        {
            coordinator.AcknowledgeOperator(barrier.CheckpointId, id, state);
            output.EmitBarrier(barrier);
        }

        public void EmitError(Data.ColumnBatch batch, int row, string reason) => output.EmitError(batch, row, reason);

        public void EmitSide(OutputTag tag, Data.ColumnBatch batch) => output.EmitSide(tag, batch);
    }

    /// <summary>
    /// A sink task under checkpointing: resolves the writer's transactions left by a crash, pre-commits on barriers
    /// and at end of input, commits when the coordinator says so (serialised with writes), and stays open until the
    /// final commit.
    /// </summary>
    private sealed class CheckpointedSink : IOperator, IDisposable
    {
        private readonly SinkOperator _inner;
        private readonly ISinkWriter _writer;
        private readonly string _sinkId;
        private readonly int _task;
        private readonly JobCheckpointing _owner;
        private readonly Lock _gate = new();

        public CheckpointedSink(SinkOperator inner, ISinkWriter writer, string node, int task, JobCheckpointing owner)
        {
            _inner = inner;
            _writer = writer;
            _sinkId = node;
            _task = task;
            _owner = owner;
            if (writer is ITransactionalSinkWriter transactional)
            {
                transactional.RecoverTransactions(owner.CommittedTransaction(node, task));
            }
            else if (task == 0)
            {
                owner._log($"sink {node} is not transactional: after a crash, rows written since the last checkpoint may be written again (at-least-once)");
            }

            owner._coordinator.RegisterSink(node, task, Commit);
        }

        public void OnBatch(Data.ColumnBatch batch, IOperatorOutput output)
        {
            lock (_gate)
            {
                _inner.OnBatch(batch, output);
            }
        }

        public void OnWatermark(long watermark, IOperatorOutput output)
        {
        }

        public void OnBarrier(CheckpointBarrier barrier, IOperatorOutput output)
        {
            lock (_gate)
            {
                _inner.OnBarrier(barrier, output);
            }

            _owner._coordinator.AcknowledgeSink(barrier.CheckpointId, _sinkId, _task, barrier.CheckpointId);
        }

        public void OnEndOfInput(IOperatorOutput output)
        {
            lock (_gate)
            {
                _inner.OnEndOfInput(output);
            }

            _owner._coordinator.FinishSink(_sinkId, _task, id =>
            {
                lock (_gate)
                {
                    _writer.PreCommit(id);
                }

                return id;
            });
        }

        public void Dispose() => _owner.DeferDispose(_inner);

        private void Commit(long checkpointId)
        {
            lock (_gate)
            {
                _writer.Commit(checkpointId);
            }
        }
    }
}
