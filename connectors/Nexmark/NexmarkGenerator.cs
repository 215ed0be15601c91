using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Connectors.Nexmark;

/// <summary>
/// The Nexmark event generator, following the reference generator (nexmark-flink / Beam): per 50 events 1 person, 3 auctions and
/// 46 bids; sellers and bidders among the last <see cref="NexmarkOptions.ActivePeople"/> people, with hot sellers/bidders (the first
/// and second person of each group of 100) chosen with probability 1 - 1/ratio; bids on the last
/// <see cref="NexmarkOptions.InFlightAuctions"/> auctions or, with probability 1 - 1/<see cref="NexmarkOptions.HotAuctionRatio"/>, on the
/// hot auction of the current group of 100; log-uniform prices from 1.00 to 1,000,000.00 (in cents); half the bids through the four hot
/// channels; event time advancing at <see cref="NexmarkOptions.Rate"/> with bounded out-of-orderness.
/// <para>
/// Every random choice of event <c>n</c> comes from a counter-based generator seeded by (seed, n), so an event does not depend on
/// which events were generated before it: tables, partitions and resumed readers all see the same values. Events are written
/// straight into pooled columnar batches; strings are picked from tables built once, so generating allocates nothing.
/// Unlike nexmark-flink, bidders get <c>FIRST_PERSON_ID</c> added once (as in Beam), and <c>extra</c> padding is picked from
/// pre-built strings of the reference lengths.
/// </para>
/// </summary>
public sealed class NexmarkGenerator
{
    private const int PersonProportion = 1;
    private const int AuctionProportion = 3;
    private const int TotalProportion = 50;
    private const long FirstPersonId = 1000;
    private const long FirstAuctionId = 1000;
    private const long FirstCategoryId = 10;
    private const int Categories = 5;
    private const int HotGroup = 100;
    private const int HotChannelsRatio = 2;
    private const int ChannelCount = 10_000;
    private const int PersonIdLead = 10;
    private const int AuctionIdLead = 10;
    private const int TableBits = 12;
    private const int TableMask = (1 << TableBits) - 1;

    private static readonly string[] FirstNames = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
    private static readonly string[] LastNames = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
    private static readonly string[] Cities = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
    private static readonly string[] States = ["AZ", "CA", "ID", "OR", "WA", "WY"];
    private static readonly string[] HotChannels = ["Google", "Facebook", "Baidu", "Apple"];

    private const int PriceSteps = 4096;

    private static readonly ConcurrentDictionary<NexmarkOptions, NexmarkGenerator> Shared = new();
    private static readonly double[] PowerSteps = [.. Enumerable.Range(0, PriceSteps).Select(i => Math.Pow(10.0, 6.0 * i / PriceSteps) * 100.0)];

    private readonly long _seed;
    private readonly long _numEventsForAuctions;
    private readonly double _millisPerEvent;
    private readonly long _maxDelay;
    private readonly string[] _names;
    private readonly string[] _emails;
    private readonly string[] _cards;
    private readonly string[] _itemNames;
    private readonly string[] _descriptions;
    private readonly string[] _personExtras;
    private readonly string[] _auctionExtras;
    private readonly string[] _bidExtras;
    private readonly string[] _channels;
    private readonly string[] _channelUrls;
    private readonly ConcurrentDictionary<(NexmarkTable, Schema), int[]> _maps = new();

