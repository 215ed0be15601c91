using Streams.Engine.Data;

namespace Streams.Engine.Tests;

/// <summary>Base class for tests that run pipelines: each test gets its own pool and fails if any batch was not returned.</summary>
public abstract class PooledBatchTest : IDisposable
{
    protected BatchPool Pool { get; } = new();

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        Assert.True(Pool.Outstanding == 0, $"{Pool.Outstanding} pooled batch(es) leaked: someone neither passed a batch on nor disposed it");
    }
}
