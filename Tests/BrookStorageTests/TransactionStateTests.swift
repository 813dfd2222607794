@testable import BrookStorage
import BrookModel
import BrookRecords
import Foundation
import NIOCore
import Testing

private func txnBatch(id: Int64, epoch: Int16 = 0, sequence: Int32, count: Int = 1) -> ByteBuffer {
    var configuration = RecordBatchBuilder.Configuration()
    configuration.producerId = id
    configuration.producerEpoch = epoch
    configuration.baseSequence = sequence
    configuration.isTransactional = true
    var builder = RecordBatchBuilder(configuration: configuration)
    for index in 0..<count {
        builder.append(timestamp: LogFixtures.baseTime, key: nil, value: ByteBuffer(string: "t\(id)-\(sequence + Int32(index))"))
    }
    return try! builder.build()
}

private func marker(_ type: ControlRecordType, id: Int64, epoch: Int16 = 0, coordinatorEpoch: Int32 = 0) -> ByteBuffer {
    try! RecordBatchBuilder.endTransactionMarkerBatch(
        type, producerId: id, producerEpoch: epoch, coordinatorEpoch: coordinatorEpoch, timestamp: LogFixtures.baseTime)
}

@Suite struct ProducerStateTransactionTests {
    @Test func transactionalBatchesOpenATransactionAndMarkersCloseIt() throws {
        var table = ProducerStateTable()
        table.record(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 1, firstOffset: 10, lastOffset: 11, maxTimestamp: 5, isTransactional: true)
        table.record(producerId: 2, epoch: 0, firstSequence: 0, lastSequence: 0, firstOffset: 12, lastOffset: 12, maxTimestamp: 5, isTransactional: true)
        table.record(producerId: 1, epoch: 0, firstSequence: 2, lastSequence: 2, firstOffset: 13, lastOffset: 13, maxTimestamp: 5, isTransactional: true)
        table.record(producerId: 3, epoch: 0, firstSequence: 0, lastSequence: 0, firstOffset: 14, lastOffset: 14, maxTimestamp: 5)
        #expect(table.entries[1]?.currentTxnFirstOffset == 10)
        #expect(table.entries[3]?.currentTxnFirstOffset == nil)
        #expect(table.firstUnstableOffset == 10)
        let aborted = table.endTransaction(producerId: 1, epoch: 0, coordinatorEpoch: 4, offset: 15, isAbort: true, timestamp: 6)
        #expect(aborted == .init(producerId: 1, firstOffset: 10, lastOffset: 15, isAborted: true, lastStableOffset: 12))
        #expect(table.firstUnstableOffset == 12)
        let committed = table.endTransaction(producerId: 2, epoch: 0, coordinatorEpoch: 4, offset: 16, isAbort: false, timestamp: 6)
        #expect(committed.lastStableOffset == 17 && table.firstUnstableOffset == nil)
        #expect(throws: StorageError.transactionCoordinatorFenced(producerId: 1, coordinatorEpoch: 3, current: 4)) {
            try table.checkMarker(producerId: 1, epoch: 0, coordinatorEpoch: 3)
        }
        let empty = table.endTransaction(producerId: 9, epoch: 2, coordinatorEpoch: 4, offset: 20, isAbort: true, timestamp: 6)
        #expect(empty.firstOffset == 20 && table.entries[9]?.batches.isEmpty == true)
    }

    @Test func snapshotsKeepOpenTransactionsAndCoordinatorEpochs() throws {
        var table = ProducerStateTable()
        table.record(producerId: 1, epoch: 2, firstSequence: 0, lastSequence: 1, firstOffset: 10, lastOffset: 11, maxTimestamp: 5, isTransactional: true)
        table.endTransaction(producerId: 2, epoch: 1, coordinatorEpoch: 7, offset: 12, isAbort: false, timestamp: 6)
        let restored = try #require(ProducerStateSnapshot.decode(ProducerStateSnapshot.encode(table)))
        #expect(restored == table)
        #expect(restored.firstUnstableOffset == 10 && restored.entries[2]?.coordinatorEpoch == 7)
    }

    @Test func producersInATransactionDoNotExpire() {
        var table = ProducerStateTable()
        table.record(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 0, firstOffset: 0, lastOffset: 0, maxTimestamp: 100, isTransactional: true)
        #expect(table.removeExpired(before: 150) == 0)
    }
}

@Suite struct LogTransactionTests {
    /// Producer 1 writes offsets 0-1 and 3, producer 2 offset 2; both stay open.
    private func twoOpenTransactions(_ log: PartitionLog) throws {
        try log.append(txnBatch(id: 1, sequence: 0, count: 2), leaderEpoch: LeaderEpoch(0))
        try log.append(txnBatch(id: 2, sequence: 0), leaderEpoch: LeaderEpoch(0))
        try log.append(txnBatch(id: 1, sequence: 2), leaderEpoch: LeaderEpoch(0))
    }