    /// <summary>Creates a generator; builds its string tables (a few milliseconds).</summary>
    public NexmarkGenerator(NexmarkOptions options)
    {
        if (options.Rate <= 0 || double.IsNaN(options.Rate) || options.MaxOutOfOrderMillis < 0 || options.ActivePeople <= 0 ||
            options.InFlightAuctions <= 0 || options.HotAuctionRatio <= 0 || options.HotSellersRatio <= 0 || options.HotBiddersRatio <= 0)
        {
            throw new ArgumentException("nexmark: rate, ratios, active people and in-flight auctions must be positive, out-of-orderness not negative", nameof(options));
        }

        Options = options;
        _seed = options.Seed;
        _millisPerEvent = 1000.0 / options.Rate;
        _maxDelay = options.MaxOutOfOrderMillis;
        _numEventsForAuctions = (long)options.InFlightAuctions * TotalProportion / AuctionProportion;

        var rng = new EventRandom(options.Seed, -1);
        _names = [.. FirstNames.SelectMany(f => LastNames.Select(l => f + " " + l))];
        _emails = Table(ref rng, r => NextString(ref r, 7) + "@" + NextString(ref r, 5) + ".com");
        _cards = Table(ref rng, r => string.Create(CultureInfo.InvariantCulture, $"{r.NextInt(10000):D4} {r.NextInt(10000):D4} {r.NextInt(10000):D4} {r.NextInt(10000):D4}"));
        _itemNames = Table(ref rng, r => NextString(ref r, 20));
        _descriptions = Table(ref rng, r => NextString(ref r, 100));
        // Reference sizes: 8 bytes per number plus the strings; extra pads the rest to the average with ±20 %.
        _personExtras = Table(ref rng, r => NextExtra(ref r, 8 + 12 + 17 + 19 + 8 + 2 + 8, options.AvgPersonByteSize));
        _auctionExtras = Table(ref rng, r => NextExtra(ref r, 8 + 11 + 51 + 8 + 8 + 8 + 8 + 8, options.AvgAuctionByteSize));
        _bidExtras = Table(ref rng, r => NextExtra(ref r, 8 + 8 + 8 + 8, options.AvgBidByteSize));
        // The four hot channels first, then channel-0 .. channel-9999.
        _channels = new string[HotChannels.Length + ChannelCount];
        _channelUrls = new string[HotChannels.Length + ChannelCount];
        for (var h = 0; h < HotChannels.Length; h++)
        {
            _channels[h] = HotChannels[h];
            _channelUrls[h] = BaseUrl(ref rng);
        }

        for (var c = 0; c < ChannelCount; c++)
        {
            _channels[HotChannels.Length + c] = "channel-" + c.ToString(CultureInfo.InvariantCulture);
            var url = BaseUrl(ref rng);
            _channelUrls[HotChannels.Length + c] = rng.NextInt(10) > 0 ? url + "&channel_id=" + Math.Abs((long)ReverseBits(c)).ToString(CultureInfo.InvariantCulture) : url;
        }
    }

    /// <summary>A generator for <paramref name="options"/>, shared by every stream built with the same options.</summary>
    public static NexmarkGenerator For(NexmarkOptions options) => Shared.GetOrAdd(options, static o => new NexmarkGenerator(o));

    /// <summary>The settings.</summary>
    public NexmarkOptions Options { get; }

    /// <summary>The kind of event <paramref name="eventId"/>.</summary>
    public static NexmarkTable KindOf(long eventId)
    {
        var rem = eventId % TotalProportion;
        return rem < PersonProportion ? NexmarkTable.Person : rem < PersonProportion + AuctionProportion ? NexmarkTable.Auction : NexmarkTable.Bid;
    }

    /// <summary>
    /// For each column of <paramref name="schema"/>, which Nexmark column of <paramref name="table"/> it receives (by name, any case).
    /// Throws <see cref="ConnectorException"/> for a column that is not one, or has another type.
    /// </summary>
    public static int[] MapColumns(NexmarkTable table, Schema schema)
    {
        var full = NexmarkSchemas.Of(table);
        var map = new int[full.Count];
        Array.Fill(map, -1);
        for (var c = 0; c < schema.Count; c++)
        {
            var f = full.IndexOf(schema[c].Name);
            if (f < 0)
            {
                throw new ConnectorException($"nexmark table '{table.ToString().ToLowerInvariant()}' has no column '{schema[c].Name}' (it has {string.Join(", ", full.Fields.Select(x => x.Name))})");
            }

            if (full[f].Type != schema[c].Type)
            {
                throw new ConnectorException($"nexmark column '{full[f].Name}' is {full[f].Type.SqlName()}, not {schema[c].Type.SqlName()}");
            }

            map[f] = c;
        }

        return map;
    }

    /// <summary>
    /// Appends the next events of <paramref name="table"/> to <paramref name="batch"/> until it is full or the events end, starting at event id
    /// <paramref name="cursor"/> and leaving it after the last event generated. With <paramref name="partitions"/> &gt; 1 only the groups of 50
    /// events numbered <paramref name="partition"/> modulo <paramref name="partitions"/> are generated. Returns the rows added.
    /// </summary>
    public int Fill(NexmarkTable table, ColumnBatch batch, ref long cursor, int partition = 0, int partitions = 1)
    {
        var map = _maps.GetOrAdd((table, batch.Schema), static k => MapColumns(k.Item1, k.Item2));
        return table switch
        {
            NexmarkTable.Bid => FillBids(batch, map, ref cursor, partition, partitions),
            NexmarkTable.Auction => FillAuctions(batch, map, ref cursor, partition, partitions),
            _ => FillPersons(batch, map, ref cursor, partition, partitions),
        };
    }

