namespace Streams.Engine.Tests.Checkpoints;

/// <summary>A fresh state directory under the temp folder, deleted on dispose.</summary>
internal sealed class TempStateDirectory : IDisposable
{
    public TempStateDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "streams-chk-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
