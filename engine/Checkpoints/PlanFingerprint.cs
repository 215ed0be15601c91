using System.Security.Cryptography;
using System.Text;

namespace Streams.Engine.Checkpoints;

/// <summary>
/// Identifies a physical plan for checkpoint compatibility: the SHA-256 (first 16 bytes, hex) of a canonical text
/// that lists every operator id with its kind, key and state layout. Two plans that would read each other's state
/// wrongly must produce different texts.
/// </summary>
public static class PlanFingerprint
{
    /// <summary>The fingerprint of <paramref name="canonicalPlan"/>.</summary>
    public static string Of(string canonicalPlan)
    {
        ArgumentNullException.ThrowIfNull(canonicalPlan);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(canonicalPlan), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }
}
