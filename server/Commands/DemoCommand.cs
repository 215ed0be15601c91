using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Streams.Connectors;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Query;

namespace Streams.Server.Commands;

/// <summary>
/// <c>streams demo</c>: the main job on the embedded default. A built-in Nexmark bid generator feeds a continuous SQL
/// query (a one-second tumbling window of bid counts and top prices per auction); the terminal shows the hottest
/// auctions of the latest window and the engine's throughput, live, until the duration ends or Ctrl-C.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The continuous query the demo runs; printed so a user sees what is running.</summary>
    internal const string Sql = """
        CREATE STREAM bids (
            auction  BIGINT,
            bidder   BIGINT,
            price    BIGINT,
            channel  VARCHAR,
            dateTime TIMESTAMP(3),
            WATERMARK FOR dateTime AS dateTime - INTERVAL '1' SECOND
        ) WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '0', 'rate' = '200000', 'max-out-of-order' = '200');

        SELECT window_start, auction, COUNT(*) AS bids, MAX(price) AS top_price, COUNT(DISTINCT bidder) AS bidders
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(dateTime), INTERVAL '1' SECOND))
        GROUP BY window_start, window_end, auction;
        """;

    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds to run (Ctrl-C stops earlier).", DefaultValueFactory = _ => 15 };
        var command = new Command("demo", "Run a live continuous query over generated auction bids and show the results.") { duration };
        command.SetAction((parse, ct) => Run(TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(duration))), ct));
        return command;
    }

    private static async Task<int> Run(TimeSpan duration, CancellationToken ct)
    {
        var registry = ConnectorCatalog.RegisterAll(new ConnectorRegistry());
        var session = new SqlSession(registry, Directory.GetCurrentDirectory());
        var statements = session.Prepare(Sql);
        var board = new WindowBoard();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(duration);
        var clock = Stopwatch.StartNew();
        var job = Task.Run(async () =>
        {
            foreach (var statement in statements)
            {
                await statement.RunAsync(board, changelog: false, stop.Token).ConfigureAwait(false);
            }
        }, CancellationToken.None);

        var console = AnsiConsole.Console;
        console.MarkupLine("[bold]Streams demo[/]: a continuous query over generated auction bids ([grey]Ctrl-C to stop[/])");
        console.Write(new Panel(new Text(Sql.Trim())).Header("query").BorderColor(Color.Grey));
        if (console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            await console.Live(board.Render(clock.Elapsed)).StartAsync(async live =>
            {
                while (!job.IsCompleted)
                {
                    await Task.WhenAny(job, Task.Delay(250, CancellationToken.None)).ConfigureAwait(false);
                    live.UpdateTarget(board.Render(clock.Elapsed));
                }
            }).ConfigureAwait(false);
        }
        else
        {
            // Not a terminal: one progress line a second, then the final table.
            while (!job.IsCompleted)
            {
                await Task.WhenAny(job, Task.Delay(1000, CancellationToken.None)).ConfigureAwait(false);
                console.WriteLine(board.Summary(clock.Elapsed));
            }

            console.Write(board.Render(clock.Elapsed));
        }

        try
        {
            await job.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The duration ended or the user pressed Ctrl-C: a continuous query stops here by design.
        }

        console.MarkupLine($"[green]done[/]: {board.Summary(clock.Elapsed)}");
        return 0;
    }

    /// <summary>Collects the window results as the job emits them and keeps the newest complete window for display.</summary>
    private sealed class WindowBoard : ISqlOutput
    {
        private const int Shown = 10;
        private readonly Lock _gate = new();
        private readonly List<(long Auction, long Bids, long TopPrice, long Bidders)> _current = [];
        private List<(long Auction, long Bids, long TopPrice, long Bidders)> _shown = [];
        private long _currentWindow = long.MinValue;
        private long _shownWindow = long.MinValue;
        private long _events;
        private long _windows;

        public ISinkWriter OpenRows(Schema schema) => new Writer(this);

        public void WriteText(string text) => AnsiConsole.WriteLine(text);

        public string Summary(TimeSpan elapsed)
        {
            var events = Interlocked.Read(ref _events);
            var eps = events / Math.Max(0.001, elapsed.TotalSeconds);
            return string.Create(CultureInfo.InvariantCulture,
                $"{events:N0} bids in {Interlocked.Read(ref _windows):N0} windows, {elapsed.TotalSeconds:F1} s, {eps:N0} events/s");
        }

        public Table Render(TimeSpan elapsed)
        {
            var table = new Table().Border(TableBorder.Rounded);
            lock (_gate)
            {
                var title = _shownWindow == long.MinValue
                    ? "waiting for the first window to close..."
                    : $"hottest auctions, window starting {DateTimeOffset.FromUnixTimeMilliseconds(_shownWindow):yyyy-MM-dd HH:mm:ss}Z";
                table.Title(title).Caption(Summary(elapsed));
                table.AddColumn("auction").AddColumn(new TableColumn("bids").RightAligned())
                    .AddColumn(new TableColumn("top price").RightAligned()).AddColumn(new TableColumn("bidders").RightAligned());
                foreach (var row in _shown)
                {
                    table.AddRow(row.Auction.ToString(CultureInfo.InvariantCulture), row.Bids.ToString("N0", CultureInfo.InvariantCulture),
                        row.TopPrice.ToString("N0", CultureInfo.InvariantCulture), row.Bidders.ToString("N0", CultureInfo.InvariantCulture));
                }
            }

            return table;
        }

        private void Add(ColumnBatch batch)
        {
            var start = batch.ColumnAt<long>(0).Values;
            var auction = batch.ColumnAt<long>(1).Values;
            var bids = batch.ColumnAt<long>(2).Values;
            var top = batch.ColumnAt<long>(3).Values;
            var bidders = batch.ColumnAt<long>(4).Values;
            lock (_gate)
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    if (!batch.IsLive(i))
                    {
                        continue;
                    }

                    // Windows close in order, so a row of a newer window means the previous one is complete.
                    if (start[i] > _currentWindow)
                    {
                        Publish();
                        _currentWindow = start[i];
                    }

                    _events += bids[i];
                    if (start[i] == _currentWindow)
                    {
                        _current.Add((auction[i], bids[i], top[i], bidders[i]));
                    }
                }
            }
        }

        private void Publish()
        {
            if (_current.Count == 0)
            {
                return;
            }

            _current.Sort(static (a, b) => b.Bids != a.Bids ? b.Bids.CompareTo(a.Bids) : a.Auction.CompareTo(b.Auction));
            _shown = _current.Take(Shown).ToList();
            _shownWindow = _currentWindow;
            _windows++;
            _current.Clear();
        }

        private sealed class Writer(WindowBoard board) : ISinkWriter
        {
            public void Write(ColumnBatch batch) => board.Add(batch);

            public void Flush()
            {
                lock (board._gate)
                {
                    board.Publish();
                }
            }

            public void Dispose()
            {
            }
        }
    }
}
