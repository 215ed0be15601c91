using System.Numerics;
using System.Runtime.CompilerServices;
using Streams.Engine.Data;

namespace Streams.Engine.Operators.Joins;

/// <summary>
/// Hashes the key columns of a whole batch at once, column by column (a tight loop per column type), into a scratch array
/// of hashes plus a flag per row whose key holds a NULL. Both sides of a join hash with the same function, so equal keys of
/// equal types get equal hashes.
/// </summary>
internal sealed class JoinKeyHasher(int[] keyColumns)
{
    private int[] _hashes = new int[BatchPool.DefaultCapacity];
    private bool[] _nullKey = new bool[BatchPool.DefaultCapacity];

    /// <summary>The key columns of the side this hasher reads.</summary>
    public int[] KeyColumns { get; } = keyColumns;

    /// <summary>Per-row hashes of the last hashed batch.</summary>
    public int[] Hashes => _hashes;

    /// <summary>Per-row "key contains NULL" flags of the last hashed batch (such keys never match).</summary>
    public bool[] NullKey => _nullKey;

    /// <summary>Hashes the key of every row of <paramref name="batch"/> (filtered rows too: cheaper than branching).</summary>
    public void Hash(ColumnBatch batch)
    {
        var n = batch.Count;
        if (_hashes.Length < n)
        {
            _hashes = new int[Math.Max(n, _hashes.Length * 2)];
            _nullKey = new bool[_hashes.Length];
        }

        var hashes = _hashes.AsSpan(0, n);
        var nulls = _nullKey.AsSpan(0, n);
        hashes.Fill(unchecked((int)0x9E3779B9));
        nulls.Clear();
        foreach (var k in KeyColumns)
        {
            var column = batch.Columns[k];
            switch (column.Type)
            {
                case DataType.Int64:
                case DataType.Timestamp:
                    {
                        var v = ((Column<long>)column).Values;
                        for (var i = 0; i < n; i++)
                        {
                            hashes[i] = Mix(hashes[i], (ulong)v[i]);
                        }

                        break;
                    }

                case DataType.Int32:
                    {
                        var v = ((Column<int>)column).Values;
                        for (var i = 0; i < n; i++)
                        {
                            hashes[i] = Mix(hashes[i], (ulong)v[i]);
                        }

                        break;
                    }

                case DataType.Boolean:
                    {
                        var v = ((Column<bool>)column).Values;
                        for (var i = 0; i < n; i++)
                        {
                            hashes[i] = Mix(hashes[i], v[i] ? 1UL : 0UL);
                        }

                        break;
                    }

                case DataType.Double:
                    {
                        var v = ((Column<double>)column).Values;
                        for (var i = 0; i < n; i++)
                        {
                            // -0.0 equals 0.0 and every NaN equals NaN, so they must hash alike.
                            var d = v[i];
                            var bits = d == 0 ? 0UL : double.IsNaN(d) ? 0x7FF8000000000000UL : BitConverter.DoubleToUInt64Bits(d);
                            hashes[i] = Mix(hashes[i], bits);
                        }

                        break;
                    }

                case DataType.Decimal:
                    {
                        var v = ((Column<decimal>)column).Values;
                        for (var i = 0; i < n; i++)
                        {
                            hashes[i] = Mix(hashes[i], (uint)v[i].GetHashCode());
                        }

                        break;
                    }

                case DataType.String:
                    {
                        var v = ((Column<string?>)column).Values;
                        for (var i = 0; i < n; i++)
                        {
                            hashes[i] = Mix(hashes[i], (uint)(v[i]?.GetHashCode() ?? 0));
                        }

                        break;
                    }

                default:
                    ThrowUnsupported(column.Type);
                    break;
            }

            if (column.HasNulls)
            {
                for (var i = 0; i < n; i++)
                {
                    nulls[i] |= column.IsNull(i);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Mix(int hash, ulong value)
    {
        // A multiply-rotate mix (wyhash-style): cheap, and spreads sequential ids over all bucket bits.
        var x = (value ^ (uint)hash) * 0x9E3779B97F4A7C15UL;
        return (int)(BitOperations.RotateLeft(x, 29) ^ (x >> 32));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnsupported(DataType type) => throw new NotSupportedException($"join keys of type {type.SqlName()} are not supported");
}
