using Streams.Engine.Connectors;

namespace Streams.Connectors.Files;

/// <summary>Resolves the <c>path</c> option: relative to the base directory, globs in the file name, the allowed-root check.</summary>
internal static class FilePaths
{
    private static readonly char[] Wildcards = ['*', '?'];

    /// <summary>The absolute path of <paramref name="path"/> relative to <paramref name="baseDirectory"/>, with <c>..</c> resolved.</summary>
    public static string Absolute(string path, string baseDirectory) =>
        Path.GetFullPath(path, Path.GetFullPath(string.IsNullOrEmpty(baseDirectory) ? "." : baseDirectory));

    /// <summary>The files a source reads: one file, every file matching a glob in the file name, or the files of a folder; sorted by name.</summary>
    public static IReadOnlyList<string> Expand(string option, string baseDirectory, string? allowedRoot)
    {
        var full = Absolute(option, baseDirectory);
        var name = Path.GetFileName(full);
        var folder = Path.GetDirectoryName(full) ?? "/";
        List<string> files;
        if (folder.IndexOfAny(Wildcards) >= 0)
        {
            throw new ConnectorException($"path '{option}': wildcards are supported in the file name only, not in folders");
        }

        if (name.IndexOfAny(Wildcards) >= 0)
        {

            CheckAllowed(option, folder, allowedRoot);
            if (!Directory.Exists(folder))
            {
                throw new ConnectorException($"path '{option}': folder '{folder}' does not exist");
            }

            var enumeration = new EnumerationOptions { MatchType = MatchType.Simple, MatchCasing = MatchCasing.CaseSensitive, RecurseSubdirectories = false };
            files = [.. Directory.EnumerateFiles(folder, name, enumeration)];
            if (files.Count == 0)
            {
                throw new ConnectorException($"path '{option}': no file matches '{name}' in '{folder}'");
            }
        }
        else if (Directory.Exists(full))
        {
            CheckAllowed(option, full, allowedRoot);
            files = [.. Directory.EnumerateFiles(full).Where(f => !Path.GetFileName(f).StartsWith('.'))];
            if (files.Count == 0)
            {
                throw new ConnectorException($"path '{option}': folder '{full}' holds no files");
            }
        }
        else
        {
            CheckAllowed(option, full, allowedRoot);
            if (!File.Exists(full))
            {
                throw new ConnectorException($"path '{option}': file not found ('{full}')");
            }

            files = [full];
        }

        files.Sort(StringComparer.Ordinal);
        foreach (var f in files)
        {
            CheckAllowed(option, f, allowedRoot);
        }

        return files;
    }

    /// <summary>Refuses <paramref name="full"/> when, after resolving <c>..</c> and symbolic links, it is not below <paramref name="allowedRoot"/>.</summary>
    public static void CheckAllowed(string option, string full, string? allowedRoot)
    {
        if (allowedRoot is null)
        {
            return;
        }

        var root = RealPath(Path.GetFullPath(allowedRoot)).TrimEnd('/');
        var real = RealPath(full);
        if (real != root && !real.StartsWith(root + "/", StringComparison.Ordinal) && root.Length > 0)
        {
            throw new ConnectorException($"path '{option}' is outside the allowed directory '{allowedRoot}'");
        }
    }

    /// <summary>The path with every symbolic link along it resolved (like realpath(3)); parts that do not exist yet are kept as written.</summary>
    public static string RealPath(string fullPath)
    {
        var pending = new Stack<string>(fullPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = "/";
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var next = Path.Join(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++hops > 40)
            {
                throw new ConnectorException($"path '{fullPath}': too many levels of symbolic links");
            }

            // Replace the link by its target and resolve that again (it may hold links and .. itself).
            if (Path.IsPathRooted(target))
            {
                current = "/";
            }

            foreach (var p in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(p);
            }
        }

        return current;
    }

    /// <summary>How a path shows in messages and dead-letter locations: relative to the base directory when below it.</summary>
    public static string Display(string full, string baseDirectory)
    {
        var relative = Path.GetRelativePath(Path.GetFullPath(string.IsNullOrEmpty(baseDirectory) ? "." : baseDirectory), full);
        return relative.StartsWith("..", StringComparison.Ordinal) ? full : relative;
    }
}
