using System.Runtime.InteropServices;

namespace Streams.Engine.Checkpoints;

/// <summary>
/// Crash-safe file publication: write to a temporary name, fsync it, rename over the final name, fsync the directory.
/// After a crash the final name holds either the old content or the complete new content, never a torn mix.
/// </summary>
internal static partial class DurableFile
{
    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="content"/>.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Flushes a file's data to stable storage.</summary>
    public static void SyncFile(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        using var stream = new FileStream(handle, FileAccess.ReadWrite, 1);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Makes renames and creations inside <paramref name="directory"/> durable (fsync on the directory itself).</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return; // Windows has no directory fsync; NTFS journals the rename metadata itself.
        }

        var fd = Open(directory, ReadOnlyDirectory);
        if (fd < 0)
        {
            ThrowIo("open", directory, Marshal.GetLastPInvokeError());
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                ThrowIo("fsync", directory, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // O_RDONLY | O_DIRECTORY on Linux (O_DIRECTORY = 0x10000); macOS ignores unknown bits for a directory open of O_RDONLY.
    private static int ReadOnlyDirectory => OperatingSystem.IsLinux() ? 0x10000 : 0;

    private static void ThrowIo(string call, string directory, int errno) =>
        throw new IOException($"{call}({directory}) failed with errno {errno}: the checkpoint directory is not durable.");

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
