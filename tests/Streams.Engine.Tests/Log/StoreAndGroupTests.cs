using Streams.Engine.Log;

namespace Streams.Engine.Tests.Log;

public sealed class StoreAndGroupTests : IDisposable
{
    private readonly LogTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AForeignDirectoryIsRefusedAndAnEmptyOneIsAdopted()
    {
        Directory.CreateDirectory(_dir.Path);
        File.WriteAllText(Path.Combine(_dir.Path, "thesis.docx"), "precious");
        var e = Assert.Throws<LogException>(() => LogStore.Open(_dir.Path));
        Assert.Contains("is not a Streams data directory", e.Message);
        Assert.Equal(["thesis.docx"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));

        File.Delete(Path.Combine(_dir.Path, "thesis.docx"));
        using var store = LogStore.Open(_dir.Path);
        Assert.True(File.Exists(Path.Combine(_dir.Path, LogStore.MarkerFile)));
    }

    [Fact]
    public void BadTopicRequestsGetClearErrors()
    {
        using var store = LogStore.Open(_dir.Path);
        Assert.Contains("invalid topic name '../etc'", Assert.Throws<LogException>(() => store.CreateTopic("../etc", new TopicConfig())).Message);
        Assert.Contains("at least 1 partition", Assert.Throws<LogException>(() => store.CreateTopic("t", new TopicConfig { Partitions = 0 })).Message);
        store.CreateTopic("known", new TopicConfig());
        var unknown = Assert.Throws<LogException>(() => store.OpenTopic("nope")).Message;
        Assert.Contains("unknown topic 'nope'", unknown);
        Assert.Contains("known", unknown);
        Assert.Contains("already exists", Assert.Throws<LogException>(() => store.CreateTopic("known", new TopicConfig())).Message);
        Assert.Equal(["known"], store.TopicNames());
    }

    [Fact]
    public void CommittedOffsetsAreDurableAndLagTrendFollowsTheSamples()
    {
        using (var store = LogStore.Open(_dir.Path))
        {
            store.CreateTopic("t", new TopicConfig { Partitions = 2 });
            var end = 100L;
            foreach (var committed in new long[] { 10, 20, 25, 28 })
            {
                end += 40;
                store.Groups.Commit("g", "t", new Dictionary<int, long> { [0] = committed, [1] = end - 1 }, _ => end);
            }
        }

        using (var store = LogStore.Open(_dir.Path))
        {
            Assert.Equal(28, store.Groups.Committed("g", "t", 0));
            Assert.Null(store.Groups.Committed("g", "t", 5));
            Assert.Null(store.Groups.Committed("other", "t", 0));
            var rows = store.Groups.Describe((_, p) => p == 0 ? 300 : 260);
            Assert.Equal(2, rows.Count);
            Assert.Equal(272, rows[0].Lag);
            Assert.Equal(LagTrend.Rising, rows[0].Trend);
            Assert.Equal(LagTrend.Steady, rows[1].Trend);
            Assert.Empty(Directory.GetFiles(Path.Combine(_dir.Path, "groups"), "*.tmp"));
        }

        Assert.Equal(LagTrend.Falling, ConsumerGroups.TrendOf([50, 40, 40, 10]));
        Assert.Equal(LagTrend.Unknown, ConsumerGroups.TrendOf([50, 40]));
        Assert.Equal(LagTrend.Steady, ConsumerGroups.TrendOf([50, 60, 40, 70]));
    }

    [Fact]
    public async Task ASecondOpenOfATopicIsReadOnlyAndFollowsTheWriter()
    {
        using var writerStore = LogStore.Open(_dir.Path);
        var writer = writerStore.CreateTopic("t", new TopicConfig { Fsync = FsyncMode.Never });
        using var readerStore = LogStore.Open(_dir.Path);
        var reader = readerStore.OpenTopic("t");
        Assert.True(writer.IsWritable);
        Assert.False(reader.IsWritable);
        using var b = new RecordBatchBuilder();
        Assert.True(b.TryAdd("k"u8, "v"u8, 1));
        Assert.Throws<LogException>(() => reader.Partitions[0].Append(b));
        writer.Partitions[0].Append(b);
        await reader.Partitions[0].WaitForDataAsync(0, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, reader.Partitions[0].EndOffset);
    }
}
