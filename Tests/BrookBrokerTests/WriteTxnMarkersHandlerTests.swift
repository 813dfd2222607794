@testable import BrookBroker
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import NIOCore
import Testing

@Suite struct WriteTxnMarkersHandlerTests {
    private func transactional(producerId: Int64, values: Int) throws -> ByteBuffer {
        var configuration = RecordBatchBuilder.Configuration(producerId: producerId, producerEpoch: 0, baseSequence: 0, isTransactional: true)
        // Current time: older records would make the markers roll a new segment (segment.ms).
        let now = SystemLogClock().nowMilliseconds()
        var builder = RecordBatchBuilder(configuration: configuration)
        for index in 0..<values {
            builder.append(timestamp: now, key: nil, value: ByteBuffer(string: "p\(producerId)-\(index)"))
        }
        return try builder.build()
    }

    private func marker(_ producerId: Int64, commit: Bool, coordinatorEpoch: Int32 = 1, partitions: [Int32] = [0])
        -> WriteTxnMarkersRequest.WritableTxnMarker
    {
        .init(producerId: producerId, producerEpoch: 0, transactionResult: commit,
              topics: [.init(name: "t", partitionIndexes: partitions)], coordinatorEpoch: coordinatorEpoch)
    }

    private func latest(_ handler: ListOffsetsHandler, isolationLevel: Int8) async throws -> Int64 {
        let request = ListOffsetsRequest(
            replicaId: -1, isolationLevel: isolationLevel,
            topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, timestamp: -1)])])
        return try await serve(handler, request, version: 5).topics[0].partitions[0].offset
    }

    @Test(arguments: [0, 1] as [Int16]) func markersCloseTransactionsPerPartition(version: Int16) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let partition = fixture.partition("t")
        try partition.appendAsLeader(try transactional(producerId: 1, values: 2), requiredAcks: 1)
        try partition.appendAsLeader(try transactional(producerId: 2, values: 1), requiredAcks: 1)
        let listOffsets = ListOffsetsHandler(partitions: fixture.manager.table)
        #expect(partition.lastStableOffset == 0)
        #expect(try await latest(listOffsets, isolationLevel: 1) == 0)
        #expect(try await latest(listOffsets, isolationLevel: 0) == 3)

        let handler = WriteTxnMarkersHandler(partitions: fixture.manager.table, groups: fixture.groups(), highestCoordinatorEpoch: { 1 })
        let request = WriteTxnMarkersRequest(markers: [marker(1, commit: true), marker(2, commit: false, partitions: [0, 7])])
        let response = try await serve(handler, request, version: version)
        #expect(response.markers.map(\.producerId) == [1, 2])
        #expect(response.markers[0].topics[0].partitions.map(\.errorCode) == [ErrorCode.none.rawValue])
        #expect(response.markers[1].topics[0].partitions.map(\.errorCode)
                == [ErrorCode.none.rawValue, ErrorCode.unknownTopicOrPartition.rawValue])
        #expect(partition.log.logEndOffset == 5 && partition.lastStableOffset == 5)
        #expect(try await latest(listOffsets, isolationLevel: 1) == 5)
        #expect(partition.log.abortedTransactions(from: 0, to: 5)
                == [AbortedTransaction(producerId: 2, firstOffset: 2, lastOffset: 4, lastStableOffset: 5)])
        let stored = try fixture.storedBatches("t")
        #expect(stored.map(\.isControlBatch) == [false, false, true, true])
        let markers = stored.filter(\.isControlBatch)
        #expect(markers.map { try! $0.records()[0].controlKey().type } == [.commit, .abort])

        let stale = try await serve(handler, WriteTxnMarkersRequest(markers: [marker(1, commit: true, coordinatorEpoch: 0)]), version: version)
        #expect(stale.markers[0].topics[0].partitions[0].errorCode == ErrorCode.transactionCoordinatorFenced.rawValue)
    }
}
