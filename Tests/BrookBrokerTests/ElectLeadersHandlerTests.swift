@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct ElectLeadersHandlerTests {
    /// Kafka's ELECTION_NOT_NEEDED.
    static let electionNotNeeded: Int16 = 84

    @Test(arguments: 0...2) func everyNamedPartitionAlreadyHasItsLeader(version: Int16) async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t", partitions: 2)
        let handler = ElectLeadersHandler(metadata: fixture.metadata)
        let request = ElectLeadersRequest(topicPartitions: [.init(topic: "t", partitions: [0, 1, 5]), .init(topic: "missing", partitions: [0])])
        let response = try await serve(handler, request, version: version)
        #expect(response.errorCode == ErrorCode.none.code)
        #expect(response.replicaElectionResults.map(\.topic) == ["t", "missing"])
        #expect(response.replicaElectionResults[0].partitionResult.map(\.errorCode) == [
            Self.electionNotNeeded, Self.electionNotNeeded, ErrorCode.unknownTopicOrPartition.code,
        ])
        #expect(response.replicaElectionResults[1].partitionResult.map(\.errorCode) == [ErrorCode.unknownTopicOrPartition.code])
    }

    @Test func uncleanElectionsAreNotNeededEither() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t")
        let handler = ElectLeadersHandler(metadata: fixture.metadata)
        let response = try await serve(handler, ElectLeadersRequest(electionType: 1, topicPartitions: [.init(topic: "t", partitions: [0])]), version: 1)
        #expect(response.replicaElectionResults.first?.partitionResult.map(\.errorCode) == [Self.electionNotNeeded])
    }

    @Test func allPartitionsListsTopicsWithoutPartitions() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("a", partitions: 3)
        try fixture.topic("b")
        let handler = ElectLeadersHandler(metadata: fixture.metadata)
        let response = try await serve(handler, ElectLeadersRequest(topicPartitions: nil), version: 2)
        #expect(response.replicaElectionResults.map(\.topic) == ["a", "b"])
        #expect(response.replicaElectionResults.allSatisfy { $0.partitionResult.isEmpty })
    }

    @Test func anUnknownElectionTypeFailsTheRequest() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("t")
        let handler = ElectLeadersHandler(metadata: fixture.metadata)
        let response = try await serve(handler, ElectLeadersRequest(electionType: 5, topicPartitions: [.init(topic: "t", partitions: [0])]), version: 2)
        #expect(response.errorCode == ErrorCode.invalidRequest.code)
        #expect(response.replicaElectionResults.first?.partitionResult.map(\.errorCode) == [ErrorCode.invalidRequest.code])
    }
}
