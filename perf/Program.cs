using BenchmarkDotNet.Running;

namespace Streams.Perf;

/// <summary>Entry point of the BenchmarkDotNet suite: <c>dotnet run -c Release --project perf -- --filter *</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
