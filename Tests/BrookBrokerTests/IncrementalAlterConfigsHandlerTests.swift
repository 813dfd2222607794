@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct IncrementalAlterConfigsHandlerTests {
    typealias Resource = IncrementalAlterConfigsRequest.AlterConfigsResource
    typealias Operation = IncrementalAlterConfigsHandler.Operation

    static let topicType = ConfigResourceType.topic.rawValue
    static let brokerType = ConfigResourceType.broker.rawValue

    func handler(_ fixture: AdminFixture) -> IncrementalAlterConfigsHandler {
        IncrementalAlterConfigsHandler(alterer: fixture.alterer)
    }

    func topic(_ name: String, _ operations: [(String, Operation, String?)]) -> Resource {
        Resource(resourceType: Self.topicType, resourceName: name, configs: operations.map {
            .init(name: $0.0, configOperation: $0.1.rawValue, value: $0.2)
        })
    }

    func broker(_ operations: [(String, Operation, String?)], name: String = "1") -> Resource {
        Resource(resourceType: Self.brokerType, resourceName: name, configs: operations.map {
            .init(name: $0.0, configOperation: $0.1.rawValue, value: $0.2)
        })
    }

    @Test(arguments: 0...1) func setDeleteAppendAndSubtractOnATopic(version: Int16) async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t", configs: ["retention.ms": "1000", "segment.ms": "60000"])
        let request = IncrementalAlterConfigsRequest(resources: [topic("t", [
            ("retention.ms", .set, "2000"), ("segment.ms", .delete, nil), ("cleanup.policy", .append, "compact"),
        ])])
        let response = try await serve(handler(fixture), request, version: version)
        #expect(response.responses.map(\.errorCode) == [ErrorCode.none.code])
        #expect(fixture.metadata.image.topics["t"]?.configs == ["retention.ms": "2000", "cleanup.policy": "delete,compact"])

        let subtract = IncrementalAlterConfigsRequest(resources: [topic("t", [("cleanup.policy", .subtract, "delete")])])
        #expect(try await serve(handler(fixture), subtract, version: version).responses.map(\.errorCode) == [ErrorCode.none.code])
        #expect(fixture.metadata.image.topics["t"]?.configs["cleanup.policy"] == "compact")
    }

    @Test func topicErrorsFollowKafka() async throws {
        let fixture = try AdminFixture()
        for name in ["a", "b", "c", "d", "e"] { try fixture.topic(name) }
        let request = IncrementalAlterConfigsRequest(resources: [
            topic("a", [("compression.type", .append, "gzip")]),
            topic("b", [("retention.ms", .set, "1"), ("retention.ms", .set, "2")]),
            topic("c", [("retention.ms", .set, nil)]),
            topic("d", [("min.cleanable.dirty.ratio", .set, "lots")]),
            Resource(resourceType: Self.topicType, resourceName: "e", configs: [.init(name: "retention.ms", configOperation: 9, value: "1")]),
            topic("missing", [("retention.ms", .set, "1")]),
            topic("f", [("no.such.key", .delete, nil)]),
        ])
        let response = try await serve(handler(fixture), request, version: 1)
        #expect(response.responses.map(\.errorCode) == [
            ErrorCode.invalidConfig.code, ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code,
            ErrorCode.invalidConfig.code, ErrorCode.invalidRequest.code, ErrorCode.unknownTopicOrPartition.code,
            ErrorCode.unknownTopicOrPartition.code,
        ])
        #expect(response.responses[0].errorMessage == "Can't APPEND to key compression.type because its type is not LIST.")
        #expect(response.responses[2].errorMessage == "Null value not supported for : retention.ms")
        #expect(fixture.metadata.image.topics.values.allSatisfy { $0.configs.isEmpty })
    }

    @Test func brokerKeysChangeOneByOne() async throws {
        let fixture = try AdminFixture()
        let set = IncrementalAlterConfigsRequest(resources: [broker([
            ("message.max.bytes", .set, "3000000"), ("log.cleanup.policy", .append, "compact"),
        ])])
        #expect(try await serve(handler(fixture), set, version: 1).responses.map(\.errorCode) == [ErrorCode.none.code])
        #expect(fixture.config.current.messageMaxBytes == 3_000_000)
        #expect(fixture.config.current.string("log.cleanup.policy") == "delete,compact")
        #expect(try fixture.metadata.dynamicBrokerConfigs(broker: "1") == ["message.max.bytes": "3000000", "log.cleanup.policy": "delete,compact"])

        let delete = IncrementalAlterConfigsRequest(resources: [broker([("message.max.bytes", .delete, nil), ("log.dirs", .delete, nil)])])
        #expect(try await serve(handler(fixture), delete, version: 1).responses.map(\.errorCode) == [ErrorCode.none.code])
        #expect(fixture.config.current.messageMaxBytes == 1_048_588)
        #expect(fixture.config.current.string("log.cleanup.policy") == "delete,compact")
        #expect(try fixture.metadata.dynamicBrokerConfigs(broker: "1") == ["log.cleanup.policy": "delete,compact"])
    }

    @Test func brokerErrorsFollowKafka() async throws {
        let fixture = try AdminFixture()
        let request = IncrementalAlterConfigsRequest(resources: [
            broker([("log.dirs", .set, "/x")]),
            broker([("message.max.bytes", .append, "1")], name: "1 "),
        ])
        let response = try await serve(handler(fixture), request, version: 0)
        #expect(response.responses.map(\.errorCode) == [ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code])
        let notList = IncrementalAlterConfigsRequest(resources: [broker([("message.max.bytes", .append, "1")])])
        let answer = try await serve(handler(fixture), notList, version: 0)
        #expect(answer.responses.map(\.errorCode) == [ErrorCode.invalidConfig.code])
        #expect(answer.responses.first?.errorMessage == "Config value append is not allowed for config key: message.max.bytes")
    }

    @Test func validateOnlyChangesNothing() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t")
        let request = IncrementalAlterConfigsRequest(resources: [
            topic("t", [("retention.ms", .set, "5")]), broker([("message.max.bytes", .set, "5000")]),
        ], validateOnly: true)
        #expect(try await serve(handler(fixture), request, version: 1).responses.map(\.errorCode) == [ErrorCode.none.code, ErrorCode.none.code])
        #expect(fixture.metadata.image.topics["t"]?.configs == [:])
        #expect(fixture.config.current.messageMaxBytes == 1_048_588)
        #expect(try fixture.metadata.dynamicBrokerConfigs(broker: "1").isEmpty)
    }
}
