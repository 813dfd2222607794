@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct DescribeConfigsHandlerTests {
    typealias Resource = DescribeConfigsRequest.DescribeConfigsResource

    func handler(_ fixture: AdminFixture) -> DescribeConfigsHandler {
        DescribeConfigsHandler(config: fixture.config, metadata: fixture.metadata)
    }

    static let topicType = ConfigResourceType.topic.rawValue
    static let brokerType = ConfigResourceType.broker.rawValue

    @Test(arguments: 0...4) func aTopicListsEveryKeyWithDefaultsAndSources(version: Int16) async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t", configs: ["retention.ms": "1000"])
        let response = try await serve(handler(fixture), DescribeConfigsRequest(resources: [Resource(resourceType: Self.topicType, resourceName: "t", configurationKeys: nil)]), version: version)
        let result = try #require(response.results.first)
        #expect(result.errorCode == ErrorCode.none.code)
        #expect(result.configs.map(\.name) == TopicConfigDefinitions.all.map(\.definition.name).sorted())
        let retention = try #require(result.configs.first { $0.name == "retention.ms" })
        let segment = try #require(result.configs.first { $0.name == "segment.bytes" })
        #expect(retention.value == "1000")
        #expect(segment.value == "1073741824")
        #expect(!retention.readOnly && !segment.readOnly)
        if version == 0 {
            #expect(!retention.isDefault && segment.isDefault)
        } else {
            #expect(retention.configSource == ConfigSource.topicConfig.rawValue)
            #expect(segment.configSource == ConfigSource.defaultConfig.rawValue)
            #expect(retention.synonyms.isEmpty)
        }
        if version >= 3 {
            #expect(segment.configType == ConfigType.int.rawValue)
            #expect(result.configs.first { $0.name == "cleanup.policy" }?.configType == ConfigType.list.rawValue)
            #expect(segment.documentation == nil)
        }
    }

    @Test func synonymsRunFromTheTopicThroughTheBrokerToTheDefault() async throws {
        let fixture = try AdminFixture(overrides: ["log.retention.hours=24", "log.segment.bytes=1048576"])
        try fixture.topic("t", configs: ["segment.bytes": "2097152"])
        let request = DescribeConfigsRequest(
            resources: [Resource(resourceType: Self.topicType, resourceName: "t", configurationKeys: ["retention.ms", "segment.bytes", "cleanup.policy"])],
            includeSynonyms: true, includeDocumentation: true
        )
        let response = try await serve(handler(fixture), request, version: 4)
        let configs = Dictionary(uniqueKeysWithValues: try #require(response.results.first).configs.map { ($0.name, $0) })
        #expect(configs.keys.sorted() == ["cleanup.policy", "retention.ms", "segment.bytes"])
        let retention = try #require(configs["retention.ms"])
        #expect(retention.value == "86400000")
        #expect(retention.configSource == ConfigSource.staticBrokerConfig.rawValue)
        #expect(retention.synonyms.map { "\($0.name)=\($0.value ?? "-")@\($0.source)" } == [
            "log.retention.hours=24@4", "log.retention.hours=168@5",
        ])
        let segment = try #require(configs["segment.bytes"])
        #expect(segment.configSource == ConfigSource.topicConfig.rawValue)
        #expect(segment.synonyms.map { "\($0.name)=\($0.value ?? "-")@\($0.source)" } == [
            "segment.bytes=2097152@1", "log.segment.bytes=1048576@4", "log.segment.bytes=1073741824@5",
        ])
        #expect(configs["cleanup.policy"]?.synonyms.map(\.source) == [ConfigSource.defaultConfig.rawValue])
        #expect(configs["cleanup.policy"]?.documentation?.isEmpty == false)
    }

    @Test func dynamicBrokerValuesAreReportedAsSuch() async throws {
        let fixture = try AdminFixture()
        try fixture.config.update(["message.max.bytes": "2000000"])
        try fixture.topic("t")
        let request = DescribeConfigsRequest(resources: [
            Resource(resourceType: Self.topicType, resourceName: "t", configurationKeys: ["max.message.bytes"]),
            Resource(resourceType: Self.brokerType, resourceName: "1", configurationKeys: ["message.max.bytes"]),
        ], includeSynonyms: true)
        let response = try await serve(handler(fixture), request, version: 2)
        let topic = try #require(response.results[0].configs.first)
        #expect(topic.value == "2000000")
        #expect(topic.configSource == ConfigSource.dynamicBrokerConfig.rawValue)
        let broker = try #require(response.results[1].configs.first)
        #expect(broker.value == "2000000")
        #expect(broker.configSource == ConfigSource.dynamicBrokerConfig.rawValue)
        #expect(broker.synonyms.map(\.source) == [ConfigSource.dynamicBrokerConfig.rawValue, ConfigSource.defaultConfig.rawValue])
    }

    @Test func theBrokerListsEveryKeyWithReadOnlyForStaticOnes() async throws {
        let fixture = try AdminFixture(overrides: ["log.dirs=/tmp/somewhere"])
        let response = try await serve(handler(fixture), DescribeConfigsRequest(resources: [Resource(resourceType: Self.brokerType, resourceName: "1", configurationKeys: nil)]), version: 4)
        let configs = Dictionary(uniqueKeysWithValues: try #require(response.results.first).configs.map { ($0.name, $0) })
        #expect(configs.count == BrokerConfigDefinitions.all.count)
        #expect(configs["log.dirs"]?.value == "/tmp/somewhere")
        #expect(configs["log.dirs"]?.configSource == ConfigSource.staticBrokerConfig.rawValue)
        #expect(configs["log.dirs"]?.readOnly == true)
        #expect(configs["message.max.bytes"]?.readOnly == false)
        #expect(configs["message.max.bytes"]?.configSource == ConfigSource.defaultConfig.rawValue)
        #expect(configs["log.retention.ms"]?.value == nil)
        #expect(configs["log.retention.hours"]?.value == "168")
        #expect(configs["auto.create.topics.enable"]?.configType == ConfigType.boolean.rawValue)
    }

    @Test func errorsArePerResource() async throws {
        let fixture = try AdminFixture()
        let request = DescribeConfigsRequest(resources: [
            Resource(resourceType: Self.topicType, resourceName: "missing"),
            Resource(resourceType: Self.topicType, resourceName: "bad name"),
            Resource(resourceType: Self.brokerType, resourceName: "2"),
            Resource(resourceType: Self.brokerType, resourceName: "one"),
            Resource(resourceType: Self.brokerType, resourceName: ""),
            Resource(resourceType: 99, resourceName: "x"),
        ])
        let response = try await serve(handler(fixture), request, version: 4)
        #expect(response.results.map(\.errorCode) == [
            ErrorCode.unknownTopicOrPartition.code, ErrorCode.invalidTopicException.code, ErrorCode.invalidRequest.code,
            ErrorCode.invalidRequest.code, ErrorCode.none.code, ErrorCode.invalidRequest.code,
        ])
        #expect(response.results.map(\.resourceName) == ["missing", "bad name", "2", "one", "", "x"])
        #expect(response.results[4].configs.isEmpty)
    }
}
