import BrookProtocol
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The composition root: builds the metadata store, the handlers and the network server from a
/// ``BrokerConfig``, and exposes them as services for one `ServiceGroup`.
public struct Broker: Sendable {
    public let config: BrokerConfig
    public let metadata: MetadataStore
    public let server: KafkaServer
    /// The listeners as bound (with ephemeral ports resolved).
    public let boundListeners: [BrokerConfig.Listener]

    /// The services to run, in start order; a `ServiceGroup` stops them in reverse.
    public var services: [any Service] { [server] }

    /// Opens storage and metadata and binds the listeners.
    public static func start(config: BrokerConfig, logger: Logger) async throws -> Broker {
        let listeners = try config.listeners
        let clusterId = config.string("cluster.id") ?? "brook-cluster"
        let nodeId = config.nodeId
        // Bind first, so that port 0 can be advertised as the port actually bound.
        let bound = try await KafkaServer.bind(configuration: .init(
            listeners: listeners, maximumRequestSize: config.socketRequestMaxBytes,
            idleTimeout: .milliseconds(config.connectionsMaxIdleMs)
        ))
        let advertised = try Self.advertisedListeners(config: config, bound: bound.map(\.listener))
        let brokers = advertised.prefix(1).map {
            MetadataImage.Broker(nodeId: nodeId, host: $0.host, port: Int32($0.port), rack: config.string("broker.rack"))
        }
        let metadata = try MetadataStore(log: InMemoryMetadataLog(), clusterId: clusterId, nodeId: nodeId, brokers: brokers)
        let creator = TopicCreator(
            metadata: metadata, enabled: config.autoCreateTopics, partitions: config.numPartitions,
            replicationFactor: config.defaultReplicationFactor, onCreate: { _ in }
        )
        let context = BrokerContext(config: BrokerConfigStore(config), metadata: metadata, topicCreator: creator)
        var router = RequestRouter()
        router.register(MetadataHandler(metadata: metadata, topicCreator: creator))
        router.registerAdminHandlers(context)
        // Last: its answer lists every handler registered before it.
        router.register(ApiVersionsHandler(otherApis: router.apiVersionEntries()))
        let server = KafkaServer(listeners: bound, router: router, logger: logger)
        return Broker(config: config, metadata: metadata, server: server, boundListeners: bound.map(\.listener))
    }

    /// The advertised listeners with port 0 replaced by the bound port and an empty or wildcard
    /// host replaced by the loopback address.
    static func advertisedListeners(config: BrokerConfig, bound: [BrokerConfig.Listener]) throws -> [BrokerConfig.Listener] {
        let advertised = try config.advertisedListeners
        return advertised.map { listener in
            var result = listener
            if let match = bound.first(where: { $0.name == listener.name }) {
                if result.port == 0 { result.port = match.port }
            }
            if result.host.isEmpty || result.host == "0.0.0.0" { result.host = "127.0.0.1" }
            return result
        }
    }
}
