using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Streams.Engine.Operators;
using Streams.Engine.State;

namespace Streams.Engine.Checkpoints;

/// <summary>
/// Runs aligned checkpoints for one job, independent of how the runtime schedules its tasks.
/// <para>Protocol (what the runtime calls):</para>
/// <list type="number">
/// <item>Before starting: <see cref="Recover"/> (restores nothing by itself; it tells the job where to resume and
/// resolves sink transactions left by a crash), then register every participant: <see cref="RegisterSource"/>,
/// <see cref="RegisterOperator"/> (stateful operators only; stateless ones just forward barriers) and
/// <see cref="RegisterSink"/>.</item>
/// <item>Periodically (any thread): <see cref="TryTrigger"/>; when it returns a barrier, inject it at every source
/// partition.</item>
/// <item>Each source partition, between two batches: <see cref="AcknowledgeSource"/> with the reader's offset, then emit
/// the barrier.</item>
/// <item>Each stateful operator, after the barrier arrived on all its inputs (see <see cref="BarrierAligner"/>) and
/// before forwarding it: <see cref="AcknowledgeOperator"/> on its own thread (it writes the snapshot).</item>
/// <item>Each sink writer on the barrier: <see cref="Connectors.ISinkWriter.PreCommit"/>, then <see cref="AcknowledgeSink"/>.</item>
/// <item>When the last acknowledgement arrives, the coordinator writes the manifest (that thread does the I/O) and then
/// calls every sink's commit callback with the checkpoint id.</item>
/// <item>A bounded job ends with <see cref="TriggerFinal"/>: the same acknowledgements, given after end-of-input
/// flushing, produce a final manifest so a rerun adds nothing.</item>
/// </list>
/// Thread-safe.
/// </summary>
public sealed class CheckpointCoordinator
{
    private readonly CheckpointStore _store;
    private readonly string _planFingerprint;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Lock _completion = new();
    private readonly Dictionary<string, int> _sources = new(StringComparer.Ordinal);
    private readonly HashSet<string> _operators = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Sink, int Task), Action<long>> _sinks = [];
    private readonly SortedDictionary<long, PendingCheckpoint> _pending = [];
    private long _nextId;
    private long _lastTriggerMs;
    private long _lastCompleted;
    private readonly long _firstId;
    private readonly Dictionary<(string Source, int Partition), long> _finishedSources = [];
    private readonly Dictionary<string, OperatorState> _finishedOperators = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Sink, int Task), Func<long, long>> _finishedSinks = [];
    private bool _finalTriggered;
    private bool _finalCompleted;
    private Exception? _failure;
    private readonly bool _writeStateInBackground;
    private readonly List<Task> _stateWrites = [];

    /// <summary>Creates a coordinator writing to <paramref name="store"/>.</summary>
    /// <param name="store">Where checkpoints go.</param>
    /// <param name="planFingerprint">The job's <see cref="PlanFingerprint"/>.</param>
    /// <param name="interval">Time between checkpoints (<c>--checkpoint-interval</c>, 1 s by default).</param>
    /// <param name="time">The clock; the system clock when null.</param>
    /// <param name="writeStateInBackground">
    /// When true, <see cref="AcknowledgeOperator"/> only copies the operator's snapshot into memory on the operator's
    /// thread and writes, syncs and checksums it on the thread pool (then acknowledges); wait for those writes with
    /// <see cref="WhenStateWritten"/> before reusing the state directory.
    /// </param>
    public CheckpointCoordinator(CheckpointStore store, string planFingerprint, TimeSpan interval, TimeProvider? time = null, bool writeStateInBackground = false)
    {
        _writeStateInBackground = writeStateInBackground;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _store = store;
        _planFingerprint = planFingerprint;
        Interval = interval;
        _time = time ?? TimeProvider.System;
        _nextId = store.HighestId() + 1;
        _firstId = _nextId;
        _lastTriggerMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    /// <summary>The default <c>--checkpoint-interval</c>.</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Time between checkpoints.</summary>
    public TimeSpan Interval { get; }

    /// <summary>The store the coordinator writes to.</summary>
    public CheckpointStore Store => _store;

    /// <summary>The id of the newest checkpoint this coordinator completed (0 before the first).</summary>
    public long LastCompletedId
    {
        get
        {
            lock (_gate)
            {
                return _lastCompleted;
            }
        }
    }

    /// <summary>Raised after a checkpoint's manifest is durable and its sinks were told to commit.</summary>
    public event Action<CheckpointManifest>? Completed;

    /// <summary>
    /// Finds where the job resumes: the newest complete checkpoint for this plan (skipping damaged ones), and resolves
    /// sink transactions: each writer publishes what the manifest covers and discards the rest. Throws
    /// <see cref="PlanMismatchException"/> when the state directory belongs to another plan.
    /// </summary>
    public static RecoveryPoint Recover(CheckpointStore store, string planFingerprint, IEnumerable<(string SinkId, int Task, ITransactionalSinkWriter Writer)> sinks)
    {
        var manifest = store.LoadLatest(planFingerprint);
        foreach (var (sinkId, task, writer) in sinks)
        {
            long committed = 0;
            foreach (var transaction in manifest?.Sinks ?? [])
            {
                if (transaction.Task == task && string.Equals(transaction.SinkId, sinkId, StringComparison.Ordinal))
                {
                    committed = transaction.TransactionId;
                }
            }

            writer.RecoverTransactions(committed);
        }

        return new RecoveryPoint(store, manifest);
    }

    /// <summary>Registers a source with <paramref name="partitions"/> partitions: each must acknowledge every checkpoint with its offset.</summary>
    public void RegisterSource(string source, int partitions)
    {
        lock (_gate)
        {
            _sources[source] = partitions;
        }
    }

    /// <summary>Registers a stateful operator that must acknowledge every checkpoint with a snapshot.</summary>
    public void RegisterOperator(string operatorId)
    {
        lock (_gate)
        {
            _operators.Add(operatorId);
        }
    }

    /// <summary>Registers a sink writer; <paramref name="commit"/> is called with the checkpoint id once its manifest is durable (the runtime may hop it to the sink's thread).</summary>
    public void RegisterSink(string sinkId, int task, Action<long> commit)
    {
        lock (_gate)
        {
            _sinks[(sinkId, task)] = commit;
        }
    }

    /// <summary>Starts a checkpoint when the interval has elapsed and no checkpoint is in flight; the barrier must then be injected at every source partition.</summary>
    public bool TryTrigger(out CheckpointBarrier barrier)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            if (_finalTriggered || _pending.Count > 0 || now - _lastTriggerMs < (long)Interval.TotalMilliseconds)
            {
                barrier = default;
                return false;
            }

            barrier = StartLocked(now, isFinal: false);
        }

        CompleteReady();
        return true;
    }

    /// <summary>
    /// Starts the final checkpoint of a bounded job; participants acknowledge it after their end-of-input work.
    /// (<see cref="FinishSource"/> starts it by itself once every registered source partition finished.)
    /// </summary>
    public CheckpointBarrier TriggerFinal()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        CheckpointBarrier barrier;
        lock (_gate)
        {
            _finalTriggered = true;
            barrier = StartLocked(now, isFinal: true);
        }

        CompleteReady();
        return barrier;
    }

    /// <summary>True once the final checkpoint of a bounded job is durable.</summary>
    public bool FinalCompleted
    {
        get
        {
            lock (_gate)
            {
                return _finalCompleted;
            }
        }
    }

    /// <summary>Describes the participants that have not acknowledged the oldest checkpoint in flight (for errors and diagnostics).</summary>
    public string DescribeMissing()
    {
        lock (_gate)
        {
            if (_pending.Count == 0)
            {
                return "no checkpoint in flight";
            }

            var (id, pending) = _pending.First();
            var missing = new List<string>();
            foreach (var (source, partitions) in _sources)
            {
                for (var p = 0; p < partitions; p++)
                {
                    if (!pending.Sources.ContainsKey((source, p)))
                    {
                        missing.Add($"source {source} partition {p}");
                    }
                }
            }

            missing.AddRange(_operators.Where(o => !pending.Operators.ContainsKey(o)).Select(o => "operator " + o));
            missing.AddRange(_sinks.Keys.Where(k => !pending.Sinks.ContainsKey(k)).Select(k => $"sink {k.Sink} task {k.Task}"));
            return $"checkpoint {id} waits for: {string.Join(", ", missing)}";
        }
    }

    /// <summary>Source partition <paramref name="partition"/> of <paramref name="source"/> passed the barrier at <paramref name="offset"/>.</summary>
    public void AcknowledgeSource(long checkpointId, string source, int partition, long offset)
    {
        lock (_gate)
        {
            if (!_sources.TryGetValue(source, out var partitions) || partition < 0 || partition >= partitions)
            {
                ThrowUnregistered(checkpointId, $"source {source} partition {partition}");
            }
        }

        Acknowledge(checkpointId, p => p.Sources[(source, partition)] = new SourceOffset(source, partition, offset));
    }

    /// <summary>
    /// Snapshots <paramref name="operator"/> for checkpoint <paramref name="checkpointId"/> (call on the operator's
    /// thread, after alignment, before forwarding the barrier) and acknowledges it.
    /// </summary>
    public void AcknowledgeOperator(long checkpointId, string operatorId, ICheckpointableOperator @operator)
    {
        lock (_gate)
        {
            if (!_operators.Contains(operatorId))
            {
                ThrowUnregistered(checkpointId, $"operator {operatorId}");
            }

            if (!IsInFlightLocked(checkpointId))
            {
                return;
            }
        }

        if (!_writeStateInBackground)
        {
            var written = _store.WriteOperatorState(checkpointId, operatorId, @operator);
            Acknowledge(checkpointId, p => p.Operators[operatorId] = written);
            return;
        }

        // Copy on the barrier (this thread, memory speed); the file write, fsync and checksum go off the task thread.
        var captured = _store.CaptureOperatorState(checkpointId, operatorId, @operator);
        var write = Task.Run(() =>
        {
            try
            {
                var state = _store.WriteCapturedState(captured);
                Acknowledge(checkpointId, p => p.Operators[operatorId] = state);
            }
            catch (IOException e)
            {
                // A checkpoint superseded meanwhile may have lost its folder to retention; any other failure skips this checkpoint.
                Abort(checkpointId, $"the state of {operatorId} could not be written: {e.Message}");
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
        });
        lock (_stateWrites)
        {
            _stateWrites.RemoveAll(t => t.IsCompleted);
            _stateWrites.Add(write);
        }
    }

    /// <summary>Completes when every background state write started so far has finished (and acknowledged or aborted its checkpoint).</summary>
    public Task WhenStateWritten()
    {
        lock (_stateWrites)
        {
            return Task.WhenAll([.. _stateWrites]);
        }
    }

    /// <summary>A failure of the background completion work (a sink commit, a manifest write); the job must stop with it.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Sink writer <paramref name="task"/> of <paramref name="sinkId"/> pre-committed transaction <paramref name="transactionId"/> for the checkpoint.</summary>
    public void AcknowledgeSink(long checkpointId, string sinkId, int task, long transactionId)
    {
        lock (_gate)
        {
            if (!_sinks.ContainsKey((sinkId, task)))
            {
                ThrowUnregistered(checkpointId, $"sink {sinkId} task {task}");
            }
        }

        Acknowledge(checkpointId, p => p.Sinks[(sinkId, task)] = new SinkTransaction(sinkId, task, transactionId));
    }

    /// <summary>
    /// A bounded source partition ended at <paramref name="offset"/>: it acknowledges every checkpoint in flight or
    /// started later with that offset (its barriers are no longer read). When every registered partition has ended,
    /// the final checkpoint starts.
    /// </summary>
    public void FinishSource(string source, int partition, long offset)
    {
        lock (_gate)
        {
            _finishedSources[(source, partition)] = offset;
            foreach (var pending in _pending.Values)
            {
                pending.Sources.TryAdd((source, partition), new SourceOffset(source, partition, offset));
            }

            var total = _sources.Values.Sum();
            if (!_finalTriggered && _finishedSources.Count >= total)
            {
                _finalTriggered = true;
                StartLocked(_time.GetUtcNow().ToUnixTimeMilliseconds(), isFinal: true);
            }
        }

        CompleteReady();
    }

    /// <summary>
    /// A stateful operator processed end of input (and flushed): its state is snapshotted once more and that snapshot
    /// acknowledges every checkpoint in flight or started later (no barrier reaches it any more).
    /// </summary>
    public void FinishOperator(string operatorId, ICheckpointableOperator @operator)
    {
        if (_writeStateInBackground)
        {
            // A barrier snapshot still being written must acknowledge its checkpoint first: otherwise the final state
            // below would stand in for it and that checkpoint would pair state past its barrier with the barrier's offsets.
            WhenStateWritten().GetAwaiter().GetResult();
        }

        var state = _store.WriteFinishedOperatorState(operatorId, @operator);
        lock (_gate)
        {
            _finishedOperators[operatorId] = state;
            foreach (var pending in _pending.Values)
            {
                pending.Operators.TryAdd(operatorId, state);
            }
        }

        CompleteReady();
    }

    /// <summary>
    /// A sink writer processed end of input. For each checkpoint in flight or started later that it has not
    /// acknowledged, <paramref name="preCommit"/> is called with the checkpoint id (stage what is unstaged) and returns
    /// the transaction id to record.
    /// </summary>
    public void FinishSink(string sinkId, int task, Func<long, long> preCommit)
    {
        lock (_gate)
        {
            _finishedSinks[(sinkId, task)] = preCommit;
            foreach (var pending in _pending.Values)
            {
                if (!pending.Sinks.ContainsKey((sinkId, task)))
                {
                    pending.Sinks[(sinkId, task)] = new SinkTransaction(sinkId, task, preCommit(pending.Id));
                }
            }
        }

        CompleteReady();
    }

    /// <summary>Gives up on a checkpoint (a participant failed to snapshot); the next trigger starts a new one.</summary>
    public void Abort(long checkpointId, string reason)
    {
        lock (_gate)
        {
            if (_pending.Remove(checkpointId))
            {
                Console.Error.WriteLine($"checkpoint {checkpointId} aborted: {reason}");
            }
        }
    }

    private bool IsInFlightLocked(long checkpointId)
    {
        if (_pending.ContainsKey(checkpointId))
        {
            return true;
        }

        if (checkpointId >= _nextId || checkpointId < _firstId)
        {
            ThrowUnknown(checkpointId);
        }

        return false; // Aborted, or superseded by a later checkpoint that completed: late acknowledgements are dropped.
    }

    private CheckpointBarrier StartLocked(long nowMs, bool isFinal)
    {
        var id = _nextId++;
        _lastTriggerMs = nowMs;
        _store.Begin(id);
        var expected = 0;
        foreach (var (_, partitions) in _sources)
        {
            expected += partitions;
        }

        expected += _operators.Count + _sinks.Count;
        var pending = new PendingCheckpoint(id, nowMs, isFinal, expected);
        // Participants that already finished acknowledge with their final position and state.
        foreach (var ((source, partition), offset) in _finishedSources)
        {
            pending.Sources[(source, partition)] = new SourceOffset(source, partition, offset);
        }

        foreach (var (operatorId, state) in _finishedOperators)
        {
            pending.Operators[operatorId] = state;
        }

        foreach (var ((sinkId, task), preCommit) in _finishedSinks)
        {
            pending.Sinks[(sinkId, task)] = new SinkTransaction(sinkId, task, preCommit(id));
        }

        _pending[id] = pending;
        return new CheckpointBarrier(id, nowMs);
    }

    private void Acknowledge(long checkpointId, Action<PendingCheckpoint> record)
    {
        lock (_gate)
        {
            if (!IsInFlightLocked(checkpointId))
            {
                return;
            }

            var pending = _pending[checkpointId];
            record(pending);
            if (pending.AcknowledgedCount > pending.Expected)
            {
                ThrowUnexpected(checkpointId);
            }
        }

        CompleteReady();
    }

    /// <summary>Makes every fully acknowledged checkpoint durable, oldest first, then tells the sinks to commit.</summary>
    private void CompleteReady()
    {
        // Manifests become durable, and sinks commit, strictly in checkpoint order.
        lock (_completion)
        {
            while (true)
            {
                PendingCheckpoint? ready = null;
                lock (_gate)
                {
                    foreach (var pending in _pending.Values)
                    {
                        if (pending.AcknowledgedCount == pending.Expected)
                        {
                            ready = pending;
                            break;
                        }
                    }
                }

                if (ready is null)
                {
                    return;
                }

                Finish(ready);
            }
        }
    }

    private void Finish(PendingCheckpoint pending)
    {
        var manifest = new CheckpointManifest(
            pending.Id, pending.CreatedUtcMs, _planFingerprint, pending.IsFinal,
            [.. pending.Sources.Values.OrderBy(s => s.Source, StringComparer.Ordinal).ThenBy(s => s.Partition)],
            [.. pending.Operators.Values.OrderBy(o => o.OperatorId, StringComparer.Ordinal)],
            [.. pending.Sinks.Values.OrderBy(s => s.SinkId, StringComparer.Ordinal).ThenBy(s => s.Task)]);
        _store.Complete(manifest);
        KeyValuePair<(string Sink, int Task), Action<long>>[] sinks;
        lock (_gate)
        {
            _pending.Remove(pending.Id);
            // Anything older still pending can never complete: its participants already moved past it.
            foreach (var stale in _pending.Keys.Where(k => k < pending.Id).ToList())
            {
                _pending.Remove(stale);
            }

            _lastCompleted = Math.Max(_lastCompleted, pending.Id);
            _finalCompleted |= pending.IsFinal;
            sinks = [.. _sinks];
        }

        foreach (var (_, commit) in sinks)
        {
            commit(pending.Id);
        }

        Completed?.Invoke(manifest);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnregistered(long checkpointId, string participant) =>
        throw new InvalidOperationException($"checkpoint {checkpointId} acknowledged by {participant}, which is not registered with the coordinator");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnknown(long checkpointId) =>
        throw new InvalidOperationException($"acknowledgement for checkpoint {checkpointId}, which is not in flight (never triggered, aborted, or already complete)");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnexpected(long checkpointId) =>
        throw new InvalidOperationException($"checkpoint {checkpointId} received more acknowledgements than registered participants: a source, operator or sink is not registered");

    private sealed class PendingCheckpoint(long id, long createdUtcMs, bool isFinal, int expected)
    {
        public long Id { get; } = id;

        public long CreatedUtcMs { get; } = createdUtcMs;

        public bool IsFinal { get; } = isFinal;

        public int Expected { get; } = expected;

        public Dictionary<(string Source, int Partition), SourceOffset> Sources { get; } = [];

        public Dictionary<string, OperatorState> Operators { get; } = new(StringComparer.Ordinal);

        public Dictionary<(string Sink, int Task), SinkTransaction> Sinks { get; } = [];

        public int AcknowledgedCount => Sources.Count + Operators.Count + Sinks.Count;
    }
}

/// <summary>Where a job resumes after <see cref="CheckpointCoordinator.Recover"/>.</summary>
public sealed class RecoveryPoint
{
    private readonly CheckpointStore _store;

    internal RecoveryPoint(CheckpointStore store, CheckpointManifest? manifest)
    {
        _store = store;
        Manifest = manifest;
    }

    /// <summary>The checkpoint resumed from, or null for a fresh start.</summary>
    public CheckpointManifest? Manifest { get; }

    /// <summary>True when the job already ran to completion: running it again must add nothing.</summary>
    public bool AlreadyFinished => Manifest?.IsFinal == true;

    /// <summary>The offset to open <paramref name="source"/> partition <paramref name="partition"/> at (0 on a fresh start).</summary>
    public long OffsetOf(string source, int partition) => Manifest?.OffsetOf(source, partition) ?? 0;

    /// <summary>Restores <paramref name="operator"/>'s state; false when there was none to restore (fresh start or new operator).</summary>
    public bool RestoreOperator(string operatorId, ICheckpointableOperator @operator) =>
        Manifest is not null && _store.RestoreOperatorState(Manifest, operatorId, @operator);
}
