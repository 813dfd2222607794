import BrookModel
import BrookRecords
import NIOCore
import Testing

@testable import BrookStorage

@Suite struct LogAppendTests {
    @Test func assignsOffsetsInPlaceAndKeepsRecords() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let first = try log.append(LogFixtures.batch(count: 3, tag: 1), leaderEpoch: LeaderEpoch(4))
        #expect(first.firstOffset == 0)
        #expect(first.lastOffset == 2)
        #expect(first.recordCount == 3)
        let second = try log.append(
            LogFixtures.request([LogFixtures.batch(count: 2, tag: 2), LogFixtures.batch(count: 5, tag: 3)]),
            leaderEpoch: LeaderEpoch(4))
        #expect(second.firstOffset == 3)
        #expect(second.lastOffset == 9)
        #expect(second.batchCount == 2)
        #expect(log.logEndOffset == 10)

        let batches = try LogFixtures.allBatches(log)
        #expect(batches.map(\.baseOffset) == [0, 3, 5])
        #expect(batches.map(\.lastOffset) == [2, 4, 9])
        for batch in batches {
            try batch.validate()
            #expect(batch.partitionLeaderEpoch == 4)
        }
        let records = try batches.flatMap { try $0.records() }
        #expect(records.map(\.offset) == Array(0...9))
        #expect(records[3].value?.logTestBytes == [UInt8](repeating: 2, count: 10))
    }

    @Test func requestBufferIsNeitherMutatedNorCopied() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let request = LogFixtures.request([LogFixtures.batch(count: 2), LogFixtures.batch(count: 2)])
        let before = request.logTestBytes
        try log.append(request, leaderEpoch: LeaderEpoch(1))
        try log.append(request, leaderEpoch: LeaderEpoch(1))
        #expect(request.logTestBytes == before)
        #expect(log.logEndOffset == 8)
    }

    @Test func logAppendTimeStampsBatchesAndKeepsCRCValid() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let clock = ManualLogClock(1_800_000_000_000)
        let log = try LogFixtures.open(directory, ["message.timestamp.type": "LogAppendTime"], clock: clock)
        let info = try log.append(
            LogFixtures.batch(count: 3, timestamp: 5, compression: .lz4), leaderEpoch: LeaderEpoch(0))
        #expect(info.logAppendTime == 1_800_000_000_000)
        #expect(info.maxTimestamp == 1_800_000_000_000)
        let batch = try #require(try LogFixtures.allBatches(log).first)
        try batch.validate()
        #expect(batch.timestampType == .logAppendTime)
        #expect(batch.maxTimestamp == 1_800_000_000_000)
        #expect(try batch.records().allSatisfy { $0.timestamp == 1_800_000_000_000 })
    }

    @Test func createTimeKeepsProducerTimestamps() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let stamps = [LogFixtures.baseTime + 3, LogFixtures.baseTime + 1, LogFixtures.baseTime + 2]
        let info = try log.append(LogFixtures.batch(count: 3, timestamps: stamps), leaderEpoch: LeaderEpoch(0))
        #expect(info.logAppendTime == nil)
        #expect(info.maxTimestamp == LogFixtures.baseTime + 3)
        let batch = try #require(try LogFixtures.allBatches(log).first)
        #expect(batch.timestampType == .createTime)
        #expect(try batch.records().map(\.timestamp) == stamps)
    }

    @Test func batchLargerThanMaxMessageBytesIsRejected() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory, ["max.message.bytes": "500"])
        let small = LogFixtures.batch(count: 1, valueSize: 100)
        let large = LogFixtures.batch(count: 1, valueSize: 600)
        #expect(throws: StorageError.recordTooLarge(size: large.readableBytes, limit: 500)) {
            try log.append(LogFixtures.request([small, large]), leaderEpoch: LeaderEpoch(0))
        }
        // Nothing of the bad request was written.
        #expect(log.logEndOffset == 0)
        #expect(try LogFixtures.allBatches(log).isEmpty)
        try log.append(small, leaderEpoch: LeaderEpoch(0))
        #expect(log.logEndOffset == 1)
    }

    @Test func corruptBatchRejectsTheWholeRequest() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        var bad = LogFixtures.batch(count: 2)
        bad.setInteger(UInt8(0xFF), at: 70)
        let request = LogFixtures.request([LogFixtures.batch(count: 1), bad])
        #expect {
            try log.append(request, leaderEpoch: LeaderEpoch(0))
        } throws: { error in
            guard case StorageError.invalidRecords(.crcMismatch) = error else { return false }
            return true
        }
        #expect(log.logEndOffset == 0)
        #expect(directory.size(directory.segmentFile(0)) == 0)
    }

    @Test func truncatedRequestIsRejected() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let whole = LogFixtures.batch(count: 2)
        let cut = whole.getSlice(at: 0, length: whole.readableBytes - 3)!
        #expect(throws: StorageError.self) {
            try log.append(LogFixtures.request([LogFixtures.batch(), cut]), leaderEpoch: LeaderEpoch(0))
        }
        #expect(log.logEndOffset == 0)
    }

    @Test func controlBatchesOnlyFromTheCoordinator() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let marker = try RecordBatchBuilder.endTransactionMarkerBatch(
            .commit, producerId: 7, producerEpoch: 0, coordinatorEpoch: 1, timestamp: LogFixtures.baseTime)
        #expect(throws: StorageError.self) { try log.append(marker, leaderEpoch: LeaderEpoch(0)) }
        try log.append(marker, leaderEpoch: LeaderEpoch(0), origin: .coordinator)
        #expect(log.logEndOffset == 1)
    }

    @Test func timestampsTooFarInTheFutureAreRejected() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let clock = ManualLogClock(LogFixtures.baseTime)
        let log = try LogFixtures.open(directory, ["message.timestamp.before.max.ms": "60000"], clock: clock)
        #expect(throws: StorageError.self) {
            try log.append(LogFixtures.batch(timestamp: LogFixtures.baseTime + 3_600_001), leaderEpoch: LeaderEpoch(0))
        }
        #expect(throws: StorageError.self) {
            try log.append(LogFixtures.batch(timestamp: LogFixtures.baseTime - 60_001), leaderEpoch: LeaderEpoch(0))
        }
        try log.append(LogFixtures.batch(timestamp: LogFixtures.baseTime + 3_600_000), leaderEpoch: LeaderEpoch(0))
        try log.append(LogFixtures.batch(timestamp: -1), leaderEpoch: LeaderEpoch(0))
        #expect(log.logEndOffset == 2)
    }

    @Test func emptyRequestAppendsNothing() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let info = try log.append(ByteBufferAllocator().buffer(capacity: 0), leaderEpoch: LeaderEpoch(0))
        #expect(info.firstOffset == -1)
        #expect(info.batchCount == 0)
        #expect(log.logEndOffset == 0)
    }

    @Test func followerAppendKeepsOffsetsAndEpochs() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let request = LogFixtures.request([
            LogFixtures.batch(count: 2, baseOffset: 0, leaderEpoch: 1),
            LogFixtures.batch(count: 3, baseOffset: 5, leaderEpoch: 2),
        ])
        let info = try log.appendAsFollower(request)
        #expect(info.firstOffset == 0)
        #expect(info.lastOffset == 7)
        #expect(log.logEndOffset == 8)
        #expect(try LogFixtures.allBatches(log).map(\.baseOffset) == [0, 5])
        #expect(log.epochEntries == [EpochEntry(epoch: LeaderEpoch(1), startOffset: 0), EpochEntry(epoch: LeaderEpoch(2), startOffset: 5)])
        #expect(throws: StorageError.self) {
            try log.appendAsFollower(LogFixtures.batch(count: 1, baseOffset: 7, leaderEpoch: 2))
        }
        let overlapping = LogFixtures.request([
            LogFixtures.batch(count: 2, baseOffset: 8), LogFixtures.batch(count: 1, baseOffset: 9),
        ])
        #expect(throws: StorageError.self) { try log.appendAsFollower(overlapping) }
        #expect(log.logEndOffset == 8)
    }
}
