using System.Text;
using Streams.Connectors;
using Streams.Connectors.DeadLetters;
using Streams.Connectors.Files;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using static Streams.EndToEnd.Tests.Connectors.ConnectorTestKit;

namespace Streams.EndToEnd.Tests.Connectors;

public sealed class FileSourceTests
{
    private static readonly Schema Bids = new([new Field("auction", DataType.Int64), new Field("price", DataType.Double), new Field("ts", DataType.Timestamp)], 2);

    [Fact]
    public async Task Malformed_lines_go_to_the_dead_letter_sink_with_file_and_line_and_the_rest_is_read()
    {
        using var dir = new TempFolder();
        dir.File("data/bids.ndjson",
            "{\"auction\":1,\"price\":1.5,\"ts\":\"2024-01-01T00:00:01Z\"}\n" +
            "{\"auction\":2,\"price\":\n" +
            "\n" +
            "{\"auction\":3,\"price\":3,\"ts\":1704067203000}\r\n" +
            "{\"auction\":\"four\",\"price\":4,\"ts\":1704067204000}\n" +
            "{\"auction\":5,\"price\":5.5,\"ts\":\"2024-01-01T00:00:05Z\"}");
        var letters = new DeadLetterList();
        var summary = new NdjsonDeadLetterSink();
        var pool = new BatchPool();
        var source = new FileSource(Context(Bids, dir.Path, new TeeDeadLetters(letters, summary), pool, null, ("path", "data/bids.ndjson"), ("format", "json")));
        using (var reader = source.OpenPartition(0, 0))
        {
            var rows = await ReadAll(reader);
            Assert.Equal(
                [new object?[] { 1L, 1.5, 1704067201000L }, [3L, 3.0, 1704067203000L], [5L, 5.5, 1704067205000L]],
                rows);
        }

        Assert.Equal(2, letters.Letters.Count);
        Assert.Equal(("s", "data/bids.ndjson:2"), (letters.Letters[0].Stream, letters.Letters[0].Location));
        Assert.StartsWith("malformed JSON at column 22: ", letters.Letters[0].Reason);
        Assert.DoesNotContain("LineNumber", letters.Letters[0].Reason);
        Assert.Equal("{\"auction\":2,\"price\":", letters.Letters[0].Raw);
        Assert.Equal("data/bids.ndjson:5", letters.Letters[1].Location);
        Assert.Equal("value 'four' is not a valid BIGINT", letters.Letters[1].Reason);
        Assert.Equal(["2 malformed lines in data/bids.ndjson, first at line 2: " + letters.Letters[0].Reason], summary.Summary());
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_glob_makes_one_partition_per_file_sorted_by_name()
    {
        using var dir = new TempFolder();
        dir.File("bids-2.ndjson", "{\"auction\":20}\n{\"auction\":21}\n");
        dir.File("bids-1.ndjson", "{\"auction\":10}\n");
        dir.File("bids-10.ndjson", "{\"auction\":100}\n");
        dir.File("other.ndjson", "{\"auction\":-1}\n");
        var source = new FileSource(Context(Bids, dir.Path, options: [("path", "bids-*.ndjson")]));
        Assert.Equal(3, source.PartitionCount);
        Assert.True(source.IsBounded);
        Assert.Equal(["bids-1.ndjson", "bids-10.ndjson", "bids-2.ndjson"], source.Files.Select(Path.GetFileName));
        var perPartition = new List<long[]>();
        for (var p = 0; p < source.PartitionCount; p++)
        {
            using var reader = source.OpenPartition(p, 0);
            perPartition.Add((await ReadAll(reader)).Select(r => (long)r[0]!).ToArray());
        }

        Assert.Equal([[10L], [100L], [20L, 21L]], perPartition);
    }

    [Fact]
    public async Task A_reader_resumes_exactly_at_a_byte_offset_with_the_right_line_numbers()
    {
        using var dir = new TempFolder();
        var text = new StringBuilder();
        for (var i = 0; i < 20_000; i++)
        {
            text.Append(i == 15_000 ? "not json\n" : $"{{\"auction\":{i},\"price\":{i}.5}}\n");
        }

        dir.File("big.ndjson", text.ToString());
        var letters = new DeadLetterList();
        var pool = new BatchPool();
        var source = new FileSource(Context(Bids, dir.Path, letters, pool, null, ("path", "big.ndjson")));
        long offset;
        var first = new List<object?[]>();
        using (var reader = source.OpenPartition(0, 0))
        {
            first.AddRange(await ReadAll(reader, maxBatches: 1));
            offset = reader.Offset;
        }

        Assert.Equal(BatchPool.DefaultCapacity, first.Count);
        var prefix = Encoding.UTF8.GetByteCount(string.Concat(Enumerable.Range(0, first.Count).Select(i => $"{{\"auction\":{i},\"price\":{i}.5}}\n")));
        Assert.Equal(prefix, offset);

        using (var resumed = source.OpenPartition(0, offset))
        {
            var rest = await ReadAll(resumed);
            Assert.Equal(Enumerable.Range(first.Count, 20_000 - first.Count).Where(i => i != 15_000).Select(i => (long)i), rest.Select(r => (long)r[0]!));
            Assert.Equal(new FileInfo(Path.Combine(dir.Path, "big.ndjson")).Length, resumed.Offset);
        }

        Assert.Equal("big.ndjson:15001", Assert.Single(letters.Letters).Location);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Lines_longer_than_the_read_buffer_are_read_whole()
    {
        using var dir = new TempFolder();
        var schema = new Schema([new Field("auction", DataType.Int64), new Field("extra", DataType.String)]);
        var huge = new string('x', 3_000_000);
        dir.File("long.ndjson", $"{{\"auction\":1,\"extra\":\"{huge}\"}}\n{{\"auction\":2,\"extra\":\"short\"}}\n{{\"auction\":3,\"extra\":\"{huge}y\"}}");
        var source = new FileSource(Context(schema, dir.Path, options: [("path", "long.ndjson")]));
        using var reader = source.OpenPartition(0, 0);
        var rows = await ReadAll(reader);
        Assert.Equal([1L, 2L, 3L], rows.Select(r => (long)r[0]!));
        Assert.Equal(huge, rows[0][1]);
        Assert.Equal("short", rows[1][1]);
        Assert.Equal(huge + "y", rows[2][1]);
    }

    [Fact]
    public async Task Csv_files_are_read_by_header_and_resume_after_the_header()
    {
        using var dir = new TempFolder();
        dir.File("bids.csv", "\uFEFFts,price,auction\r\n2024-01-01T00:00:01Z,1.5,1\r\n1704067202000,\"2\",2\r\nbad,3,3\r\n\"2024-01-01 00:00:04\",4,4\r\n");
        var letters = new DeadLetterList();
        var source = new FileSource(Context(Bids, dir.Path, letters, options: [("path", "bids.csv"), ("format", "csv")]));
        using var reader = source.OpenPartition(0, 0);
        Assert.Equal(
            [new object?[] { 1L, 1.5, 1704067201000L }, [2L, 2.0, 1704067202000L], [4L, 4.0, 1704067204000L]],
            await ReadAll(reader));
        Assert.Equal("bids.csv:4", Assert.Single(letters.Letters).Location);
        Assert.Equal("column 'ts': value 'bad' is not a valid TIMESTAMP(3)", letters.Letters[0].Reason);

        // Resuming at offset 0 must not read the header as data.
        using var again = source.OpenPartition(0, 0);
        Assert.Equal(3, (await ReadAll(again)).Count);
    }

    [Fact]
    public void Missing_files_bad_globs_and_unknown_formats_are_clear_errors_naming_the_path()
    {
        using var dir = new TempFolder();
        var missing = Assert.Throws<ConnectorException>(() => new FileSource(Context(Bids, dir.Path, options: [("path", "nope.ndjson")])));
        Assert.Contains("'nope.ndjson'", missing.Message);
        Assert.Contains("file not found", missing.Message);
        var noMatch = Assert.Throws<ConnectorException>(() => new FileSource(Context(Bids, dir.Path, options: [("path", "bids-*.ndjson")])));
        Assert.Contains("no file matches 'bids-*.ndjson'", noMatch.Message);
        var folderGlob = Assert.Throws<ConnectorException>(() => new FileSource(Context(Bids, dir.Path, options: [("path", "*/x.ndjson")])));
        Assert.Contains("wildcards are supported in the file name only", folderGlob.Message);
        dir.File("x.ndjson", "{}\n");
        var format = Assert.Throws<ConnectorException>(() => new FileSource(Context(Bids, dir.Path, options: [("path", "x.ndjson"), ("format", "xml")])));
        Assert.Equal("unknown format 'xml' (expected 'json', 'csv', 'arrow' or 'debezium-json')", format.Message);
        var noPath = Assert.Throws<ConnectorException>(() => new FileSource(Context(Bids, dir.Path)));
        Assert.Contains("needs a 'path' option", noPath.Message);
    }

    [Fact]
    public void Paths_escaping_the_allowed_root_are_refused_even_through_symlinks()
    {
        using var dir = new TempFolder();
        using var outside = new TempFolder();
        var secret = outside.File("secret.ndjson", "{\"auction\":1}\n");
        dir.File("root/ok.ndjson", "{\"auction\":1}\n");
        var root = Path.Combine(dir.Path, "root");
        File.CreateSymbolicLink(Path.Combine(root, "link.ndjson"), secret);
        Directory.CreateSymbolicLink(Path.Combine(root, "linkdir"), outside.Path);

        Assert.Single(new FileSource(Context(Bids, root, allowedRoot: root, options: [("path", "ok.ndjson")])).Files);
        foreach (var escape in new[] { "../root/../../" + Path.GetFileName(outside.Path) + "/secret.ndjson", secret, "link.ndjson", "linkdir/secret.ndjson", "linkdir/*.ndjson" })
        {
            var e = Assert.Throws<ConnectorException>(() => new FileSource(Context(Bids, root, allowedRoot: root, options: [("path", escape)])));
            Assert.Contains("outside the allowed directory", e.Message);
        }

        var sink = Assert.Throws<ConnectorException>(() => new FileSink(Context(Bids, root, allowedRoot: root, options: [("path", "linkdir/out")])));
        Assert.Contains("outside the allowed directory", sink.Message);
        Assert.False(Directory.Exists(Path.Combine(outside.Path, "out")));

        // Without a root the same links are followed.
        Assert.Single(new FileSource(Context(Bids, root, options: [("path", "link.ndjson")])).Files);
    }

    [Fact]
    public void The_catalog_registers_every_connector()
    {
        var registry = ConnectorCatalog.RegisterAll(new ConnectorRegistry());
        Assert.Equal(["arrow", "blackhole", "datagen", "file", "log", "nexmark", "print"], registry.Names);
        Assert.True(registry.TryGet("FILE", out var file));
        Assert.IsType<FileConnectorFactory>(file);
    }

    private sealed class TeeDeadLetters(params IDeadLetterSink[] sinks) : IDeadLetterSink
    {
        public void Report(DeadLetter letter)
        {
            foreach (var s in sinks)
            {
                s.Report(letter);
            }
        }
    }
}
