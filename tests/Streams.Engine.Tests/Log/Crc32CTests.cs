using System.Text;
using Streams.Engine.Log;

namespace Streams.Engine.Tests.Log;

public sealed class Crc32CTests
{
    [Fact]
    public void MatchesTheStandardCheckValue() =>
        // The CRC-32C check value from the catalogue of parametrised CRCs: "123456789" -> 0xE3069283.
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void ThreeLaneResultEqualsTheSingleLaneOneForEveryShape()
    {
        var random = new Random(7);
        foreach (var length in new[] { 4095, 4096, 4097, 4100, 5000, 8191, 65536, 130_057, 1 << 20 })
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Crc32C.ComputeSimple(data), Crc32C.Compute(data));
            data[length / 2] ^= 1;
            Assert.Equal(Crc32C.ComputeSimple(data), Crc32C.Compute(data));
        }
    }
}