    private int FillBids(ColumnBatch batch, int[] map, ref long cursor, int partition, int partitions)
    {
        var auctions = Longs(batch, map[0]);
        var bidders = Longs(batch, map[1]);
        var prices = Longs(batch, map[2]);
        var channels = Strings(batch, map[3]);
        var urls = Strings(batch, map[4]);
        var times = Longs(batch, map[5]);
        var extras = Strings(batch, map[6]);
        var end = Options.Events;
        var row = batch.Count;
        var id = Advance(NexmarkTable.Bid, cursor, partition, partitions);
        while (row < batch.Capacity && (end <= 0 || id < end))
        {
            var rng = new EventRandom(_seed, id);

            // Every draw is made whichever way a choice goes, and the choice is a select: the coin flips are random,
            // so branches on them would mispredict half the time. One 64-bit draw feeds two or more choices: hashing is most of the cost.
            var r1 = rng.Next();
            var hotAuction = Bounded(r1 >> 32, Options.HotAuctionRatio) > 0;
            var hotBidder = Bounded((uint)r1, Options.HotBiddersRatio) > 0;
            var r2 = rng.Next();
            var coldAuction = NextBase0AuctionId(id, r2 >> 32);
            var coldBidder = NextBase0PersonId(id, (uint)r2);
            var auction = hotAuction ? LastBase0AuctionId(id) / HotGroup * HotGroup : coldAuction;
            var bidder = hotBidder ? (LastBase0PersonId(id) / HotGroup * HotGroup) + 1 : coldBidder;
            var r3 = rng.Next();
            var price = Price(r3);
            var hotChannel = Bounded((r3 & 0xFFFFF) << 12, HotChannelsRatio) > 0;
            var h = (int)(r3 & 3);
            var r4 = rng.Next();
            var c = Bounded((uint)r4, ChannelCount);
            var extra = _bidExtras[(int)(r4 >> (64 - TableBits))];
            var channelIndex = hotChannel ? h : HotChannels.Length + c;
            var channel = _channels[channelIndex];
            var url = _channelUrls[channelIndex];
            var time = EventTime(id, ref rng);
            Set(auctions, row, auction + FirstAuctionId);
            Set(bidders, row, bidder + FirstPersonId);
            Set(prices, row, price);
            Set(channels, row, channel);
            Set(urls, row, url);
            Set(times, row, time);
            Set(extras, row, extra);
            row++;
            id++;
            var rem = id % TotalProportion;
            if (rem == 0 && partitions > 1)
            {
                id = Advance(NexmarkTable.Bid, id, partition, partitions);
            }
            else if (rem == 0)
            {
                id += PersonProportion + AuctionProportion;
            }
        }

        batch.Count = row;
        cursor = id;
        return row;
    }

    private int FillAuctions(ColumnBatch batch, int[] map, ref long cursor, int partition, int partitions)
    {
        var ids = Longs(batch, map[0]);
        var itemNames = Strings(batch, map[1]);
        var descriptions = Strings(batch, map[2]);
        var initialBids = Longs(batch, map[3]);
        var reserves = Longs(batch, map[4]);
        var times = Longs(batch, map[5]);
        var expires = Longs(batch, map[6]);
        var sellers = Longs(batch, map[7]);
        var categories = Longs(batch, map[8]);
        var extras = Strings(batch, map[9]);
        var end = Options.Events;
        var row = batch.Count;
        var id = Advance(NexmarkTable.Auction, cursor, partition, partitions);
        while (row < batch.Capacity && (end <= 0 || id < end))
        {
            var rng = new EventRandom(_seed, id);
            var seller = rng.NextInt(Options.HotSellersRatio) > 0
                ? LastBase0PersonId(id) / HotGroup * HotGroup
                : NextBase0PersonId(id, ref rng);
            var category = FirstCategoryId + rng.NextInt(Categories);
            var initialBid = NextPrice(ref rng);
            var time = EventTime(id, ref rng);
            var horizon = Options.TimestampOf(id + _numEventsForAuctions) - Options.TimestampOf(id);
            var length = 1 + rng.NextLong(Math.Max(horizon * 2, 1));
            var reserve = initialBid + NextPrice(ref rng);
            Set(ids, row, LastBase0AuctionId(id) + FirstAuctionId);
            Set(itemNames, row, _itemNames[rng.NextIndex()]);
            Set(descriptions, row, _descriptions[rng.NextIndex()]);
            Set(initialBids, row, initialBid);
            Set(reserves, row, reserve);
            Set(times, row, time);
            Set(expires, row, time + length);
            Set(sellers, row, seller + FirstPersonId);
            Set(categories, row, category);
            Set(extras, row, _auctionExtras[rng.NextIndex()]);
            row++;
            id = Advance(NexmarkTable.Auction, id + 1, partition, partitions);
        }

        batch.Count = row;
        cursor = id;
        return row;
    }

