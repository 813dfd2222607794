@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct DeleteTopicsHandlerTests {
    func handler(_ fixture: AdminFixture) -> DeleteTopicsHandler {
        DeleteTopicsHandler(config: fixture.config, metadata: fixture.metadata, topicCreator: fixture.context.topicCreator)
    }

    @Test(arguments: 0...5) func namesAreDeletedAndTheirLogsDropped(version: Int16) async throws {
        let fixture = try AdminFixture()
        try fixture.topic("gone", partitions: 2)
        try fixture.topic("kept")
        let response = try await serve(handler(fixture), DeleteTopicsRequest(topicNames: ["gone", "missing"]), version: version)
        let byName = Dictionary(uniqueKeysWithValues: response.responses.map { ($0.name ?? "", $0.errorCode) })
        #expect(byName == ["gone": ErrorCode.none.code, "missing": ErrorCode.unknownTopicOrPartition.code])
        #expect(fixture.metadata.image.topics.keys.sorted() == ["kept"])
        #expect(fixture.hooks.recorded == ["delete gone"])
    }

    @Test func v6DeletesByIdOrNameAndRefusesAmbiguousEntries() async throws {
        let fixture = try AdminFixture()
        let byId = try fixture.topic("by-id")
        try fixture.topic("by-name")
        let both = try fixture.topic("both")
        let unknownId = Uuid.random()
        let request = DeleteTopicsRequest(topics: [
            .init(name: nil, topicId: byId.id),
            .init(name: "by-name", topicId: .zero),
            .init(name: nil, topicId: unknownId),
            .init(name: "both", topicId: both.id),
            .init(name: nil, topicId: .zero),
            .init(name: "dup", topicId: .zero),
            .init(name: "dup", topicId: .zero),
        ])
        let response = try await serve(handler(fixture), request, version: 6)
        func code(name: String?, id: Uuid) -> Int16? {
            response.responses.first { $0.name == name && $0.topicId == id }?.errorCode
        }
        #expect(code(name: "by-id", id: byId.id) == ErrorCode.none.code)
        #expect(response.responses.contains { $0.name == "by-name" && $0.errorCode == ErrorCode.none.code && $0.topicId != .zero })
        #expect(code(name: nil, id: unknownId) == ErrorCode.unknownTopicId.code)
        #expect(code(name: "both", id: both.id) == ErrorCode.invalidRequest.code)
        #expect(code(name: nil, id: .zero) == ErrorCode.invalidRequest.code)
        #expect(response.responses.filter { $0.name == "dup" }.map(\.errorCode) == [ErrorCode.invalidRequest.code])
        #expect(fixture.metadata.image.topics.keys.sorted() == ["both"])
    }

    @Test func aNameThatMapsToAGivenIdDeletesNeither() async throws {
        let fixture = try AdminFixture()
        let topic = try fixture.topic("twice")
        let request = DeleteTopicsRequest(topics: [.init(name: nil, topicId: topic.id), .init(name: "twice", topicId: .zero)])
        let response = try await serve(handler(fixture), request, version: 6)
        #expect(response.responses.map(\.errorCode) == [ErrorCode.invalidRequest.code, ErrorCode.invalidRequest.code])
        #expect(fixture.metadata.image.topics["twice"] != nil)
    }

    @Test(arguments: 0...6) func disabledDeletionIsRefusedPerVersion(version: Int16) async throws {
        let fixture = try AdminFixture(overrides: ["delete.topic.enable=false"])
        try fixture.topic("stays")
        let request = version >= 6 ? DeleteTopicsRequest(topics: [.init(name: "stays")]) : DeleteTopicsRequest(topicNames: ["stays"])
        let response = try await serve(handler(fixture), request, version: version)
        let expected = version < 3 ? ErrorCode.invalidRequest : .topicDeletionDisabled
        #expect(response.responses.map(\.errorCode) == [expected.code])
        #expect(fixture.metadata.image.topics["stays"] != nil)
    }
}
