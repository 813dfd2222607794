@testable import BrookBroker
import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Testing

@Suite struct TxnOffsetCommitHandlerTests {
    private static let offsetsTopic = GroupCoordinatorHost.topicName

    private func commitRequest(group: String = "g", producerId: Int64 = 9) -> TxnOffsetCommitRequest {
        TxnOffsetCommitRequest(
            transactionalId: "txn", groupId: group, producerId: producerId, producerEpoch: 0,
            topics: [
                .init(name: "t", partitions: [
                    .init(partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: 2, committedMetadata: "m"),
                    .init(partitionIndex: 5, committedOffset: 11),
                ]),
                .init(name: "missing", partitions: [.init(partitionIndex: 0, committedOffset: 12)]),
            ])
    }

    private func errors(_ response: TxnOffsetCommitResponse) -> [String: [Int16]] {
        Dictionary(uniqueKeysWithValues: response.topics.map { ($0.name, $0.partitions.map(\.errorCode)) })
    }

    /// OffsetFetch v7 (one group) or v8 (groups) of partition 0 of "t" with require_stable:
    /// (group error, partition error, offset).
    private func fetchStable(_ groups: GroupCoordinatorHost, version: Int16) async throws -> (Int16, Int16, Int64) {
        let handler = OffsetFetchHandler(groups: groups)
        if version >= 8 {
            let request = OffsetFetchRequest(
                groups: [.init(groupId: "g", topics: [.init(name: "t", partitionIndexes: [0])])], requireStable: true)
            let group = try await serve(handler, request, version: version).groups[0]
            let partition = group.topics[0].partitions[0]
            return (group.errorCode, partition.errorCode, partition.committedOffset)
        }
        let request = OffsetFetchRequest(groupId: "g", topics: [.init(name: "t", partitionIndexes: [0])], requireStable: true)
        let response = try await serve(handler, request, version: version)
        let partition = response.topics[0].partitions[0]
        return (response.errorCode, partition.errorCode, partition.committedOffset)
    }

    @Test(arguments: [0, 1, 2, 3, 4] as [Int16]) func offsetsCountOnceTheCommitMarkerIsWritten(version: Int16) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", partitions: 2)
        let groups = fixture.groups()
        let handler = TxnOffsetCommitHandler(groups: groups, metadata: fixture.metadata)

        let response = try await serve(handler, commitRequest(), version: version)
        #expect(errors(response) == ["t": [ErrorCode.none.code, ErrorCode.unknownTopicOrPartition.code],
                                     "missing": [ErrorCode.unknownTopicOrPartition.code]])
        let offsets = fixture.partition(Self.offsetsTopic)
        let stored = try fixture.storedBatches(Self.offsetsTopic)
        #expect(stored.count == 1 && stored[0].isTransactional && stored[0].producerId == 9 && stored[0].baseSequence == -1)
        #expect(offsets.lastStableOffset == 0)
        for fetchVersion: Int16 in [7, 8] {
            #expect(try await fetchStable(groups, version: fetchVersion) == (0, ErrorCode.unstableOffsetCommit.code, -1))
        }

        let markers = WriteTxnMarkersHandler(partitions: fixture.manager.table, groups: groups, highestCoordinatorEpoch: { 1 })
        let written = try await serve(markers, WriteTxnMarkersRequest(markers: [
            .init(producerId: 9, producerEpoch: 0, transactionResult: true,
                  topics: [.init(name: Self.offsetsTopic, partitionIndexes: [0])], coordinatorEpoch: 1),
        ]), version: 1)
        #expect(written.markers[0].topics[0].partitions[0].errorCode == ErrorCode.none.code)
        #expect(offsets.lastStableOffset == offsets.log.logEndOffset)
        for fetchVersion: Int16 in [7, 8] {
            #expect(try await fetchStable(groups, version: fetchVersion) == (0, 0, 10))
        }
        let fetched = try #require(await groups.started?.shard(for: "g").fetchOffsets(groupId: "g", partitions: nil).1)
        #expect(fetched[TopicPartition(topic: "t", partition: 0)]?.leaderEpoch == (version >= 2 ? 2 : -1))
    }

    @Test func abortedOffsetsNeverShowAndAReloadAgrees() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", partitions: 2)
        let groups = fixture.groups()
        let handler = TxnOffsetCommitHandler(groups: groups, metadata: fixture.metadata)
        _ = try await serve(handler, commitRequest(producerId: 3), version: 3)
        let markers = WriteTxnMarkersHandler(partitions: fixture.manager.table, groups: groups, highestCoordinatorEpoch: { 1 })
        _ = try await serve(markers, WriteTxnMarkersRequest(markers: [
            .init(producerId: 3, producerEpoch: 0, transactionResult: false,
                  topics: [.init(name: Self.offsetsTopic, partitionIndexes: [0])], coordinatorEpoch: 1),
        ]), version: 1)
        #expect(try await fetchStable(groups, version: 7) == (0, 0, -1))
        // A fenced producer epoch is refused by the log.
        var stale = commitRequest(producerId: 3)
        stale.producerEpoch = -1
        stale.topics = [stale.topics[0]]
        #expect(errors(try await serve(handler, stale, version: 3))["t"]?.first == ErrorCode.invalidProducerEpoch.code)

        let reloaded = fixture.groups()
        try reloaded.loadNow()
        #expect(try await fetchStable(reloaded, version: 7) == (0, 0, -1))
        var empty = commitRequest()
        empty.groupId = ""
        #expect(errors(try await serve(handler, empty, version: 3))["t"] == [ErrorCode.invalidGroupId.code, ErrorCode.unknownTopicOrPartition.code])
    }
}
