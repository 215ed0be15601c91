using Apache.Arrow.Ipc;
using Streams.Engine.Data;

namespace Streams.Connectors.Arrow;

/// <summary>Writes batches as an Arrow IPC file (the <c>ARROW1</c> file form, readable by pyarrow, DuckDB, Polars) onto a stream.</summary>
public sealed class ArrowStreamEncoder : IDisposable
{
    private readonly Apache.Arrow.Schema _arrowSchema;
    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly ArrowFileWriter _writer;
    private bool _ended;

    /// <summary>Creates an encoder of rows of <paramref name="schema"/> onto <paramref name="output"/>.</summary>
    public ArrowStreamEncoder(Schema schema, Stream output, bool leaveOpen = false)
    {
        _arrowSchema = ArrowConversion.ToArrow(schema);
        _output = output;
        _leaveOpen = leaveOpen;
        _writer = new ArrowFileWriter(output, _arrowSchema, leaveOpen: true);
        _writer.WriteStart();
    }

    /// <summary>Rows written so far.</summary>
    public long RowsWritten { get; private set; }

    /// <summary>Writes the live rows of <paramref name="batch"/> as one record batch; the caller keeps the batch.</summary>
    public void Write(ColumnBatch batch)
    {
        using var records = ArrowConversion.ToRecordBatch(batch, _arrowSchema);
        if (records.Length == 0)
        {
            return;
        }

        _writer.WriteRecordBatch(records);
        RowsWritten += records.Length;
    }

    /// <summary>Flushes the stream (the file footer is written on dispose).</summary>
    public void Flush() => _output.Flush();

    /// <summary>Writes the footer and closes the stream unless it was left open.</summary>
    public void Dispose()
    {
        if (!_ended)
        {
            _ended = true;
            _writer.WriteEnd();
            _writer.Dispose();
            _output.Flush();
            if (!_leaveOpen)
            {
                _output.Dispose();
            }
        }
    }
}
