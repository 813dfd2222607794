@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct CreatePartitionsHandlerTests {
    typealias Topic = CreatePartitionsRequest.CreatePartitionsTopic

    func handler(_ fixture: AdminFixture) -> CreatePartitionsHandler {
        CreatePartitionsHandler(metadata: fixture.metadata, topicCreator: fixture.context.topicCreator)
    }

    @Test(arguments: 0...3) func everyTopicGetsItsOwnAnswer(version: Int16) async throws {
        let fixture = try AdminFixture()
        try fixture.topic("grow", partitions: 1)
        try fixture.topic("same", partitions: 2)
        try fixture.topic("shrink", partitions: 3)
        let request = CreatePartitionsRequest(topics: [
            Topic(name: "grow", count: 3, assignments: nil),
            Topic(name: "same", count: 2, assignments: nil),
            Topic(name: "shrink", count: 1, assignments: nil),
            Topic(name: "missing", count: 2, assignments: nil),
        ])
        let response = try await serve(handler(fixture), request, version: version)
        let byName = Dictionary(uniqueKeysWithValues: response.results.map { ($0.name, $0.errorCode) })
        #expect(byName == [
            "grow": ErrorCode.none.code, "same": ErrorCode.invalidPartitions.code,
            "shrink": ErrorCode.invalidPartitions.code, "missing": ErrorCode.unknownTopicOrPartition.code,
        ])
        #expect(response.results.first { $0.name == "grow" }?.errorMessage == nil)
        #expect(fixture.metadata.image.topics["grow"]?.partitions.map(\.index) == [0, 1, 2])
        #expect(fixture.hooks.recorded == ["grow grow [1, 2]"])
    }

    @Test func validateOnlyChangesNothing() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t")
        let response = try await serve(handler(fixture), CreatePartitionsRequest(topics: [Topic(name: "t", count: 4, assignments: nil)], validateOnly: true), version: 3)
        #expect(response.results.map(\.errorCode) == [ErrorCode.none.code])
        #expect(fixture.metadata.image.topics["t"]?.partitions.count == 1)
        #expect(fixture.hooks.recorded.isEmpty)
    }

    @Test func duplicatesAndAssignmentsAreChecked() async throws {
        let fixture = try AdminFixture()
        for name in ["dup", "short", "elsewhere", "wide", "assigned"] { try fixture.topic(name) }
        let request = CreatePartitionsRequest(topics: [
            Topic(name: "dup", count: 2, assignments: nil),
            Topic(name: "dup", count: 3, assignments: nil),
            Topic(name: "short", count: 3, assignments: [.init(brokerIds: [1])]),
            Topic(name: "elsewhere", count: 2, assignments: [.init(brokerIds: [2])]),
            Topic(name: "wide", count: 2, assignments: [.init(brokerIds: [1, 1])]),
            Topic(name: "assigned", count: 3, assignments: [.init(brokerIds: [1]), .init(brokerIds: [1])]),
        ])
        let response = try await serve(handler(fixture), request, version: 2)
        let byName = Dictionary(uniqueKeysWithValues: response.results.map { ($0.name, $0.errorCode) })
        #expect(response.results.count == 5)
        #expect(byName == [
            "dup": ErrorCode.invalidRequest.code, "short": ErrorCode.invalidReplicaAssignment.code,
            "elsewhere": ErrorCode.invalidReplicaAssignment.code, "wide": ErrorCode.invalidReplicaAssignment.code,
            "assigned": ErrorCode.none.code,
        ])
        #expect(fixture.metadata.image.topics["assigned"]?.partitions.count == 3)
        #expect(fixture.metadata.image.topics["dup"]?.partitions.count == 1)
    }

    @Test func anExcessivelyLargeRequestFailsAsAWhole() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t")
        let response = try await serve(handler(fixture), CreatePartitionsRequest(topics: [Topic(name: "t", count: 50_000, assignments: nil)]), version: 3)
        #expect(response.results.map(\.errorCode) == [ErrorCode.policyViolation.code])
        #expect(fixture.metadata.image.topics["t"]?.partitions.count == 1)
    }
}
