namespace Streams.Engine.Tests.Log;

/// <summary>A temp data directory removed at the end of a test.</summary>
internal sealed class LogTestDirectory : IDisposable
{
    public LogTestDirectory() => Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "streams-log-" + Guid.NewGuid().ToString("N"));

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
