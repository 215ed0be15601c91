using Streams.Connectors.Arrow;
using Streams.Connectors.Blackhole;
using Streams.Connectors.Files;
using Streams.Connectors.Log;
using Streams.Connectors.Nexmark;
using Streams.Engine.Connectors;

namespace Streams.Connectors;

/// <summary>Every connector this assembly ships, for hosts (the CLI, tests, embedding apps) to register.</summary>
public static class ConnectorCatalog
{
    /// <summary>Registers <c>file</c>, <c>arrow</c>, <c>blackhole</c>, <c>print</c>, <c>nexmark</c> and <c>log</c> (topics of the engine's log) in <paramref name="registry"/>.</summary>
    public static ConnectorRegistry RegisterAll(ConnectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register(new FileConnectorFactory())
            .Register(new ArrowConnectorFactory())
            .Register(new BlackholeConnectorFactory())
            .Register(new PrintConnectorFactory())
            .Register(new NexmarkConnectorFactory())
            .Register(new LogConnectorFactory());
    }
}
