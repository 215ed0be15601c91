using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Streams.Server.Commands.Bench.Nexmark;

/// <summary>
/// Samples managed allocations through the runtime's GC AllocationTick event (one event per ~100 KB allocated, naming
/// the type that crossed the threshold), so <c>streams bench nexmark --alloc-profile</c> can say which types a query's
/// hot path allocates without an external profiler.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);

    /// <summary>Sampled bytes per allocated type, largest first.</summary>
    public IReadOnlyList<(string Type, long Bytes)> Top(int count) =>
        _bytesByType.OrderByDescending(kv => kv.Value).Take(count).Select(kv => (kv.Key, kv.Value)).ToList();

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        var type = "?";
        long bytes = 0;
        for (var i = 0; i < eventData.PayloadNames.Count; i++)
        {
            switch (eventData.PayloadNames[i])
            {
                case "TypeName":
                    type = eventData.Payload[i] as string ?? "?";
                    break;
                case "AllocationAmount64":
                    bytes = Convert.ToInt64(eventData.Payload[i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "AllocationAmount" when bytes == 0:
                    bytes = Convert.ToInt64(eventData.Payload[i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        _bytesByType.AddOrUpdate(type, bytes, (_, b) => b + bytes);
    }
}