    private int FillPersons(ColumnBatch batch, int[] map, ref long cursor, int partition, int partitions)
    {
        var ids = Longs(batch, map[0]);
        var names = Strings(batch, map[1]);
        var emails = Strings(batch, map[2]);
        var cards = Strings(batch, map[3]);
        var cities = Strings(batch, map[4]);
        var states = Strings(batch, map[5]);
        var times = Longs(batch, map[6]);
        var extras = Strings(batch, map[7]);
        var end = Options.Events;
        var row = batch.Count;
        var id = Advance(NexmarkTable.Person, cursor, partition, partitions);
        while (row < batch.Capacity && (end <= 0 || id < end))
        {
            var rng = new EventRandom(_seed, id);
            Set(ids, row, LastBase0PersonId(id) + FirstPersonId);
            Set(names, row, _names[rng.NextInt(_names.Length)]);
            Set(emails, row, _emails[rng.NextIndex()]);
            Set(cards, row, _cards[rng.NextIndex()]);
            Set(cities, row, Cities[rng.NextInt(Cities.Length)]);
            Set(states, row, States[rng.NextInt(States.Length)]);
            Set(times, row, EventTime(id, ref rng));
            Set(extras, row, _personExtras[rng.NextIndex()]);
            row++;
            id = Advance(NexmarkTable.Person, id + 1, partition, partitions);
        }

        batch.Count = row;
        cursor = id;
        return row;
    }

