using System.Threading.Channels;
using Streams.Engine.Data;
using Streams.Engine.Runtime.Exchange;
using Streams.Engine.Runtime.Graph;

namespace Streams.Engine.Runtime.Execution;

/// <summary>
/// The sending end of one graph edge inside one upstream task: decides which downstream channel(s) get each batch
/// (forward, round-robin or by key hash) and broadcasts watermarks, barriers, idleness and end of input to all of them.
/// </summary>
internal sealed class EdgeSender
{
    private readonly ChannelWriter<StreamElement>[] _targets;
    private readonly EdgeKind _kind;
    private readonly int[] _keys;
    private readonly int _senderId;
    private readonly List<(ChannelWriter<StreamElement> Writer, StreamElement Element)> _pending;
    private readonly int _batchSize;
    private int _next;
    private ulong[] _hashes = [];
    private int[] _rows = [];
    private int[] _counts = [];
    private int[] _order = [];

    public EdgeSender(ChannelWriter<StreamElement>[] targets, EdgeKind kind, int[] keys, int senderId, int batchSize,
        List<(ChannelWriter<StreamElement>, StreamElement)> pending)
    {
        _targets = targets;
        _kind = kind;
        _keys = keys;
        _senderId = senderId;
        _pending = pending;
        _batchSize = batchSize;
    }

    public void Send(ColumnBatch batch)
    {
        switch (_kind)
        {
            case EdgeKind.Forward:
                _pending.Add((_targets[0], StreamElement.OfBatch(_senderId, batch)));
                break;
            case EdgeKind.Rebalance:
                _pending.Add((_targets[_next], StreamElement.OfBatch(_senderId, batch)));
                _next = (_next + 1) % _targets.Length;
                break;
            default:
                SendByKey(batch);
                break;
        }
    }

    public void Broadcast(StreamElement element)
    {
        var e = element.WithSender(_senderId);
        foreach (var t in _targets)
        {
            _pending.Add((t, e));
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void SendByKey(ColumnBatch batch)
    {
        var p = _targets.Length;
        var known = batch.TakeExchangeTarget(p);
        if (p == 1 || known >= 0)
        {
            // The producer already grouped the rows by key task (LongKeyWindowCombiner): forward the batch as it is.
            _pending.Add((_targets[Math.Max(known, 0)], StreamElement.OfBatch(_senderId, batch)));
            return;
        }

        var n = batch.Count;
        if (_hashes.Length < n)
        {
            _hashes = new ulong[batch.Capacity];
            _rows = new int[batch.Capacity];
            _order = new int[batch.Capacity];
        }

        if (_counts.Length != p + 1)
        {
            _counts = new int[p + 1];
        }

        KeyHasher.HashRows(batch, _keys, _hashes);
        var counts = _counts;
        Array.Clear(counts);
        var targetOf = _rows;
        var live = 0;
        for (var i = 0; i < n; i++)
        {
            if (!batch.IsLive(i))
            {
                targetOf[i] = -1;
                continue;
            }

            var t = KeyHasher.TaskOf(KeyHasher.KeyGroupOf(_hashes[i]), p);
            targetOf[i] = t;
            counts[t + 1]++;
            live++;
        }

        // All rows for one task: hand the batch over as it is.
        for (var t = 0; t < p; t++)
        {
            if (counts[t + 1] == live)
            {
                _pending.Add((_targets[t], StreamElement.OfBatch(_senderId, batch)));
                return;
            }
        }

        for (var t = 1; t <= p; t++)
        {
            counts[t] += counts[t - 1];
        }

        // Counting sort of the row numbers by target task, so each task's rows are gathered in one pass.
        var order = _order.AsSpan(0, n);
        Span<int> fill = stackalloc int[p];
        for (var t = 0; t < p; t++)
        {
            fill[t] = counts[t];
        }

        for (var i = 0; i < n; i++)
        {
            var t = targetOf[i];
            if (t >= 0)
            {
                order[fill[t]++] = i;
            }
        }

        for (var t = 0; t < p; t++)
        {
            var from = counts[t];
            var len = counts[t + 1] - from;
            if (len == 0)
            {
                continue;
            }

            var part = batch.Pool.Rent(batch.Schema, Math.Max(_batchSize, batch.Capacity));
            BatchGather.Append(batch, order.Slice(from, len), part);
            _pending.Add((_targets[t], StreamElement.OfBatch(_senderId, part)));
        }

        batch.Dispose();
    }
}
