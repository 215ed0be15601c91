using System.Text.Json;
using Streams.Connectors.DeadLetters;
using Streams.Engine.Connectors;

namespace Streams.EndToEnd.Tests.Connectors;

public sealed class DeadLetterSinkTests
{
    [Fact]
    public void Every_letter_is_an_ndjson_line_and_the_summary_names_file_count_and_first_line()
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "dlq", "dead.ndjson");
        using (var sink = NdjsonDeadLetterSink.ToFile(path))
        {
            sink.Report(new DeadLetter("bids", "bids.ndjson:17", "malformed JSON: x", "{\"a\":"));
            sink.Report(new DeadLetter("bids", "bids.ndjson:40", "value 'x' is not a valid BIGINT", "{\"a\":\"x\"}"));
            sink.Report(new DeadLetter("bids", "bids.ndjson:41", "again", "\u0001 raw \"text\""));
            sink.Report(new DeadLetter("people", "topic/0@12", "bad", "r"));
            Assert.Equal(4, sink.Count);
            Assert.Equal(
                [
                    "3 malformed lines in bids.ndjson, first at line 17: malformed JSON: x",
                    "1 malformed record in people, first at topic/0@12: bad",
                ],
                sink.Summary());
            using var err = new StringWriter();
            sink.WriteSummary(err);
            Assert.Equal(2, err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }

        var lines = File.ReadAllLines(path);
        Assert.Equal(4, lines.Length);
        using var third = JsonDocument.Parse(lines[2]);
        Assert.Equal("bids", third.RootElement.GetProperty("stream").GetString());
        Assert.Equal("bids.ndjson:41", third.RootElement.GetProperty("location").GetString());
        Assert.Equal("again", third.RootElement.GetProperty("reason").GetString());
        Assert.Equal("\u0001 raw \"text\"", third.RootElement.GetProperty("raw").GetString());
    }
}
