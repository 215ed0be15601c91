using System.Diagnostics;
using System.Globalization;
using Streams.Engine.Connectors;
using Streams.Engine.Data;

namespace Streams.Connectors.Datagen;

/// <summary>
/// <c>connector='datagen'</c> as in Flink: generated rows, so pasted Flink examples run without external data.
/// Options: <c>rows-per-second</c> (default 10000; the rate limit), <c>number-of-rows</c> (total; unset = unbounded),
/// and per field <c>fields.NAME.kind</c> = <c>random</c> (default) | <c>sequence</c>; random numbers take <c>.min</c>/<c>.max</c>,
/// random strings <c>.length</c> (default 100), random timestamps <c>.max-past</c> (milliseconds before now, default 0);
/// sequences take <c>.start</c> and <c>.end</c> (both required) and end the source when exhausted. The source is bounded
/// when <c>number-of-rows</c> is set or any field is a sequence. <c>seed</c> (an extension) makes random values repeatable.
/// One partition; its offset is the number of rows produced.
/// </summary>
public sealed class DatagenConnectorFactory : IConnectorFactory
{
    /// <inheritdoc />
    public string Name => "datagen";

    /// <inheritdoc />
    public ISourceConnector CreateSource(ConnectorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var o = context.Options;
        var schema = context.Schema;
        var known = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "connector", "rows-per-second", "number-of-rows", "seed" };
        var fields = new FieldGenerator[schema.Count];
        long? limit = Long(o, "number-of-rows");
        for (var i = 0; i < schema.Count; i++)
        {
            var f = schema[i];
            var prefix = "fields." + f.Name.ToLowerInvariant() + ".";
            foreach (var suffix in new[] { "kind", "min", "max", "length", "start", "end", "max-past", "null-rate" })
            {
                known.Add(prefix + suffix);
            }

            var kind = Get(o, prefix + "kind") ?? "random";
            if (kind.Equals("sequence", StringComparison.OrdinalIgnoreCase))
            {
                var start = Long(o, prefix + "start") ?? throw new ConnectorException($"datagen: sequence field '{f.Name}' needs '{prefix}start'");
                var end = Long(o, prefix + "end") ?? throw new ConnectorException($"datagen: sequence field '{f.Name}' needs '{prefix}end'");
                if (end < start)
                {
                    throw new ConnectorException($"datagen: '{prefix}end' ({end}) is before '{prefix}start' ({start})");
                }

                if (f.Type is DataType.Boolean or DataType.Timestamp)
                {
                    throw new ConnectorException($"datagen: field '{f.Name}' of type {f.Type.SqlName()} cannot be a sequence");
                }

                fields[i] = new FieldGenerator(f.Type, true, start, 0, 0, 0);
                limit = Math.Min(limit ?? long.MaxValue, end - start + 1);
            }
            else if (kind.Equals("random", StringComparison.OrdinalIgnoreCase))
            {
                var (lo, hi) = f.Type switch
                {
                    DataType.Int32 => ((double)int.MinValue, (double)int.MaxValue),
                    DataType.Double or DataType.Decimal => (double.MinValue / 4, double.MaxValue / 4),
                    _ => ((double)long.MinValue, (double)long.MaxValue),
                };
                var min = Double(o, prefix + "min") ?? lo;
                var max = Double(o, prefix + "max") ?? hi;
                if (max < min)
                {
                    throw new ConnectorException($"datagen: '{prefix}max' ({max}) is below '{prefix}min' ({min})");
                }

                var length = (int)(Long(o, prefix + "length") ?? 100);
                if (length is < 0 or > 1_000_000)
                {
                    throw new ConnectorException($"datagen: '{prefix}length' must be between 0 and 1000000, not {length}");
                }

                fields[i] = new FieldGenerator(f.Type, false, 0, min, max, length, Long(o, prefix + "max-past") ?? 0);
            }
            else
            {
                throw new ConnectorException($"datagen: '{prefix}kind' must be 'random' or 'sequence', not '{kind}'");
            }
        }

        foreach (var key in o.Keys)
        {
            if (!known.Contains(key))
            {
                throw new ConnectorException($"datagen: unknown option '{key}' (fields.NAME.* must name a declared column)");
            }
        }

        var rate = Double(o, "rows-per-second") ?? 10_000;
        if (rate <= 0)
        {
            throw new ConnectorException($"datagen: 'rows-per-second' must be positive, not {rate}");
        }

