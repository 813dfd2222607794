@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct CreateTopicsHandlerTests {
    typealias Topic = CreateTopicsRequest.CreatableTopic

    func handler(_ fixture: AdminFixture) -> CreateTopicsHandler {
        CreateTopicsHandler(config: fixture.config, metadata: fixture.metadata, topicCreator: fixture.context.topicCreator)
    }

    @Test func defaultsComeFromTheBrokerAndV7ReportsTheTopicWithItsConfigs() async throws {
        let fixture = try AdminFixture(overrides: ["num.partitions=3"])
        let request = CreateTopicsRequest(topics: [
            Topic(name: "orders", numPartitions: -1, replicationFactor: -1, configs: [.init(name: "retention.ms", value: "1000")]),
        ])
        let response = try await serve(handler(fixture), request, version: 7)
        let result = try #require(response.topics.first)
        let topic = try #require(fixture.metadata.image.topics["orders"])
        #expect(result.errorCode == ErrorCode.none.code)
        #expect(result.errorMessage == nil)
        #expect(result.topicId == topic.id)
        #expect(result.numPartitions == 3)
        #expect(result.replicationFactor == 1)
        #expect(topic.partitions.count == 3)
        #expect(topic.configs == ["retention.ms": "1000"])
        let configs = try #require(result.configs)
        #expect(configs.count == TopicConfigDefinitions.all.count)
        let retention = try #require(configs.first { $0.name == "retention.ms" })
        #expect(retention.value == "1000")
        #expect(retention.configSource == ConfigSource.topicConfig.rawValue)
        let cleanup = try #require(configs.first { $0.name == "cleanup.policy" })
        #expect(cleanup.value == "delete")
        #expect(cleanup.configSource == ConfigSource.defaultConfig.rawValue)
        #expect(fixture.hooks.recorded == ["create orders 3"])
    }

    @Test(arguments: 0...7) func everyVersionCreatesATopic(version: Int16) async throws {
        let fixture = try AdminFixture()
        let request = CreateTopicsRequest(topics: [Topic(name: "v\(version)", numPartitions: 2, replicationFactor: 1)])
        let response = try await serve(handler(fixture), request, version: version)
        #expect(response.topics.map(\.name) == ["v\(version)"])
        #expect(response.topics.first?.errorCode == ErrorCode.none.code)
        #expect(fixture.metadata.image.topics["v\(version)"]?.partitions.count == 2)
        if version >= 5 { #expect(response.topics.first?.numPartitions == 2) }
    }

    @Test func validateOnlyAnswersAsIfCreatedButCreatesNothing() async throws {
        let fixture = try AdminFixture()
        let request = CreateTopicsRequest(topics: [Topic(name: "dry", numPartitions: 4, replicationFactor: 1)], validateOnly: true)
        let response = try await serve(handler(fixture), request, version: 5)
        #expect(response.topics.first?.errorCode == ErrorCode.none.code)
        #expect(response.topics.first?.numPartitions == 4)
        #expect(fixture.metadata.image.topics.isEmpty)
        #expect(fixture.hooks.recorded.isEmpty)
    }

    @Test func namesAreCheckedLikeKafka() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("existing")
        try fixture.topic("metrics.a")
        let request = CreateTopicsRequest(topics: [
            Topic(name: "bad name", numPartitions: 1, replicationFactor: 1),
            Topic(name: "", numPartitions: 1, replicationFactor: 1),
            Topic(name: String(repeating: "x", count: 250), numPartitions: 1, replicationFactor: 1),
            Topic(name: "existing", numPartitions: 1, replicationFactor: 1),
            Topic(name: "metrics_a", numPartitions: 1, replicationFactor: 1),
            Topic(name: "__cluster_metadata", numPartitions: 1, replicationFactor: 1),
            Topic(name: String(repeating: "y", count: 249), numPartitions: 1, replicationFactor: 1),
        ])
        let response = try await serve(handler(fixture), request, version: 4)
        #expect(response.topics.map(\.errorCode) == [
            ErrorCode.invalidTopicException.code, ErrorCode.invalidTopicException.code, ErrorCode.invalidTopicException.code,
            ErrorCode.topicAlreadyExists.code, ErrorCode.invalidTopicException.code, ErrorCode.invalidRequest.code,
            ErrorCode.none.code,
        ])
        #expect(response.topics[3].errorMessage == "Topic 'existing' already exists.")
        #expect(response.topics[4].errorMessage == "Topic 'metrics_a' collides with existing topic: metrics.a")
    }

    @Test func aNameGivenTwiceFailsOnceAndTheOthersGoAhead() async throws {
        let fixture = try AdminFixture()
        let request = CreateTopicsRequest(topics: [
            Topic(name: "twice", numPartitions: 1, replicationFactor: 1),
            Topic(name: "once", numPartitions: 1, replicationFactor: 1),
            Topic(name: "twice", numPartitions: 2, replicationFactor: 1),
        ])
        let response = try await serve(handler(fixture), request, version: 2)
        #expect(response.topics.map(\.name) == ["twice", "once"])
        #expect(response.topics.map(\.errorCode) == [ErrorCode.invalidRequest.code, ErrorCode.none.code])
        #expect(fixture.metadata.image.topics.keys.sorted() == ["once"])
    }

    @Test func badConfigsAreInvalidConfig() async throws {
        let fixture = try AdminFixture()
        let request = CreateTopicsRequest(topics: [
            Topic(name: "unknown-key", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "no.such.key", value: "1")]),
            Topic(name: "bad-value", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "retention.ms", value: "soon")]),
            Topic(name: "null-value", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "retention.bytes", value: nil)]),
            Topic(name: "bad-enum", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "compression.type", value: "brotli")]),
        ])
        let response = try await serve(handler(fixture), request, version: 7)
        #expect(response.topics.allSatisfy { $0.errorCode == ErrorCode.invalidConfig.code })
        #expect(response.topics[0].errorMessage == "Unknown topic config name: no.such.key")
        #expect(response.topics[2].errorMessage == "Null value not supported for topic configs: retention.bytes")
        #expect(fixture.metadata.image.topics.isEmpty)
    }

    @Test func partitionCountsAndReplicationFactorsAreChecked() async throws {
        let fixture = try AdminFixture()
        let request = CreateTopicsRequest(topics: [
            Topic(name: "zero-partitions", numPartitions: 0, replicationFactor: 1),
            Topic(name: "negative-partitions", numPartitions: -2, replicationFactor: 1),
            Topic(name: "zero-replicas", numPartitions: 1, replicationFactor: 0),
            Topic(name: "three-replicas", numPartitions: 1, replicationFactor: 3),
        ])
        let response = try await serve(handler(fixture), request, version: 6)
        #expect(response.topics.map(\.errorCode) == [
            ErrorCode.invalidPartitions.code, ErrorCode.invalidPartitions.code,
            ErrorCode.invalidReplicationFactor.code, ErrorCode.invalidReplicationFactor.code,
        ])
        #expect(response.topics[3].errorMessage?.contains("only 1 broker(s) are registered") == true)
    }

    @Test func manualAssignmentsMayOnlyNameRegisteredBrokers() async throws {
        let fixture = try AdminFixture()
        func assigned(_ name: String, _ assignments: [(Int32, [Int32])], partitions: Int32 = -1) -> Topic {
            Topic(name: name, numPartitions: partitions, replicationFactor: -1,
                  assignments: assignments.map { .init(partitionIndex: $0.0, brokerIds: $0.1) })
        }
        let request = CreateTopicsRequest(topics: [
            assigned("good", [(0, [1]), (1, [1])]),
            assigned("other-broker", [(0, [2])]),
            assigned("repeated-broker", [(0, [1, 1])]),
            assigned("repeated-partition", [(0, [1]), (0, [1])]),
            assigned("gap", [(0, [1]), (2, [1])]),
            assigned("empty", [(0, [])]),
            assigned("with-count", [(0, [1])], partitions: 1),
        ])
        let response = try await serve(handler(fixture), request, version: 7)
        #expect(response.topics.map(\.errorCode) == [
            ErrorCode.none.code, ErrorCode.invalidReplicaAssignment.code, ErrorCode.invalidReplicaAssignment.code,
            ErrorCode.invalidReplicaAssignment.code, ErrorCode.invalidReplicaAssignment.code,
            ErrorCode.invalidReplicaAssignment.code, ErrorCode.invalidRequest.code,
        ])
        #expect(response.topics[0].numPartitions == 2)
        #expect(fixture.metadata.image.topics["good"]?.partitions.map(\.replicas) == [[1], [1]])
    }

    @Test func anExcessivelyLargeRequestFailsAsAWhole() async throws {
        let fixture = try AdminFixture()
        let request = CreateTopicsRequest(topics: [
            Topic(name: "small", numPartitions: 1, replicationFactor: 1),
            Topic(name: "huge", numPartitions: 20_000, replicationFactor: 1),
        ])
        let response = try await serve(handler(fixture), request, version: 7)
        #expect(response.topics.map(\.errorCode) == [ErrorCode.policyViolation.code, ErrorCode.policyViolation.code])
        #expect(fixture.metadata.image.topics.isEmpty)
    }
}
