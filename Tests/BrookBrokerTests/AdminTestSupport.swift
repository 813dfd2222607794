@testable import BrookBroker
import BrookProtocol
import NIOCore
import Synchronization

/// A broker's admin state without a network: a config store, a metadata store over an in-memory
/// log, a topic creator whose hooks are recorded, and the handlers built from them.
struct AdminFixture {
    let config: BrokerConfigStore
    let metadata: MetadataStore
    let log: InMemoryMetadataLog
    let hooks = HookRecorder()
    let context: BrokerContext

    init(overrides: [String] = [], brokers: Int = 1) throws {
        let log = InMemoryMetadataLog()
        let config = BrokerConfigStore(try BrokerConfig(overrides: overrides))
        let metadata = try MetadataStore(
            log: log, clusterId: "test-cluster", nodeId: 1,
            brokers: (1...brokers).map { MetadataImage.Broker(nodeId: Int32($0), host: "127.0.0.1", port: 9092, rack: nil) }
        )
        let hooks = self.hooks
        let current = config.current
        let creator = TopicCreator(
            metadata: metadata, enabled: current.autoCreateTopics, partitions: current.numPartitions,
            replicationFactor: current.defaultReplicationFactor,
            onCreate: { hooks.record("create \($0.name) \($0.partitions.count)") },
            onCreatePartitions: { topic, added in hooks.record("grow \(topic.name) \(added.map(\.index))") },
            onDelete: { hooks.record("delete \($0.name)") }
        )
        self.log = log
        self.config = config
        self.metadata = metadata
        self.context = BrokerContext(config: config, metadata: metadata, topicCreator: creator)
    }

    var alterer: ConfigAlterer { ConfigAlterer(config: config, metadata: metadata) }

    /// Creates a topic directly in the store.
    @discardableResult
    func topic(_ name: String, partitions: Int32 = 1, configs: [String: String] = [:]) throws -> MetadataImage.Topic {
        try metadata.createTopic(name: name, partitions: partitions, replicationFactor: 1, configs: configs)
    }
}

/// Remembers the topic creator's hook calls, in order.
final class HookRecorder: Sendable {
    private let calls = Mutex<[String]>([])

    func record(_ call: String) { calls.withLock { $0.append(call) } }

    var recorded: [String] { calls.withLock { $0 } }
}

/// Serves `request` as it arrives at `version`: the request goes through its encoding first, so
/// that fields the version lacks are dropped as on the wire, and so does the response, so that a
/// response the version cannot carry fails the test.
func serve<Handler: RequestHandler>(
    _ handler: Handler, _ request: Handler.Request, version: Int16
) async throws -> Handler.Request.Response {
    var requestBytes = try request.encoded(version: version)
    let decoded = try Handler.Request(from: &requestBytes, version: version)
    let header = RequestHeader(requestApiKey: Handler.Request.apiKey.rawValue, requestApiVersion: version, correlationId: 7, clientId: "test")
    let context = RequestContext(header: header, apiVersion: version, remoteAddress: nil, listenerName: "PLAINTEXT")
    guard let response = try await handler.handle(decoded, context: context) else {
        throw MissingResponse()
    }
    var responseBytes = try response.encoded(version: version)
    let result = try Handler.Request.Response(from: &responseBytes, version: version)
    precondition(responseBytes.readableBytes == 0, "response left \(responseBytes.readableBytes) bytes")
    return result
}

struct MissingResponse: Error {}

extension ErrorCode {
    /// The code as it travels.
    var code: Int16 { rawValue }
}