        return new DatagenSource(schema, fields, limit, rate, Long(o, "seed") ?? 0, context.Pool);
    }

    /// <inheritdoc />
    public ISinkConnector CreateSink(ConnectorContext context) =>
        throw new ConnectorException($"table '{context?.StreamName}': connector 'datagen' can only be read");

    private static string? Get(IReadOnlyDictionary<string, string> o, string key) => o.TryGetValue(key, out var v) ? v : null;

    private static long? Long(IReadOnlyDictionary<string, string> o, string key) =>
        Get(o, key) is not { } v ? null
        : long.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
        : throw new ConnectorException($"datagen: option '{key}' must be an integer, not '{v}'");

    private static double? Double(IReadOnlyDictionary<string, string> o, string key) =>
        Get(o, key) is not { } v ? null
        : double.TryParse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n
        : throw new ConnectorException($"datagen: option '{key}' must be a number, not '{v}'");
}

/// <summary>How one field is generated.</summary>
internal sealed record FieldGenerator(DataType Type, bool Sequence, long Start, double Min, double Max, int Length, long MaxPastMs = 0);

/// <summary>The datagen source: one partition producing rows into typed columns at a limited rate.</summary>
public sealed class DatagenSource : ISourceConnector
{
    private readonly Schema _schema;
    private readonly FieldGenerator[] _fields;
    private readonly long? _limit;
    private readonly double _rate;
    private readonly long _seed;
    private readonly BatchPool _pool;

    internal DatagenSource(Schema schema, FieldGenerator[] fields, long? limit, double rate, long seed, BatchPool pool)
    {
        _schema = schema;
        _fields = fields;
        _limit = limit;
        _rate = rate;
        _seed = seed;
        _pool = pool;
    }

    /// <inheritdoc />
    public int PartitionCount => 1;

    /// <inheritdoc />
    public bool IsBounded => _limit is not null;

    /// <inheritdoc />
    public ISourceReader OpenPartition(int partition, long offset) => new Reader(this, offset);

    private sealed class Reader(DatagenSource source, long offset) : ISourceReader
    {
        private const string Letters = "abcdefghijklmnopqrstuvwxyz0123456789";
        private readonly Random _random = new((int)(source._seed ^ offset));
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly long _startOffset = offset;

        public long Offset { get; private set; } = offset;

        public async ValueTask<ColumnBatch?> ReadAsync(CancellationToken cancellationToken)
        {
            var remaining = source._limit is { } limit ? limit - Offset : long.MaxValue;
            if (remaining <= 0)
            {
                return null;
            }

            // Rows allowed by now at the configured rate; wait when ahead of it.
            var produced = Offset - _startOffset;
            var due = TimeSpan.FromSeconds(produced / source._rate) - _clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken).ConfigureAwait(false);
            }

            var batch = source._pool.Rent(source._schema);
            var perTick = (long)Math.Max(1, Math.Ceiling(source._rate / 10));
            var n = (int)Math.Min(Math.Min(batch.Capacity, remaining), perTick);
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (var c = 0; c < source._fields.Length; c++)
            {
                Fill(source._fields[c], batch.Columns[c], n, now);
            }

            batch.Count = n;
            Offset += n;
            return batch;
        }

        private void Fill(FieldGenerator g, Column column, int n, long now)
        {
            var first = g.Start + Offset;
            switch (column)
            {
                case Column<int> ints:
                    for (var i = 0; i < n; i++)
                    {
                        ints.Values[i] = g.Sequence ? (int)(first + i) : (int)Math.Round(g.Min + (_random.NextDouble() * (g.Max - g.Min)));
                    }

                    break;
                case Column<long> longs when g.Type == DataType.Timestamp:
                    for (var i = 0; i < n; i++)
                    {
                        longs.Values[i] = now - (g.MaxPastMs <= 0 ? 0 : _random.NextInt64(g.MaxPastMs + 1));
                    }

                    break;
                case Column<long> longs:
                    for (var i = 0; i < n; i++)
                    {
                        longs.Values[i] = g.Sequence ? first + i : (long)Math.Round(g.Min + (_random.NextDouble() * (g.Max - g.Min)));
                    }

                    break;
                case Column<double> doubles:
                    for (var i = 0; i < n; i++)
                    {
                        doubles.Values[i] = g.Sequence ? first + i : g.Min + (_random.NextDouble() * (g.Max - g.Min));
                    }

                    break;
                case Column<decimal> decimals:
                    for (var i = 0; i < n; i++)
                    {
                        decimals.Values[i] = g.Sequence ? first + i : (decimal)Math.Round(g.Min + (_random.NextDouble() * (g.Max - g.Min)), 2);
                    }

                    break;
                case Column<bool> bools:
                    for (var i = 0; i < n; i++)
                    {
                        bools.Values[i] = _random.Next(2) == 1;
                    }

                    break;
                case Column<string?> strings:
                    for (var i = 0; i < n; i++)
                    {
                        strings.Values[i] = g.Sequence ? (first + i).ToString(CultureInfo.InvariantCulture) : RandomString(g.Length);
                    }

                    break;
            }
        }

        private string RandomString(int length) => string.Create(length, _random, static (span, random) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Letters[random.Next(Letters.Length)];
            }
        });

        public void Dispose()
        {
        }
    }
}
