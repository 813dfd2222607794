@testable import BrookBroker
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Foundation
import NIOCore
import Testing

@Suite struct ListOffsetsHandlerTests {
    private func batch(producerId: Int64 = -1, transactional: Bool = false, timestamps: [Int64]) throws -> ByteBuffer {
        let configuration = producerId >= 0
            ? RecordBatchBuilder.Configuration(producerId: producerId, producerEpoch: 0, baseSequence: 0, isTransactional: transactional)
            : RecordBatchBuilder.Configuration()
        var builder = RecordBatchBuilder(configuration: configuration)
        for timestamp in timestamps { builder.append(timestamp: timestamp, key: nil, value: ByteBuffer(string: "v")) }
        return try builder.build()
    }

    private func lookup(
        _ handler: ListOffsetsHandler, timestamp: Int64, readCommitted: Bool, version: Int16 = 7
    ) async throws -> (timestamp: Int64, offset: Int64) {
        let request = ListOffsetsRequest(
            replicaId: -1, isolationLevel: readCommitted ? 1 : 0,
            topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, timestamp: timestamp)])])
        let answer = try await serve(handler, request, version: version).topics[0].partitions[0]
        #expect(answer.errorCode == 0)
        return (answer.timestamp, answer.offset)
    }

    @Test func readCommittedAnswersNoRecordAtOrPastTheLastStableOffset() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let partition = fixture.partition("t")
        let now = SystemLogClock().nowMilliseconds()
        try partition.appendAsLeader(try batch(timestamps: [now - 10_000]), requiredAcks: 1)
        // An open transaction holds the last stable offset at 1.
        try partition.appendAsLeader(try batch(producerId: 7, transactional: true, timestamps: [now - 5_000]), requiredAcks: 1)
        let handler = ListOffsetsHandler(partitions: fixture.manager.table)
        #expect(partition.lastStableOffset == 1)

        #expect(try await lookup(handler, timestamp: now - 20_000, readCommitted: true) == (now - 10_000, 0))
        #expect(try await lookup(handler, timestamp: now - 7_000, readCommitted: true) == (-1, -1))
        #expect(try await lookup(handler, timestamp: -3, readCommitted: true) == (-1, -1))
        #expect(try await lookup(handler, timestamp: now - 7_000, readCommitted: false) == (now - 5_000, 1))
        #expect(try await lookup(handler, timestamp: -3, readCommitted: false) == (now - 5_000, 1))

        try partition.appendTransactionMarker(commit: true, producerId: 7, producerEpoch: 0, coordinatorEpoch: 0)
        #expect(try await lookup(handler, timestamp: now - 7_000, readCommitted: true) == (now - 5_000, 1))
        // The newest timestamp is now the marker's, below the last stable offset.
        #expect(try await lookup(handler, timestamp: -3, readCommitted: true).offset == 2)
    }

    @Test func version0AnswersUpToMaxNumOffsetsFromSegmentBaseOffsets() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let partition = fixture.partition("t")
        let now = SystemLogClock().nowMilliseconds()
        for (index, count) in [2, 2, 1].enumerated() {
            if index > 0 { try partition.log.roll() }
            try partition.appendAsLeader(try batch(timestamps: Array(repeating: now, count: count)), requiredAcks: 1)
        }
        // The segments at 0 and 2 were last written at these times.
        for (base, modified) in [(0, 1_000_000), (2, 2_000_000)] as [(Int64, Int64)] {
            let path = partition.log.directory + "/" + String(format: "%020lld.log", base)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: Double(modified) / 1000)], ofItemAtPath: path)
        }
        let handler = ListOffsetsHandler(partitions: fixture.manager.table)
        func offsets(_ timestamp: Int64, max: Int32) async throws -> [Int64] {
            let request = ListOffsetsRequest(
                replicaId: -1, topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, timestamp: timestamp, maxNumOffsets: max)])])
            let answer = try await serve(handler, request, version: 0).topics[0].partitions[0]
            #expect(answer.errorCode == 0)
            return answer.oldStyleOffsets
        }
        #expect(try await offsets(-1, max: 10) == [5, 4, 2, 0])
        #expect(try await offsets(-1, max: 2) == [5, 4])
        #expect(try await offsets(-1, max: 1) == [5])
        #expect(try await offsets(-1, max: 0) == [])
        #expect(try await offsets(-1, max: -5) == [])
        #expect(try await offsets(-2, max: 10) == [0])
        #expect(try await offsets(1_500_000, max: 10) == [0])
        #expect(try await offsets(2_500_000, max: 10) == [2, 0])
        #expect(try await offsets(999_999, max: 10) == [])
        #expect(try await offsets(Int64.max, max: 10) == [5, 4, 2, 0])
    }
}
