using Streams.Engine.Connectors;

namespace Streams.Connectors.Files;

/// <summary><c>connector='file'</c>: <see cref="FileSource"/> and <see cref="FileSink"/>.</summary>
public sealed class FileConnectorFactory : IConnectorFactory
{
    /// <inheritdoc />
    public string Name => "file";

    /// <inheritdoc />
    public ISourceConnector CreateSource(ConnectorContext context) => new FileSource(context);

    /// <inheritdoc />
    public ISinkConnector CreateSink(ConnectorContext context) => new FileSink(context);
}