    @Test func markersMoveTheLastStableOffsetAndAbortsAreIndexed() throws {
        let directory = try LogTestDirectory("txn-lso")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try twoOpenTransactions(log)
        #expect(log.lastStableOffset(highWatermark: 4) == 0)
        var plain = RecordBatchBuilder(configuration: .init(producerId: 1, producerEpoch: 0, baseSequence: 3))
        plain.append(timestamp: LogFixtures.baseTime, key: nil, value: ByteBuffer(string: "not in the transaction"))
        #expect(throws: StorageError.invalidTransactionState(producerId: 1)) {
            try log.append(try plain.build(), leaderEpoch: LeaderEpoch(0))
        }
        #expect(throws: StorageError.self) { try log.append(marker(.commit, id: 2), leaderEpoch: LeaderEpoch(0)) }
        try log.append(marker(.commit, id: 2), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        #expect(log.lastStableOffset(highWatermark: 5) == 0)
        try log.append(marker(.abort, id: 1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        #expect(log.firstUnstableOffset == nil && log.lastStableOffset(highWatermark: 6) == 6)
        #expect(log.lastStableOffset(highWatermark: 5) == 5)
        let expected = AbortedTransaction(producerId: 1, firstOffset: 0, lastOffset: 5, lastStableOffset: 6)
        #expect(log.allAbortedTransactions == [expected])
        #expect(log.abortedTransactions(from: 0, to: 6) == [expected])
        #expect(log.abortedTransactions(from: 6, to: 7).isEmpty)
        #expect(directory.size(directory.segmentFile(0, "txnindex")) == 34)
        #expect(throws: StorageError.self) {
            try log.append(marker(.abort, id: 1, coordinatorEpoch: -1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        }
    }

    /// The group coordinator's transactional offset commits: no sequence (-1), appended as the
    /// coordinator, so neither sequence gaps nor retries are looked for, but old epochs are fenced.
    @Test func coordinatorAppendsSkipSequenceChecksButNotEpochFencing() throws {
        let directory = try LogTestDirectory("txn-coordinator")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let noSequence = txnBatch(id: 7, epoch: 2, sequence: -1, count: 2)
        try log.append(noSequence, leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        let again = try log.append(noSequence, leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        #expect(again.firstOffset == 2 && again.batchCount == 1)
        #expect(log.producerState.entries[7]?.lastSequence == -1)
        #expect(log.lastStableOffset(highWatermark: 4) == 0)
        #expect(throws: StorageError.invalidProducerEpoch(producerId: 7, epoch: 1, current: 2)) {
            try log.append(txnBatch(id: 7, epoch: 1, sequence: -1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        }
        try log.append(marker(.commit, id: 7, epoch: 2), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        #expect(log.firstUnstableOffset == nil && log.lastStableOffset(highWatermark: 5) == 5)
    }

    @Test func anAbortInALaterSegmentIsFoundFromAnEarlierOffset() throws {
        let directory = try LogTestDirectory("txn-segments")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try twoOpenTransactions(log)
        try log.roll()
        try log.append(marker(.abort, id: 1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        try log.append(marker(.abort, id: 2), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        #expect(directory.size(directory.segmentFile(4, "txnindex")) == 68)
        #expect(!directory.exists(directory.segmentFile(0, "txnindex")))
        #expect(log.abortedTransactions(from: 1, to: 3).map(\.producerId) == [1, 2])
        #expect(log.abortedTransactions(from: 0, to: 2).map(\.producerId) == [1])
    }

    @Test func openTransactionsAndTheIndexComeBackAfterCleanAndUncleanStops() throws {
        for clean in [true, false] {
            let directory = try LogTestDirectory("txn-reopen")
            defer { directory.remove() }
            let log = try LogFixtures.open(directory)
            try twoOpenTransactions(log)
            try log.roll()
            try log.append(marker(.abort, id: 1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
            try log.append(txnBatch(id: 3, sequence: 0), leaderEpoch: LeaderEpoch(0))
            let index = log.allAbortedTransactions
            if clean {
                try log.close()
            } else {
                // A crash that lost the index write: recovery rebuilds it from the markers.
                try? FileManager.default.removeItem(atPath: directory.segmentFile(4, "txnindex"))
            }
            let reopened = try LogFixtures.open(directory, clean: clean)
            #expect(reopened.allAbortedTransactions == index)
            #expect(reopened.producerState.ongoingTransactions == [2: 2, 3: 5])
            #expect(reopened.lastStableOffset(highWatermark: 6) == 2)
            try reopened.close()
        }
    }

    @Test func aFollowerLearnsTransactionsFromTheLeadersBatches() throws {
        let directory = try LogTestDirectory("txn-follower")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        var configuration = RecordBatchBuilder.Configuration(baseOffset: 0, producerId: 4, producerEpoch: 0, baseSequence: 0, isTransactional: true)
        configuration.partitionLeaderEpoch = 0
        var builder = RecordBatchBuilder(configuration: configuration)
        builder.append(timestamp: LogFixtures.baseTime, key: nil, value: ByteBuffer(string: "x"))
        try log.appendAsFollower(try builder.build())
        #expect(log.firstUnstableOffset == 0)
        try log.appendAsFollower(try RecordBatchBuilder.endTransactionMarkerBatch(
            .abort, producerId: 4, producerEpoch: 0, coordinatorEpoch: 2, timestamp: LogFixtures.baseTime, baseOffset: 1,
            partitionLeaderEpoch: 0))
        #expect(log.firstUnstableOffset == nil)
        #expect(log.allAbortedTransactions == [AbortedTransaction(producerId: 4, firstOffset: 0, lastOffset: 1, lastStableOffset: 2)])
    }

    @Test func cleaningKeepsTheAbortedTransactionsOfTheSegmentsItReplaces() throws {
        let directory = try LogTestDirectory("txn-clean")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock)
        var configuration = RecordBatchBuilder.Configuration(producerId: 1, producerEpoch: 0, baseSequence: 0, isTransactional: true)
        configuration.baseTimestamp = LogFixtures.baseTime
        var builder = RecordBatchBuilder(configuration: configuration)
        builder.append(timestamp: LogFixtures.baseTime, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "aborted"))
        try log.append(try builder.build(), leaderEpoch: LeaderEpoch(0))
        try log.append(marker(.abort, id: 1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        for index in 0..<40 {
            try CleaningFixtures.append(log, [("k\(index % 4)", "v\(index)")])
        }
        let before = log.allAbortedTransactions
        #expect(before == [AbortedTransaction(producerId: 1, firstOffset: 0, lastOffset: 1, lastStableOffset: 2)])
        let report = try LogCleaner(configuration: .init(offsetMapMemoryBytes: 1 << 16))
            .cleanIfNeeded(log: log, now: clock.nowMilliseconds(), checkpoint: nil)
        #expect(report.cleaned)
        #expect(log.allAbortedTransactions == before)
        #expect(log.abortedTransactions(from: 0, to: 2) == before)
        try log.close()
        let reopened = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock)
        #expect(reopened.allAbortedTransactions == before)
    }

    @Test func anInterruptedSwapBringsItsTransactionIndexAlong() throws {
        let directory = try LogTestDirectory("txn-swap")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock)
        try log.append(txnBatch(id: 1, sequence: 0), leaderEpoch: LeaderEpoch(0))
        try log.append(marker(.abort, id: 1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        for index in 0..<20 {
            try CleaningFixtures.append(log, [("k\(index)", "v\(index)")])
        }
        let before = log.allAbortedTransactions
        let original = try #require(log.cleanableSegments(below: .max).first)
        let cleaned = try log.makeCleanedSegment(replacing: original)
        try original.forEachBatch { (batch) throws(StorageError) in try cleaned.append(batch.bytes) }
        for transaction in original.segment.allAbortedTransactions {
            try cleaned.segment.appendAbortedTransaction(transaction)
        }
        try cleaned.segment.deactivate()
        try cleaned.segment.flush()
        try cleaned.segment.rename(suffix: SegmentFileName.swapSuffix)
        #expect(directory.exists(directory.segmentFile(0, "txnindex.swap")))
        try log.close()
        let reopened = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock)
        #expect(reopened.allAbortedTransactions == before)
        #expect(directory.fileNames.allSatisfy { !$0.contains(".swap") })
    }

    #if os(Linux)
    @Test func theTransactionIndexHoldsNoDescriptor() throws {
        let directory = try LogTestDirectory("txn-descriptors")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try twoOpenTransactions(log)
        try log.append(marker(.abort, id: 1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        try log.flush()
        try log.truncate(to: 5)
        #expect(directory.exists(directory.segmentFile(0, "txnindex")))
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)
        }.filter { $0.hasPrefix(directory.path + "/") }
        #expect(open == [directory.segmentFile(0)])
        try log.close()
    }
    #endif

    @Test func truncatingAMarkerReopensItsTransactionAndDropsItsEntry() throws {
        let directory = try LogTestDirectory("txn-truncate")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try twoOpenTransactions(log)
        try log.append(marker(.abort, id: 1), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        try log.append(marker(.abort, id: 2), leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        #expect(log.firstUnstableOffset == nil && log.allAbortedTransactions.count == 2)
        try log.truncate(to: 5)
        #expect(log.allAbortedTransactions.map(\.producerId) == [1])
        #expect(log.producerState.ongoingTransactions == [2: 2])
        try log.truncate(to: 4)
        #expect(log.allAbortedTransactions.isEmpty)
        #expect(log.producerState.ongoingTransactions == [1: 0, 2: 2])
    }
}
