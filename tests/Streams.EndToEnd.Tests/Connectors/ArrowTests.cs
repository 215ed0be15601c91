using Apache.Arrow;
using Apache.Arrow.Ipc;
using Streams.Connectors.Arrow;
using Streams.Connectors.Files;
using Streams.Engine.Connectors;
using Streams.Engine.Data;
using static Streams.EndToEnd.Tests.Connectors.ConnectorTestKit;
using Field = Streams.Engine.Data.Field;
using Schema = Streams.Engine.Data.Schema;

namespace Streams.EndToEnd.Tests.Connectors;

public sealed class ArrowTests
{
    private static readonly Schema AllTypes = new(
    [
        new Field("id", DataType.Int64), new Field("n", DataType.Int32), new Field("price", DataType.Double),
        new Field("amount", DataType.Decimal), new Field("name", DataType.String), new Field("ok", DataType.Boolean),
        new Field("ts", DataType.Timestamp),
    ], 6);

    [Fact]
    public async Task Batches_round_trip_through_arrow_ipc_files()
    {
        using var dir = new TempFolder();
        var pool = new BatchPool();
        var rows = new List<object?[]>();
        for (var i = 0; i < 5_000; i++)
        {
            rows.Add(i % 7 == 3
                ? [null, null, null, null, null, null, null]
                : [(long)i * 1_000_000_007L, i - 5000, i / 3.0, i / 8m, "name-" + i, i % 2 == 0, 1704067200000L + i]);
        }

        var sink = new ArrowConnectorFactory().CreateSink(Context(AllTypes, dir.Path, pool: pool, options: [("path", "out")]));
        using (var writer = sink.OpenWriter(0))
        {
            foreach (var chunk in rows.Chunk(2000))
            {
                using var batch = Batch(pool, AllTypes, chunk);
                batch.FilterOut(0);
                writer.Write(batch);
            }
        }

        var expected = rows.Chunk(2000).SelectMany(c => c.Skip(1)).ToList();
        var file = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "out"), "*.arrow"));

        // Another Arrow reader sees the declared types.
        using (var stream = File.OpenRead(file))
        using (var reader = new ArrowFileReader(stream))
        {
            var first = reader.ReadNextRecordBatch();
            Assert.Equal(["id", "n", "price", "amount", "name", "ok", "ts"], first.Schema.FieldsList.Select(f => f.Name));
            Assert.IsType<TimestampArray>(first.Column(6));
            Assert.Equal(expected[0][6], ((TimestampArray)first.Column(6)).Values[0]);
        }

        var source = new FileSource(Context(AllTypes, dir.Path, pool: pool, options: [("path", "out/*.arrow")]));
        Assert.Equal(FileFormat.Arrow, source.Format);
        long offset;
        List<object?[]> read;
        using (var reader = source.OpenPartition(0, 0))
        {
            read = await ReadAll(reader, maxBatches: 1);
            offset = reader.Offset;
        }

        Assert.Equal(read.Count, offset);
        using (var resumed = source.OpenPartition(0, offset))
        {
            read.AddRange(await ReadAll(resumed));
        }

        Assert.Equal(expected, read);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Arrow_stream_form_with_other_types_and_units_is_read_and_converted()
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "in.arrows");
        var arrowSchema = new Apache.Arrow.Schema.Builder()
            .Field(new Apache.Arrow.Field("ID", Apache.Arrow.Types.Int32Type.Default, true))
            .Field(new Apache.Arrow.Field("ts", new Apache.Arrow.Types.TimestampType(Apache.Arrow.Types.TimeUnit.Microsecond, "UTC"), true))
            .Field(new Apache.Arrow.Field("unused", Apache.Arrow.Types.StringType.Default, true))
            .Build();
        var ids = new Int32Array.Builder().Append(1).AppendNull().Append(3).Build();
        var ts = new TimestampArray.Builder(new Apache.Arrow.Types.TimestampType(Apache.Arrow.Types.TimeUnit.Microsecond, "UTC"))
            .Append(DateTimeOffset.FromUnixTimeMilliseconds(1000)).Append(DateTimeOffset.FromUnixTimeMilliseconds(2500)).AppendNull().Build();
        var unused = new StringArray.Builder().Append("a").Append("b").Append("c").Build();
        using (var stream = File.Create(path))
        using (var writer = new ArrowStreamWriter(stream, arrowSchema))
        {
            writer.WriteRecordBatch(new RecordBatch(arrowSchema, [ids, ts, unused], 3));
            writer.WriteEnd();
        }

        var schema = new Schema([new Field("id", DataType.Int64), new Field("ts", DataType.Timestamp), new Field("missing", DataType.String)]);
        var source = new ArrowConnectorFactory().CreateSource(Context(schema, dir.Path, options: [("path", "in.arrows")]));
        using var reader = source.OpenPartition(0, 0);
        Assert.Equal([new object?[] { 1L, 1000L, null }, [null, 2500L, null], [3L, null, null]], await ReadAll(reader));

        var wrong = new Schema([new Field("unused", DataType.Int64)]);
        using var bad = new ArrowConnectorFactory().CreateSource(Context(wrong, dir.Path, options: [("path", "in.arrows")])).OpenPartition(0, 0);
        var e = await Assert.ThrowsAsync<ConnectorException>(async () => await bad.ReadAsync(CancellationToken.None));
        Assert.Contains("column 'unused' has Arrow type", e.Message);
    }
}
