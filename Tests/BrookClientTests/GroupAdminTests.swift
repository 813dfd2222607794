import BrookBroker
import BrookClient
import BrookModel
import BrookProtocol
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// Runs an in-process broker on 127.0.0.1:0 with its own data directory (no initial rebalance
/// delay, plus `overrides`) for the duration of `body`.
func withBroker(_ overrides: [String] = [], _ body: (String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brook-client-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let config = try BrokerConfig(overrides: [
        "listeners=PLAINTEXT://127.0.0.1:0", "log.dirs=\(directory)", "group.initial.rebalance.delay.ms=0",
    ] + overrides)
    try await withRunningBroker(config) { broker in try await body("127.0.0.1:\(broker.boundListeners[0].port)") }
}

/// Starts an in-process broker with `config`, runs `body` while it serves, then shuts it down.
func withRunningBroker(_ config: BrokerConfig, logger: Logger = Logger(label: "client-test"), _ body: (Broker) async throws -> Void) async throws {
    let broker = try await Broker.start(config: config, logger: logger)
    let group = ServiceGroup(services: broker.services, logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        defer { tasks.cancelAll() }
        try await body(broker)
        await group.triggerGracefulShutdown()
    }
}

@Suite struct GroupAdminTests {
    @Test func committedOffsetsAreListedResetAndDeleted() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            let connection = try await cluster.connection(to: 1)
            let created = try await connection.send(CreateTopicsRequest(
                topics: [.init(name: "t", numPartitions: 2, replicationFactor: 1)], timeoutMs: 5_000
            ))
            #expect(created.topics.map(\.errorCode) == [0])
            let admin = GroupAdmin(cluster: cluster)
            let lookup = OffsetLookup(cluster: cluster)
            let partitions = try await lookup.partitions(of: ["t"])
            #expect(partitions == [TopicPartition(topic: "t", partition: 0), TopicPartition(topic: "t", partition: 1)])
            #expect(try await lookup.offsets(partitions, .latest) == [partitions[0]: 0, partitions[1]: 0])

            try await admin.commitOffsets("g", [partitions[0]: 0, partitions[1]: 0])
            #expect(try await admin.committedOffsets("g") == [partitions[0]: 0, partitions[1]: 0])
            #expect(try await admin.list().map { [$0.groupId, $0.state, $0.type] } == [["g", "Empty", "classic"]])
            let description = try await admin.describe("g")
            #expect(description.state == "Empty")
            #expect(description.members.isEmpty)

            try await admin.delete("g")
            await #expect(throws: ClientError.self) { try await admin.delete("g") }
            #expect(try await admin.list().isEmpty)
            await cluster.close()
        }
    }

    @Test func versionsAreNegotiatedWithTheBroker() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            let connection = try await cluster.connection(to: 1)
            #expect(try connection.negotiatedVersion(of: OffsetFetchRequest.self) == OffsetFetchRequest.validVersions.upperBound)
            #expect(try connection.negotiatedVersion(of: FindCoordinatorRequest.self) == 6)
            await cluster.close()
        }
    }

    @Test func aBootstrapServerThatIsNotHostPortIsRefused() async {
        await #expect(throws: ClientError.self) { try await Cluster.connect(bootstrapServers: "nonsense") }
    }
}
