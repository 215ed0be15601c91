using Streams.Engine.Connectors;
using Streams.Engine.Data;
using Streams.Query.Binding;
using Streams.Query.Execution;
using Streams.Query.Planning;
using Streams.Query.Syntax;

namespace Streams.Query;

/// <summary>What a prepared statement does when run.</summary>
public enum StatementKind
{
    /// <summary>CREATE / DROP: already applied to the catalog while preparing.</summary>
    Ddl,

    /// <summary>SELECT: result rows go to the output.</summary>
    Query,

    /// <summary>INSERT INTO: result rows go to the target's sink connector.</summary>
    Insert,

    /// <summary>EXPLAIN: the plan as text.</summary>
    Explain,

    /// <summary>SHOW / DESCRIBE: a small table of rows.</summary>
    Rows,
}

/// <summary>A statement that parsed, bound and planned; <see cref="RunAsync"/> executes it.</summary>
public sealed class PreparedStatement
{
    private readonly JobContext _context;

    internal PreparedStatement(StatementKind kind, SourcePosition position, JobContext context)
    {
        Kind = kind;
        Position = position;
        _context = context;
    }

    /// <summary>What the statement does.</summary>
    public StatementKind Kind { get; }

    /// <summary>Where the statement starts in the script.</summary>
    public SourcePosition Position { get; }

    /// <summary>The EXPLAIN text, for <see cref="StatementKind.Explain"/>.</summary>
    public string? Text { get; internal init; }

    /// <summary>The columns of the result rows (queries, SHOW, DESCRIBE), or null.</summary>
    public Schema? OutputSchema => Plan?.Schema ?? RowsSchema;

    /// <summary>True when the result changes over time (GROUP BY without a window, regular joins, Top-N).</summary>
    public bool IsUpdating => Plan?.IsUpdating ?? false;

    internal LogicalNode? Plan { get; init; }

    internal CatalogEntry? Target { get; init; }

    internal SqlCheckpointOptions? Checkpoints { get; init; }

    internal Schema? RowsSchema { get; init; }

    internal IReadOnlyList<object?[]>? Rows { get; init; }

    /// <summary>
    /// Runs the statement. A query whose result updates prints its final result once bounded input ends, unless
    /// <paramref name="changelog"/> asks for every change (the output writer then prints each row's kind).
    /// </summary>
    public async Task RunAsync(ISqlOutput output, bool changelog = false, CancellationToken cancellationToken = default)
    {
        switch (Kind)
        {
            case StatementKind.Ddl:
                return;
            case StatementKind.Explain:
                output.WriteText(Text!);
                return;
            case StatementKind.Rows:
                {
                    using var writer = output.OpenRows(RowsSchema!);
                    WriteRows(writer, RowsSchema!, Rows!, _context.Pool);
                    writer.Flush();
                    return;
                }

            case StatementKind.Query:
                {
                    using var writer = output.OpenRows(Plan!.Schema);
                    await RunInto(writer, changelog, cancellationToken).ConfigureAwait(false);
                    writer.Flush();
                    return;
                }

            case StatementKind.Insert:
                {
                    var sink = QueryJob.CreateSink(Target!, _context);
                    if (!Plan!.IsUpdating && Plan is not SortLimitNode && Checkpoints is not null)
                    {
                        await SqlCheckpointing.RunInsertAsync(Plan, Target!, sink, _context, Checkpoints, cancellationToken).ConfigureAwait(false);
                        return;
                    }

                    if (Checkpoints is not null)
                    {
                        throw new NotSupportedException("--state-dir: an INSERT INTO of an updating query (GROUP BY without a window, ORDER BY/LIMIT) cannot be checkpointed yet");
                    }

                    if (!Plan!.IsUpdating && Plan is not SortLimitNode)
                    {
                        var job = QueryJob.BuildInsert(Plan, sink, _context);
                        await job.RunAsync(cancellationToken).ConfigureAwait(false);
                        return;
                    }

                    using var writer = sink.OpenWriter(0);
                    // A changelog sink (debezium-json) takes every change; any other gets the final result.
                    await RunInto(writer, changelog || Target!.IsChangelog, cancellationToken).ConfigureAwait(false);
                    writer.Flush();
                    return;
                }
        }
    }

    private async Task RunInto(ISinkWriter writer, bool changelog, CancellationToken cancellationToken)
    {
        var root = Plan!;
        SortLimitNode? sort = null;
        if (root is SortLimitNode s)
        {
            sort = s;
            root = s.Input;
        }

        if (changelog || (!root.IsUpdating && sort is null))
        {
            var job = QueryJob.Build(root, writer.Write, _context);
            await job.RunAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var result = new FinalResult(root.Schema);
        var j = QueryJob.Build(root, result.Apply, _context);
        await j.RunAsync(cancellationToken).ConfigureAwait(false);
        WriteRows(writer, root.Schema, result.Rows(sort), _context.Pool);
    }

    internal static void WriteRows(ISinkWriter writer, Schema schema, IReadOnlyList<object?[]> rows, BatchPool pool)
    {
        var i = 0;
        while (i < rows.Count)
        {
            using var batch = pool.Rent(schema);
            var n = Math.Min(batch.Capacity, rows.Count - i);
            for (var r = 0; r < n; r++)
            {
                var row = rows[i + r];
                for (var c = 0; c < schema.Count; c++)
                {
                    batch.Columns[c].SetBoxed(r, row[c]);
                }
            }

            batch.Count = n;
            writer.Write(batch);
            i += n;
        }
    }
}
