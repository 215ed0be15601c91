using Streams.Connectors.Files;
using Streams.Engine.Connectors;

namespace Streams.Connectors.Arrow;

/// <summary><c>connector='arrow'</c>: Arrow IPC files, the same as <c>connector='file', format='arrow'</c>.</summary>
public sealed class ArrowConnectorFactory : IConnectorFactory
{
    /// <inheritdoc />
    public string Name => "arrow";

    /// <inheritdoc />
    public ISourceConnector CreateSource(ConnectorContext context) => new FileSource(AsArrow(context));

    /// <inheritdoc />
    public ISinkConnector CreateSink(ConnectorContext context) => new FileSink(AsArrow(context));

    private static ConnectorContext AsArrow(ConnectorContext context)
    {
        var options = new Dictionary<string, string>(context.Options, StringComparer.OrdinalIgnoreCase) { ["format"] = "arrow" };
        return context with { Options = options };
    }
}
