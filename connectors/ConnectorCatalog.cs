using Streams.Connectors.Arrow;
using Streams.Connectors.Blackhole;
using Streams.Connectors.Datagen;
using Streams.Connectors.Files;
using Streams.Connectors.Log;
using Streams.Connectors.Nexmark;
using Streams.Engine.Connectors;

namespace Streams.Connectors;

/// <summary>Every connector this assembly ships, for hosts (the CLI, tests, embedding apps) to register.</summary>
public static class ConnectorCatalog
{
    /// <summary>Registers <c>file</c>, <c>arrow</c>, <c>blackhole</c>, <c>print</c>, <c>nexmark</c>, <c>datagen</c> and the engine's <c>log</c> in <paramref name="registry"/>.</summary>
    public static ConnectorRegistry RegisterAll(ConnectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register(new FileConnectorFactory())
            .Register(new ArrowConnectorFactory())
            .Register(new BlackholeConnectorFactory())
            .Register(new PrintConnectorFactory())
            .Register(new NexmarkConnectorFactory())
            .Register(new DatagenConnectorFactory())
            .Register(new LogConnectorFactory());
    }
}
