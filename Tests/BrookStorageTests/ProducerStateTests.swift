@testable import BrookStorage
import BrookModel
import BrookRecords
import NIOCore
import Testing

private func producerBatch(id: Int64, epoch: Int16, sequence: Int32, count: Int = 1) -> ByteBuffer {
    var configuration = RecordBatchBuilder.Configuration()
    configuration.producerId = id
    configuration.producerEpoch = epoch
    configuration.baseSequence = sequence
    var builder = RecordBatchBuilder(configuration: configuration)
    for index in 0..<count {
        builder.append(timestamp: LogFixtures.baseTime + Int64(index), key: nil, value: ByteBuffer(string: "v\(sequence + Int32(index))"))
    }
    return try! builder.build()
}

@Suite struct ProducerStateTableTests {
    @Test func sequencesMustFollowWithinAnEpoch() throws {
        var table = ProducerStateTable()
        // An unknown producer must start at 0 (UNKNOWN_PRODUCER_ID otherwise).
        #expect(throws: StorageError.unknownProducerId(producerId: 1, sequence: 7)) {
            try table.check(producerId: 1, epoch: 0, firstSequence: 7, lastSequence: 7)
        }
        #expect(try table.check(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 0) == .append)
        table.record(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 2, firstOffset: 10, lastOffset: 12, maxTimestamp: 5)
        #expect(try table.check(producerId: 1, epoch: 0, firstSequence: 3, lastSequence: 4) == .append)
        #expect(try table.check(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 2)
                == .duplicate(.init(firstSequence: 0, lastSequence: 2, firstOffset: 10, lastOffset: 12, maxTimestamp: 5)))
        #expect(throws: StorageError.self) { try table.check(producerId: 1, epoch: 0, firstSequence: 4, lastSequence: 4) }
        #expect(throws: StorageError.self) { try table.check(producerId: 1, epoch: 1, firstSequence: 3, lastSequence: 3) }
        #expect(try table.check(producerId: 1, epoch: 1, firstSequence: 0, lastSequence: 0) == .append)
        table.record(producerId: 1, epoch: 1, firstSequence: 0, lastSequence: 0, firstOffset: 13, lastOffset: 13, maxTimestamp: 6)
        #expect(throws: StorageError.self) { try table.check(producerId: 1, epoch: 0, firstSequence: 3, lastSequence: 3) }
    }

    @Test func onlyTheLastFiveBatchesAreRememberedAndSequencesWrap() throws {
        var table = ProducerStateTable()
        for batch in 0..<7 {
            table.record(producerId: 1, epoch: 0, firstSequence: Int32(batch), lastSequence: Int32(batch),
                         firstOffset: Int64(batch), lastOffset: Int64(batch), maxTimestamp: 0)
        }
        #expect(table.entries[1]?.batches.map(\.firstSequence) == [2, 3, 4, 5, 6])
        table.record(producerId: 2, epoch: 0, firstSequence: Int32.max - 1, lastSequence: Int32.max, firstOffset: 9, lastOffset: 10, maxTimestamp: 0)
        #expect(try table.check(producerId: 2, epoch: 0, firstSequence: 0, lastSequence: 0) == .append)
    }

    @Test func snapshotsRoundTripAndRejectDamage() throws {
        var table = ProducerStateTable()
        table.record(producerId: 7, epoch: 3, firstSequence: 10, lastSequence: 14, firstOffset: 100, lastOffset: 104, maxTimestamp: 42)
        let bytes = ProducerStateSnapshot.encode(table)
        let restored = try #require(ProducerStateSnapshot.decode(bytes))
        #expect(restored == table)
        var damaged = bytes
        let at = damaged.writerIndex - 30
        damaged.setInteger(damaged.getInteger(at: at, as: UInt8.self)! ^ 0x01, at: at)
        #expect(ProducerStateSnapshot.decode(damaged) == nil)
    }

    @Test func idleProducersExpire() {
        var table = ProducerStateTable()
        table.record(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 0, firstOffset: 0, lastOffset: 0, maxTimestamp: 100)
        table.record(producerId: 2, epoch: 0, firstSequence: 0, lastSequence: 0, firstOffset: 1, lastOffset: 1, maxTimestamp: 200)
        #expect(table.removeExpired(before: 150) == 1)
        #expect(Array(table.entries.keys) == [2])
    }
}

@Suite struct LogProducerStateTests {
    @Test func aRetryIsAnsweredWithTheOriginalOffsetsAndNotWritten() throws {
        let directory = try LogTestDirectory("producer-retry")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let first = producerBatch(id: 5, epoch: 0, sequence: 0, count: 3)
        #expect(try log.append(first, leaderEpoch: LeaderEpoch(0)).firstOffset == 0)
        let retry = try log.append(first, leaderEpoch: LeaderEpoch(0))
        #expect(retry.firstOffset == 0 && retry.lastOffset == 2 && retry.batchCount == 0)
        #expect(log.logEndOffset == 3)
        #expect(throws: StorageError.self) { try log.append(producerBatch(id: 5, epoch: 0, sequence: 9), leaderEpoch: LeaderEpoch(0)) }
        #expect(log.logEndOffset == 3)
    }

    @Test func stateComesBackFromTheSnapshotOrFromTheLog() throws {
        for clean in [true, false] {
            let directory = try LogTestDirectory("producer-reopen")
            defer { directory.remove() }
            let log = try LogFixtures.open(directory)
            let last = producerBatch(id: 5, epoch: 0, sequence: 0, count: 2)
            try log.append(last, leaderEpoch: LeaderEpoch(0))
            if clean { try log.close() }
            let reopened = try LogFixtures.open(directory, clean: clean)
            #expect(reopened.producerState.entries[5]?.lastSequence == 1)
            #expect(try reopened.append(last, leaderEpoch: LeaderEpoch(0)).batchCount == 0)
            #expect(try reopened.append(producerBatch(id: 5, epoch: 0, sequence: 2), leaderEpoch: LeaderEpoch(0)).firstOffset == 2)
            try reopened.close()
        }
    }

    @Test func truncationForgetsTheBatchesItRemoves() throws {
        let directory = try LogTestDirectory("producer-truncate")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try log.append(producerBatch(id: 5, epoch: 0, sequence: 0), leaderEpoch: LeaderEpoch(0))
        try log.append(producerBatch(id: 5, epoch: 0, sequence: 1), leaderEpoch: LeaderEpoch(0))
        try log.truncate(to: 1)
        #expect(log.producerState.entries[5]?.lastSequence == 0)
        #expect(try log.append(producerBatch(id: 5, epoch: 0, sequence: 1), leaderEpoch: LeaderEpoch(0)).firstOffset == 1)
    }
}