    /// <summary>The first event id at or after <paramref name="eventId"/> that is of <paramref name="table"/> and in <paramref name="partition"/>.</summary>
    public static long Advance(NexmarkTable table, long eventId, int partition = 0, int partitions = 1)
    {
        var (lo, hi) = table switch
        {
            NexmarkTable.Person => (0, PersonProportion),
            NexmarkTable.Auction => (PersonProportion, PersonProportion + AuctionProportion),
            _ => (PersonProportion + AuctionProportion, TotalProportion),
        };

        while (true)
        {
            var epoch = eventId / TotalProportion;
            var rem = eventId % TotalProportion;
            if (partitions > 1 && epoch % partitions != partition)
            {
                epoch += (partition - (epoch % partitions) + partitions) % partitions;
                rem = 0;
            }

            if (rem < lo)
            {
                return (epoch * TotalProportion) + lo;
            }

            if (rem < hi)
            {
                return (epoch * TotalProportion) + rem;
            }

            eventId = (epoch + 1) * TotalProportion;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long EventTime(long id, ref EventRandom rng)
    {
        var time = Options.BaseTime + (long)(id * _millisPerEvent);
        return _maxDelay > 0 ? time - rng.NextLong(_maxDelay + 1) : time;
    }

    private static long LastBase0PersonId(long eventId)
    {
        var epoch = eventId / TotalProportion;
        var offset = eventId % TotalProportion;
        if (offset >= PersonProportion)
        {
            offset = PersonProportion - 1;
        }

        return (epoch * PersonProportion) + offset;
    }

    private static long LastBase0AuctionId(long eventId)
    {
        var epoch = eventId / TotalProportion;
        var offset = eventId % TotalProportion;
        if (offset < PersonProportion)
        {
            epoch--;
            offset = AuctionProportion - 1;
        }
        else if (offset >= PersonProportion + AuctionProportion)
        {
            offset = AuctionProportion - 1;
        }
        else
        {
            offset -= PersonProportion;
        }

        return (epoch * AuctionProportion) + offset;
    }

    // Variants taking 32 random bits, for the bid loop that splits its draws.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long NextBase0PersonId(long eventId, ulong random32)
    {
        var numPeople = LastBase0PersonId(eventId) + 1;
        var active = Math.Min(numPeople, Options.ActivePeople);
        return numPeople - active + (long)((random32 * (ulong)(active + PersonIdLead)) >> 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long NextBase0AuctionId(long eventId, ulong random32)
    {
        var max = LastBase0AuctionId(eventId);
        var min = Math.Max(max - Options.InFlightAuctions, 0);
        return min + (long)((random32 * (ulong)(max - min + 1 + AuctionIdLead)) >> 32);
    }

    /// <summary>Uniform in [0, bound) from 32 random bits (Lemire's multiply-shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Bounded(ulong random32, int bound) => (int)((random32 * (ulong)bound) >> 32);

    // NextPrice from one 64-bit draw: the top 12 bits pick the power step, the next 32 the position inside it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Price(ulong random)
    {
        var step = (int)(random >> 52);
        var z = ((random >> 20) & 0xFFFF_FFFF) * (6.0 * Math.Log(10.0) / PriceSteps / 4294967296.0);
        return (long)Math.Round(PowerSteps[step] * (1.0 + z + (z * z * 0.5) + (z * z * z / 6.0)));
    }

    private long NextBase0PersonId(long eventId, ref EventRandom rng)
    {
        var numPeople = LastBase0PersonId(eventId) + 1;
        var active = Math.Min(numPeople, Options.ActivePeople);
        return numPeople - active + rng.NextLong(active + PersonIdLead);
    }

    private long NextBase0AuctionId(long eventId, ref EventRandom rng)
    {
        var max = LastBase0AuctionId(eventId);
        var min = Math.Max(max - Options.InFlightAuctions, 0);
        return min + rng.NextLong(max - min + 1 + AuctionIdLead);
    }

    // Log-uniform between 100 and 100,000,000 cents, as Math.round(10^(6u) * 100) in the reference. Math.Pow costs more than the
    // rest of a bid, so 10^(6u) = PowerSteps[i] * 10^y with y < 6/4096, the small factor by its Taylor series (relative error < 1e-8).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long NextPrice(ref EventRandom rng)
    {
        var scaled = (rng.Next() >> 11) * (PriceSteps / (double)(1UL << 53));
        var step = (int)scaled;
        var z = (scaled - step) * (6.0 * Math.Log(10.0) / PriceSteps);
        return (long)Math.Round(PowerSteps[step] * (1.0 + z + (z * z * 0.5) + (z * z * z / 6.0)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long[]? Longs(ColumnBatch batch, int column) => column < 0 ? null : batch.ColumnAt<long>(column).Values;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static string?[]? Strings(ColumnBatch batch, int column) => column < 0 ? null : batch.ColumnAt<string?>(column).Values;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Set(long[]? column, int row, long value)
    {
        if (column is not null)
        {
            column[row] = value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Set(string?[]? column, int row, string value)
    {
        if (column is not null)
        {
            column[row] = value;
        }
    }

    private static string[] Table(ref EventRandom rng, Func<EventRandom, string> make)
    {
        var table = new string[TableMask + 1];
        for (var i = 0; i < table.Length; i++)
        {
            // Each entry gets its own stream so entries do not depend on each other's lengths.
            table[i] = make(new EventRandom((long)rng.Next(), i));
        }

        return table;
    }

    private static string NextString(ref EventRandom rng, int maxLength, char special = ' ')
    {
        var length = 3 + rng.NextInt(maxLength - 3);
        return string.Create(length, rng.Next(), static (span, state) =>
        {
            var r = new EventRandom((long)state, 0);
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = r.NextInt(13) == 0 ? '_' : (char)('a' + r.NextInt(26));
            }
        }).Replace('_', special);
    }

    private static string NextExtra(ref EventRandom rng, int currentSize, int desiredAverageSize)
    {
        if (currentSize > desiredAverageSize)
        {
            return "";
        }

        desiredAverageSize -= currentSize;
        var delta = (int)Math.Round(desiredAverageSize * 0.2);
        var size = desiredAverageSize - delta + (delta == 0 ? 0 : rng.NextInt(2 * delta));
        var chars = new char[size];
        for (var i = 0; i < size; i++)
        {
            chars[i] = (char)('a' + rng.NextInt(26));
        }

        return new string(chars);
    }

    private static string BaseUrl(ref EventRandom rng) =>
        "https://www.nexmark.com/" + NextString(ref rng, 5, '_') + "/" + NextString(ref rng, 5, '_') + "/" + NextString(ref rng, 5, '_') + "/item.htm?query=1";

    private static int ReverseBits(int value)
    {
        var v = (uint)value;
        uint r = 0;
        for (var i = 0; i < 32; i++)
        {
            r = (r << 1) | (v & 1);
            v >>= 1;
        }

        return (int)r;
    }

    /// <summary>SplitMix64 keyed by (seed, event id): a counter-based generator, so every event's choices are independent of the others.</summary>
    private struct EventRandom(long seed, long stream)
    {
        private ulong _state = ((ulong)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)stream * 0xD1B54A32D192ED03UL) ^ 0x5851F42D4C957F2DUL;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, bound) by multiply-shift (Lemire), without division.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int NextInt(int bound) => (int)(((Next() >> 32) * (ulong)bound) >> 32);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long NextLong(long bound) => (long)Math.BigMul(Next(), (ulong)bound, out _);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int NextIndex() => (int)(Next() >> (64 - TableBits));
    }
}
