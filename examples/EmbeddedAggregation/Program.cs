// Embedded aggregation: trade volume per symbol per 10-second window, in-process, no SQL, no server.
using Streams.Engine.Embedding;

await using var engine = new StreamEngine(new EngineOptions { Parallelism = 2 });
var trades = engine.Input<Trade>(t => t.Time, maxOutOfOrderness: TimeSpan.FromSeconds(2));

var volumes = trades.Query
    .Where(t => t.Quantity > 0)
    .KeyBy(t => t.Symbol)
    .TumblingWindow(TimeSpan.FromSeconds(10))
    .Aggregate(a => new { Trades = a.Count(), Volume = a.Sum(t => t.Quantity), Top = a.Max(t => t.Price) })
    .ToAsyncEnumerable();

engine.Start();

var producer = Task.Run(async () =>
{
    var start = new DateTime(2026, 1, 1, 9, 30, 0, DateTimeKind.Utc);
    string[] symbols = ["ACME", "GLOBEX", "INITECH"];
    for (var i = 0; i < 60_000; i++)
    {
        await trades.WriteAsync(new Trade(symbols[i % 3], 100 + i % 7, i % 50, start.AddMilliseconds(i)));
    }

    trades.Complete(); // end of input: every open window fires
});

await foreach (var w in volumes)
{
    Console.WriteLine($"{w.Key,-8} {w.Start:HH:mm:ss}-{w.End:HH:mm:ss}  trades={w.Values.Trades,5}  volume={w.Values.Volume,7}  top={w.Values.Top}");
}

await producer;

internal sealed record Trade(string Symbol, double Price, int Quantity, DateTime Time);
