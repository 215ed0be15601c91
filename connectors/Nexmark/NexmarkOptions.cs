namespace Streams.Connectors.Nexmark;

/// <summary>The Nexmark tables (the event kinds of the benchmark).</summary>
public enum NexmarkTable
{
    /// <summary>Person(id, name, emailAddress, creditCard, city, state, dateTime, extra): 1 event in 50.</summary>
    Person,
    /// <summary>Auction(id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra): 3 events in 50.</summary>
    Auction,
    /// <summary>Bid(auction, bidder, price, channel, url, dateTime, extra): 46 events in 50.</summary>
    Bid,
}

/// <summary>
/// Settings of the Nexmark generator; defaults follow the reference generator (nexmark-flink / Beam's GeneratorConfig).
/// </summary>
public sealed record NexmarkOptions
{
    /// <summary>Seed of every random choice: the same seed gives the same events.</summary>
    public long Seed { get; init; }

    /// <summary>Total events over all three tables (ids 0 .. Events-1); 0 or less means no end.</summary>
    public long Events { get; init; } = 10_000_000;

    /// <summary>Events per second of event time: event n happens at <see cref="BaseTime"/> + n / rate seconds.</summary>
    public double Rate { get; init; } = 10_000;

    /// <summary>Event time of event 0, in epoch milliseconds (default 2024-01-01T00:00:00Z, fixed so runs are reproducible).</summary>
    public long BaseTime { get; init; } = 1_704_067_200_000;

    /// <summary>Bounded out-of-orderness: each event's time moves back by a random 0..this many milliseconds.</summary>
    public long MaxOutOfOrderMillis { get; init; }

    /// <summary>People who may be chosen as non-hot sellers or bidders (reference: 1000).</summary>
    public int ActivePeople { get; init; } = 1000;

    /// <summary>Auctions open at once, which non-hot bids choose among (reference: 100).</summary>
    public int InFlightAuctions { get; init; } = 100;

    /// <summary>1 - 1/this of bids go to a hot auction (reference: 2, so half).</summary>
    public int HotAuctionRatio { get; init; } = 2;

    /// <summary>1 - 1/this of auctions are by a hot seller (reference: 4).</summary>
    public int HotSellersRatio { get; init; } = 4;

    /// <summary>1 - 1/this of bids are by a hot bidder (reference: 4).</summary>
    public int HotBiddersRatio { get; init; } = 4;

    /// <summary>Average byte size of a person, padded with <c>extra</c> (reference: 200).</summary>
    public int AvgPersonByteSize { get; init; } = 200;

    /// <summary>Average byte size of an auction, padded with <c>extra</c> (reference: 500).</summary>
    public int AvgAuctionByteSize { get; init; } = 500;

    /// <summary>Average byte size of a bid, padded with <c>extra</c> (reference: 100).</summary>
    public int AvgBidByteSize { get; init; } = 100;

    /// <summary>The event time of event <paramref name="eventId"/> before out-of-order jitter.</summary>
    public long TimestampOf(long eventId) => BaseTime + (long)(eventId * (1000.0 / Rate));
}
