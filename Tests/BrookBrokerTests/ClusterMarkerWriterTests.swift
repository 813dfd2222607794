@testable import BrookBroker
@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import Testing

@Suite struct ClusterMarkerWriterTests {
    @Test func markersGoHereToWhatThisBrokerLeadsAndWaitForPartitionsWithNoLiveLeader() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        let topic = try fixture.topic("t", partitions: 3)
        // Partition 1 is offline; partition 2 is led by a broker the cluster does not list.
        fixture.metadata.applyCommitted([1, 2].map { index in
            .partition(PartitionRecord(
                partitionId: index, topicId: topic.id, replicas: [index == 1 ? 1 : 7], isr: [index == 1 ? 1 : 7],
                leader: index == 1 ? -1 : 7, leaderEpoch: 1))
        })
        let writer = ClusterMarkerWriter(
            local: LocalMarkerWriter(partitions: fixture.manager.table, groups: fixture.groups()),
            metadata: fixture.metadata, links: NodeLinks(clientId: "test", security: .plaintext))
        let partitions = (0..<3).map { TopicPartition(topic: "t", partition: $0) } + [TopicPartition(topic: "gone", partition: 0)]
        let results = await writer.write(TransactionMarkers(
            transactionalId: "x", producerId: 5, producerEpoch: 0, coordinatorEpoch: 0, commit: true, partitions: partitions))
        #expect(results == [TopicPartition: ErrorCode](uniqueKeysWithValues: [
            (partitions[0], .none), (partitions[1], .notLeaderOrFollower), (partitions[2], .notLeaderOrFollower),
            (partitions[3], .unknownTopicOrPartition),
        ]))
        #expect(try fixture.storedBatches("t", 0).map(\.isControlBatch) == [true], "the local marker is written")
        #expect(try fixture.storedBatches("t", 1).isEmpty)
    }
}
