@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct AlterConfigsHandlerTests {
    typealias Resource = AlterConfigsRequest.AlterConfigsResource

    static let topicType = ConfigResourceType.topic.rawValue
    static let brokerType = ConfigResourceType.broker.rawValue

    func handler(_ fixture: AdminFixture) -> AlterConfigsHandler {
        AlterConfigsHandler(alterer: fixture.alterer)
    }

    @Test(arguments: 0...2) func theGivenSetReplacesATopicsOverrides(version: Int16) async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t", configs: ["retention.ms": "1000", "cleanup.policy": "compact"])
        let request = AlterConfigsRequest(resources: [
            Resource(resourceType: Self.topicType, resourceName: "t", configs: [.init(name: "retention.ms", value: "2000"), .init(name: "segment.ms", value: "60000")]),
        ])
        let response = try await serve(handler(fixture), request, version: version)
        #expect(response.responses.map(\.errorCode) == [ErrorCode.none.code])
        #expect(response.responses.first?.errorMessage == nil)
        #expect(response.responses.first?.resourceName == "t")
        #expect(fixture.metadata.image.topics["t"]?.configs == ["retention.ms": "2000", "segment.ms": "60000"])
    }

    @Test func topicErrorsLeaveEverythingAsItWas() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t", configs: ["retention.ms": "1000"])
        try fixture.topic("u")
        func resource(_ name: String, _ configs: [(String, String?)]) -> Resource {
            Resource(resourceType: Self.topicType, resourceName: name, configs: configs.map { .init(name: $0.0, value: $0.1) })
        }
        let request = AlterConfigsRequest(resources: [
            resource("t", [("no.such.key", "1")]),
            resource("t", [("retention.ms", "x")]),
            resource("missing", [("retention.ms", "5")]),
            resource("bad name", [("retention.ms", "5")]),
            resource("", [("retention.ms", "5")]),
            resource("u", [("retention.ms", "5"), ("retention.ms", "6")]),
            Resource(resourceType: Self.topicType, resourceName: "v", configs: [.init(name: "retention.ms", value: nil)]),
            Resource(resourceType: 8, resourceName: "1", configs: []),
        ])
        let response = try await serve(handler(fixture), request, version: 2)
        #expect(response.responses.map(\.errorCode) == [
            ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code, // "t" twice
            ErrorCode.unknownTopicOrPartition.code, ErrorCode.invalidTopicException.code, ErrorCode.invalidRequest.code,
            ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code,
        ])
        #expect(response.responses[0].errorMessage == "Each resource must appear at most once.")
        #expect(response.responses[5].errorMessage == "Error due to duplicate config keys")
        #expect(fixture.metadata.image.topics["t"]?.configs == ["retention.ms": "1000"])
    }

    @Test func badTopicConfigsAreInvalidConfig() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t")
        let request = AlterConfigsRequest(resources: [
            Resource(resourceType: Self.topicType, resourceName: "t", configs: [.init(name: "compression.type", value: "brotli")]),
        ])
        let response = try await serve(handler(fixture), request, version: 1)
        #expect(response.responses.map(\.errorCode) == [ErrorCode.invalidConfig.code])
    }

    @Test func validateOnlyChangesNothing() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t")
        let request = AlterConfigsRequest(resources: [
            Resource(resourceType: Self.topicType, resourceName: "t", configs: [.init(name: "retention.ms", value: "5")]),
            Resource(resourceType: Self.brokerType, resourceName: "1", configs: [.init(name: "message.max.bytes", value: "5000")]),
        ], validateOnly: true)
        let response = try await serve(handler(fixture), request, version: 0)
        #expect(response.responses.map(\.errorCode) == [ErrorCode.none.code, ErrorCode.none.code])
        #expect(fixture.metadata.image.topics["t"]?.configs == [:])
        #expect(fixture.config.current.messageMaxBytes == 1_048_588)
    }

    @Test func brokerChangesAreDynamicAndLogged() async throws {
        let fixture = try AdminFixture()
        let set = AlterConfigsRequest(resources: [
            Resource(resourceType: Self.brokerType, resourceName: "1", configs: [
                .init(name: "message.max.bytes", value: "2000000"), .init(name: "log.cleaner.threads", value: "2"),
            ]),
        ])
        #expect(try await serve(handler(fixture), set, version: 2).responses.map(\.errorCode) == [ErrorCode.none.code])
        #expect(fixture.config.current.messageMaxBytes == 2_000_000)
        #expect(fixture.config.current.source(of: "message.max.bytes") == .dynamicBrokerConfig)
        #expect(try fixture.metadata.dynamicBrokerConfigs(broker: "1") == ["message.max.bytes": "2000000", "log.cleaner.threads": "2"])

        // The legacy API replaces the whole set: what is not named again goes.
        let replace = AlterConfigsRequest(resources: [
            Resource(resourceType: Self.brokerType, resourceName: "1", configs: [.init(name: "log.cleaner.threads", value: "3")]),
        ])
        #expect(try await serve(handler(fixture), replace, version: 2).responses.map(\.errorCode) == [ErrorCode.none.code])
        #expect(fixture.config.current.messageMaxBytes == 1_048_588)
        #expect(try fixture.metadata.dynamicBrokerConfigs(broker: "1") == ["log.cleaner.threads": "3"])
    }

    @Test func brokerErrorsFollowKafka() async throws {
        let fixture = try AdminFixture()
        func broker(_ name: String, _ key: String, _ value: String) -> Resource {
            Resource(resourceType: Self.brokerType, resourceName: name, configs: [.init(name: key, value: value)])
        }
        let request = AlterConfigsRequest(resources: [
            broker("1", "log.dirs", "/elsewhere"),
            broker("2", "message.max.bytes", "5"),
            broker("one", "message.max.bytes", "5"),
            broker("", "message.max.bytes", "5"),
            Resource(resourceType: Self.brokerType, resourceName: "1 ", configs: [.init(name: "no.such.key", value: "1")]),
        ])
        let response = try await serve(handler(fixture), request, version: 2)
        #expect(response.responses.map(\.errorCode) == [
            ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code,
            ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code,
        ])
        #expect(response.responses[0].errorMessage == "Cannot update these configs dynamically: Set(log.dirs)")
        #expect(response.responses[1].errorMessage == "Unexpected broker id, expected 1, but received 2")

        let unknown = AlterConfigsRequest(resources: [broker("1", "no.such.key", "1")])
        #expect(try await serve(handler(fixture), unknown, version: 2).responses.map(\.errorCode) == [ErrorCode.invalidConfig.code])
        let badValue = AlterConfigsRequest(resources: [broker("1", "message.max.bytes", "big")])
        #expect(try await serve(handler(fixture), badValue, version: 2).responses.map(\.errorCode) == [ErrorCode.invalidRequest.code])
        #expect(try fixture.metadata.dynamicBrokerConfigs(broker: "1").isEmpty)
    }
}
