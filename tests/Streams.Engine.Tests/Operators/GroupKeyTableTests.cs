using Streams.Engine.Data;
using Streams.Engine.Operators.Aggregates;
using Streams.Engine.Tests.Joins;

namespace Streams.Engine.Tests.Operators;

/// <summary>Key interning for one BIGINT key: small keys take the direct index, and forgetting keys renumbers both paths.</summary>
public class GroupKeyTableTests : PooledBatchTest
{
    private static readonly Schema Keys = new([new Field("k", DataType.Int64)]);

    private int[] Lookup(GroupKeyTable table, params long?[] keys)
    {
        using var batch = Batches.Of(Pool, Keys, keys.Select(k => new object?[] { k }).ToList());
        var ids = new int[batch.Capacity];
        table.Lookup(batch, ids);
        return ids[..keys.Length];
    }

    [Fact]
    public void Small_large_negative_and_null_keys_get_stable_dense_ids()
    {
        var table = new GroupKeyTable(Keys, [0]);
        var first = Lookup(table, 3, 1L << 40, -7, null, 3, 900_000, 0);
        Assert.Equal([0, 1, 2, 3, 0, 4, 5], first);
        Assert.Equal(first, Lookup(table, 3, 1L << 40, -7, null, 3, 900_000, 0));
    }

    [Fact]
    public void After_retaining_some_keys_every_key_maps_to_its_new_id()
    {
        var table = new GroupKeyTable(Keys, [0]);
        Assert.Equal([0, 1, 2, 3, 4, 5], Lookup(table, 10, 11, 12, 13, 14, 1L << 40));
        var remap = new int[table.Count];
        table.Retain([3, 5, 1], remap);
        // Kept keys are renumbered 0..2 in the order given; forgotten ones come back as new ids.
        Assert.Equal([0, 1, 2, 3, 4], Lookup(table, 13, 1L << 40, 11, 10, 12));
    }
}
