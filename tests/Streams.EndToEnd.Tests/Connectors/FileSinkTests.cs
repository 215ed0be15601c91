using Streams.Connectors.Blackhole;
using Streams.Connectors.Files;
using Streams.Engine.Data;
using static Streams.EndToEnd.Tests.Connectors.ConnectorTestKit;

namespace Streams.EndToEnd.Tests.Connectors;

public sealed class FileSinkTests
{
    private static readonly Schema Schema = new([new Field("k", DataType.String), new Field("v", DataType.Int64)]);

    private static string[] Visible(string folder) =>
        Directory.GetFiles(folder).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Two_phase_commit_keeps_rows_invisible_until_commit()
    {
        using var dir = new TempFolder();
        var pool = new BatchPool();
        var sink = new FileSink(Context(Schema, dir.Path, pool: pool, options: [("path", "out"), ("format", "json")]));
        var folder = Path.Combine(dir.Path, "out");
        using (var writer = sink.OpenWriter(0))
        {
            using (var b = Batch(pool, Schema, ["a", 1L], ["b", 2L]))
            {
                writer.Write(b);
            }

            writer.Flush();
            Assert.Empty(Visible(folder));
            writer.PreCommit(1);
            Assert.Empty(Visible(folder));
            Assert.Single(Directory.GetFiles(folder, ".part-0000-000000.ndjson.ckpt-1.pending"));

            using (var b = Batch(pool, Schema, ["c", 3L]))
            {
                writer.Write(b);
            }

            writer.PreCommit(2);
            writer.Commit(1);
            Assert.Equal(["part-0000-000000.ndjson"], Visible(folder));
            Assert.Equal("{\"k\":\"a\",\"v\":1}\n{\"k\":\"b\",\"v\":2}\n", File.ReadAllText(Path.Combine(folder, "part-0000-000000.ndjson")));

            using (var b = Batch(pool, Schema, ["d", 4L]))
            {
                writer.Write(b);
            }

            writer.PreCommit(3);
            writer.Commit(3);
            Assert.Equal(["part-0000-000000.ndjson", "part-0000-000001.ndjson", "part-0000-000002.ndjson"], Visible(folder));

            using (var b = Batch(pool, Schema, ["e", 5L]))
            {
                writer.Write(b);
            }

            // Rows after the last checkpoint are not published when the writer closes: they are replayed after a restore.
        }

        Assert.Equal(3, Visible(folder).Length);
        Assert.Single(Directory.GetFiles(folder, ".*.inprogress"));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Recovery_publishes_pending_files_of_completed_checkpoints_and_drops_the_rest()
    {
        using var dir = new TempFolder();
        var pool = new BatchPool();
        var sink = new FileSink(Context(Schema, dir.Path, pool: pool, options: [("path", "out")]));
        var writer = sink.OpenWriter(3);
        foreach (var checkpoint in new long[] { 1, 2 })
        {
            using var b = Batch(pool, Schema, ["x", checkpoint]);
            writer.Write(b);
            writer.PreCommit(checkpoint);
        }

        using (var b = Batch(pool, Schema, ["y", 9L]))
        {
            writer.Write(b);
            writer.Flush();
        }

        // A crash here: checkpoint 1 completed but its commit never ran; checkpoint 2 never completed.
        sink.RecoverAfterRestore(lastCompletedCheckpoint: 1);
        var folder = Path.Combine(dir.Path, "out");
        Assert.Equal(["part-0003-000000.ndjson"], Visible(folder));
        Assert.Empty(Directory.GetFiles(folder, ".*"));
        Assert.Equal("{\"k\":\"x\",\"v\":1}\n", File.ReadAllText(Path.Combine(folder, "part-0003-000000.ndjson")));

        // A new writer for the task continues the numbering after the surviving files.
        using var next = new FileSink(Context(Schema, dir.Path, pool: pool, options: [("path", "out")])).OpenWriter(3);
        using (var b = Batch(pool, Schema, ["z", 1L]))
        {
            next.Write(b);
        }

        next.Dispose();
        Assert.Equal(["part-0003-000000.ndjson", "part-0003-000001.ndjson"], Visible(folder));
        Assert.Equal("{\"k\":\"z\",\"v\":1}\n", File.ReadAllText(Path.Combine(folder, "part-0003-000001.ndjson")));
        writer.Dispose();
    }

    [Fact]
    public async Task Without_checkpoints_a_closed_writer_publishes_and_csv_reads_back()
    {
        using var dir = new TempFolder();
        var pool = new BatchPool();
        var sink = new FileSink(Context(Schema, dir.Path, pool: pool, options: [("path", "out"), ("format", "csv")]));
        using (var writer = sink.OpenWriter(0))
        {
            using var b = Batch(pool, Schema, ["a,b", 1L], [null, 2L], ["", null]);
            b.FilterOut(1);
            writer.Write(b);
        }

        var folder = Path.Combine(dir.Path, "out");
        Assert.Equal(["part-0000-000000.csv"], Visible(folder));
        Assert.Equal("k,v\n\"a,b\",1\n\"\",\n", File.ReadAllText(Path.Combine(folder, "part-0000-000000.csv")));
        var source = new FileSource(Context(Schema, dir.Path, pool: pool, options: [("path", "out/*.csv")]));
        using var reader = source.OpenPartition(0, 0);
        Assert.Equal([new object?[] { "a,b", 1L }, ["", null]], await ReadAll(reader));
    }

    [Fact]
    public void Stdout_writer_and_blackhole_count_live_rows()
    {
        var pool = new BatchPool();
        using var output = new MemoryStream();
        var blackhole = new BlackholeSink();
        using (var stdout = new NdjsonStreamSinkWriter(Schema, output, changelog: true))
        using (var hole = blackhole.OpenWriter(0))
        using (var b = Batch(pool, Schema, ["a", 1L], ["b", 2L], ["c", 3L]))
        {
            b.FilterOut(0);
            b.SetKind(2, RowKind.Delete);
            stdout.Write(b);
            hole.Write(b);
            hole.Write(b);
            stdout.Flush();
            Assert.Equal(2, stdout.RowsWritten);
        }

        Assert.Equal("{\"op\":\"+I\",\"k\":\"b\",\"v\":2}\n{\"op\":\"-D\",\"k\":\"c\",\"v\":3}\n", System.Text.Encoding.UTF8.GetString(output.ToArray()));
        Assert.True(output.CanWrite);
        Assert.Equal(4, blackhole.Rows);
        Assert.Equal(2, blackhole.Batches);
    }
}
