using Streams.Engine.Data;

namespace Streams.Connectors.Nexmark;

/// <summary>The columns of the Nexmark tables, as in the Flink Nexmark DDL; <c>dateTime</c> is the event-time column.</summary>
public static class NexmarkSchemas
{
    /// <summary>Person(id, name, emailAddress, creditCard, city, state, dateTime, extra).</summary>
    public static Schema Person { get; } = new(
    [
        new Field("id", DataType.Int64), new Field("name", DataType.String), new Field("emailAddress", DataType.String),
        new Field("creditCard", DataType.String), new Field("city", DataType.String), new Field("state", DataType.String),
        new Field("dateTime", DataType.Timestamp), new Field("extra", DataType.String),
    ], 6);

    /// <summary>Auction(id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra).</summary>
    public static Schema Auction { get; } = new(
    [
        new Field("id", DataType.Int64), new Field("itemName", DataType.String), new Field("description", DataType.String),
        new Field("initialBid", DataType.Int64), new Field("reserve", DataType.Int64), new Field("dateTime", DataType.Timestamp),
        new Field("expires", DataType.Timestamp), new Field("seller", DataType.Int64), new Field("category", DataType.Int64),
        new Field("extra", DataType.String),
    ], 5);

    /// <summary>Bid(auction, bidder, price, channel, url, dateTime, extra).</summary>
    public static Schema Bid { get; } = new(
    [
        new Field("auction", DataType.Int64), new Field("bidder", DataType.Int64), new Field("price", DataType.Int64),
        new Field("channel", DataType.String), new Field("url", DataType.String), new Field("dateTime", DataType.Timestamp),
        new Field("extra", DataType.String),
    ], 5);

    /// <summary>The full schema of <paramref name="table"/>.</summary>
    public static Schema Of(NexmarkTable table) => table switch
    {
        NexmarkTable.Person => Person,
        NexmarkTable.Auction => Auction,
        _ => Bid,
    };
}
