namespace Streams.Engine.Log;

/// <summary>
/// Group commit: appenders that need durability register after their write; one flusher syncs the file once for every
/// waiter that registered before the sync began, while later arrivals gather for the next sync.
/// </summary>
internal sealed class GroupCommit(Func<long> snapshotWritten, Action sync)
{
    private readonly Lock _gate = new();
    private long _durable;
    private TaskCompletionSource? _next;
    private bool _flushing;
    private long _syncs;

    /// <summary>How many syncs ran (the ratio to appends shows how well commits are grouped).</summary>
    public long Syncs => Interlocked.Read(ref _syncs);

    /// <summary>Waits until everything up to <paramref name="endOffset"/> is durable.</summary>
    public Task WaitDurableAsync(long endOffset)
    {
        TaskCompletionSource tcs;
        var start = false;
        lock (_gate)
        {
            if (_durable >= endOffset)
            {
                return Task.CompletedTask;
            }

            tcs = _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_flushing)
            {
                _flushing = true;
                start = true;
            }
        }

        if (start)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.FlushLoop(), this, preferLocal: false);
        }

        return tcs.Task;
    }

    /// <summary>Syncs now on the calling thread (interval flushes, close).</summary>
    public void SyncNow()
    {
        var target = snapshotWritten();
        sync();
        Interlocked.Increment(ref _syncs);
        lock (_gate)
        {
            _durable = Math.Max(_durable, target);
        }
    }

    private void FlushLoop()
    {
        while (true)
        {
            TaskCompletionSource? batch;
            lock (_gate)
            {
                batch = _next;
                _next = null;
                if (batch is null)
                {
                    _flushing = false;
                    return;
                }
            }

            // Every waiter in this batch registered after its write finished, so the snapshot covers all of them.
            var target = snapshotWritten();
            try
            {
                sync();
                Interlocked.Increment(ref _syncs);
                lock (_gate)
                {
                    _durable = Math.Max(_durable, target);
                }

                batch.SetResult();
            }
            catch (Exception e)
            {
                batch.SetException(new LogException("fsync failed: acknowledged writes may not be durable", e));
            }
        }
    }
}
