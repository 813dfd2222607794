import BrookModel
import BrookRecords
import NIOCore
import Testing

@testable import BrookStorage

@Suite struct LogTruncationTests {
    /// Twenty batches of three records (offsets 0..<60) in segments of about four batches.
    func sixtyRecords(_ directory: LogTestDirectory, clock: ManualLogClock = ManualLogClock(), delay: Int64 = 60_000) throws -> PartitionLog {
        let size = LogFixtures.batch(count: 3).readableBytes
        let log = try LogFixtures.open(
            directory, ["segment.bytes": String(size * 4), "file.delete.delay.ms": String(delay)], clock: clock)
        for index in 0..<20 {
            try log.append(LogFixtures.batch(count: 3), leaderEpoch: LeaderEpoch(Int32(index / 5)))
        }
        return log
    }

    @Test func truncateRemovesTheBatchHoldingTheOffsetAndEverythingAfter() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try sixtyRecords(directory)
        #expect(log.segmentCount == 5)
        try log.truncate(to: 60)
        #expect(log.logEndOffset == 60)
        try log.truncate(to: 31)
        #expect(log.logEndOffset == 30)
        #expect(log.segmentCount == 3)
        #expect(try LogFixtures.allBatches(log).last?.lastOffset == 29)
        #expect(log.epochEntries.map(\.epoch.rawValue) == [0, 1])
        #expect(log.recoveryPoint <= 30)
        #expect(log.pendingDeletions.count == 2)
        // Appends continue at the new end, in the truncated segment.
        let info = try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(7))
        #expect(info.firstOffset == 30)
        #expect(log.endOffset(forEpoch: LeaderEpoch(1)) == EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(30)))
        try log.truncate(to: 24)
        #expect(log.logEndOffset == 24)
        try log.close()
        let reopened = try LogFixtures.open(directory, clean: false)
        #expect(reopened.logEndOffset == 24)
        #expect(try LogFixtures.allBatches(reopened).count == 8)
    }

    @Test func truncatingAtTheEndDropsAnEpochNothingWasWrittenIn() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try sixtyRecords(directory)
        // Led in epoch 9 without writing, then a follower again: the epoch must not linger, or
        // its fetches would keep naming it to a leader that never had it.
        try log.assignEpochStartOffset(LeaderEpoch(9))
        #expect(log.latestEpoch == LeaderEpoch(9))
        try log.truncate(to: 60)
        #expect(log.logEndOffset == 60)
        #expect(log.latestEpoch == LeaderEpoch(3))
    }

    @Test func truncateBelowTheFirstSegmentRestartsTheLog() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try sixtyRecords(directory)
        try log.truncateFullyAndStart(at: 100)
        #expect(log.logStartOffset == 100)
        #expect(log.logEndOffset == 100)
        #expect(log.segmentCount == 1)
        #expect(log.epochEntries.isEmpty)
        #expect(try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(9)).firstOffset == 100)
        try log.close()
        let reopened = try LogFixtures.open(directory, clean: true)
        #expect(reopened.logStartOffset == 100)
        #expect(reopened.logEndOffset == 101)
    }

    @Test func deleteRecordsMovesTheStartAndDropsWholeSegments() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try sixtyRecords(directory)
        #expect(try log.deleteRecordsBefore(10) == 10)
        #expect(log.logStartOffset == 10)
        #expect(log.segmentCount == 5)  // segment 0 holds 0..<12: kept
        #expect(try log.deleteRecordsBefore(5) == 10)
        #expect(try log.deleteRecordsBefore(25) == 25)
        #expect(log.segmentCount == 3)
        #expect(log.epochEntries.first == EpochEntry(epoch: LeaderEpoch(1), startOffset: 25))
        #expect(throws: StorageError.self) { try log.deleteRecordsBefore(61) }
        #expect(try log.deleteRecordsBefore(60) == 60)
        #expect(log.segmentCount == 1)
        #expect(try log.read(from: 60, maxBytes: 100).region == nil)
        #expect(try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(4)).firstOffset == 60)
    }

    @Test func deletedSegmentsWaitForTheDeleteDelay() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try sixtyRecords(directory, clock: clock, delay: 1_000)
        let deleted = try log.deleteSegments { $0.baseOffset < 24 }
        #expect(deleted.map(\.baseOffset) == [0, 12])
        #expect(log.logStartOffset == 24)
        #expect(!directory.exists(directory.segmentFile(0)))
        #expect(directory.exists(directory.segmentFile(0) + ".deleted"))
        #expect(directory.exists(directory.segmentFile(12, "index") + ".deleted"))
        #expect(try log.deleteExpiredSegmentFiles() == 0)
        clock.advance(by: 1_000)
        #expect(try log.deleteExpiredSegmentFiles() == 2)
        #expect(!directory.fileNames.contains { $0.hasSuffix(".deleted") })
        #expect(log.pendingDeletions.isEmpty)
    }

    @Test func deletingEverythingRollsAndKeepsAnActiveSegment() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try sixtyRecords(directory)
        let deleted = try log.deleteSegments { _ in true }
        #expect(deleted.count == 5)
        #expect(log.segmentCount == 1)
        #expect(log.logStartOffset == 60)
        #expect(log.logEndOffset == 60)
        // An empty active segment is never deleted.
        #expect(try log.deleteSegments { _ in true }.isEmpty)
        #expect(log.segmentCount == 1)
        #expect(try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(5)).firstOffset == 60)
    }

    @Test func retentionStopsAtTheFirstSegmentKept() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try sixtyRecords(directory)
        let deleted = try log.deleteSegments { $0.baseOffset != 12 }
        #expect(deleted.map(\.baseOffset) == [0])
        #expect(log.logStartOffset == 12)
    }

    @Test func retentionPolicyDecisionsApply() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try sixtyRecords(directory)
        let decision = RetentionPolicy(retentionMs: -1, retentionBytes: 300).evaluate(
            segments: try log.segmentSummaries(), logStartOffset: log.logStartOffset,
            highWatermark: log.logEndOffset, nowMs: LogFixtures.baseTime)
        let doomed = Set(decision.segmentsToDelete.map(\.baseOffset))
        try log.deleteSegments { doomed.contains($0.baseOffset) }
        #expect(log.logStartOffset == decision.newLogStartOffset)
        #expect(log.sizeInBytes <= 300 + LogFixtures.batch(count: 3).readableBytes * 4)
    }
}
