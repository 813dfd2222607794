import BrookModel
import BrookRecords
import NIOCore
import Testing

@testable import BrookStorage

@Suite struct LogSegmentTests {
    @Test func segmentFilesAreNamedByBaseOffset() throws {
        #expect(SegmentFileName.stem(0) == "00000000000000000000")
        #expect(SegmentFileName.stem(1_234) == "00000000000000001234")
        #expect(SegmentFileName.path(directory: "/d", baseOffset: 42, kind: .timeIndex) == "/d/00000000000000000042.timeindex")
        #expect(SegmentFileName.parse("00000000000000000042.log")! == (42, .log, ""))
        #expect(SegmentFileName.parse("00000000000000000042.index.deleted")! == (42, .index, ".deleted"))
        #expect(SegmentFileName.parse("00000000000000000042.log.swap")! == (42, .log, ".swap"))
        #expect(SegmentFileName.parse("42.log") == nil)
        #expect(SegmentFileName.parse("leader-epoch-checkpoint") == nil)
        #expect(SegmentFileName.parse("0000000000000000004x.log") == nil)
    }

    @Test func rollsOnSegmentBytes() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let batch = LogFixtures.batch(count: 1, valueSize: 100)
        let log = try LogFixtures.open(directory, ["segment.bytes": String(batch.readableBytes * 3)])
        for _ in 0..<7 {
            try log.append(batch, leaderEpoch: LeaderEpoch(0))
        }
        #expect(log.segmentCount == 3)
        #expect(directory.exists(directory.segmentFile(0)))
        #expect(directory.exists(directory.segmentFile(3)))
        #expect(directory.exists(directory.segmentFile(6)))
        #expect(directory.size(directory.segmentFile(0)) == batch.readableBytes * 3)
        // Rolled segments have trimmed indexes and are durable up to the roll.
        #expect(directory.size(directory.segmentFile(0, "index")) % 8 == 0)
        #expect(directory.size(directory.segmentFile(0, "index")) < 10_485_760)
        #expect(directory.size(directory.segmentFile(6, "index")) == 10_485_760)
        #expect(log.recoveryPoint == 6)
        let summaries = try log.segmentSummaries()
        #expect(summaries.map(\.baseOffset) == [0, 3, 6])
        #expect(summaries.map(\.nextOffset) == [3, 6, 7])
    }

    @Test func aRequestLargerThanASegmentStillGoesInOneSegment() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory, ["segment.bytes": "200"])
        let request = LogFixtures.request((0..<5).map { _ in LogFixtures.batch(count: 2, valueSize: 50) })
        try log.append(request, leaderEpoch: LeaderEpoch(0))
        #expect(log.segmentCount == 1)
        try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(0))
        #expect(log.segmentCount == 2)
        #expect(try LogFixtures.allBatches(log).count == 6)
    }

    @Test func rollsOnSegmentMsByRecordTime() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let t = LogFixtures.baseTime
        let clock = ManualLogClock(t)
        let log = try LogFixtures.open(directory, ["segment.ms": "1000"], clock: clock)
        try log.append(LogFixtures.batch(timestamp: t), leaderEpoch: LeaderEpoch(0))
        try log.append(LogFixtures.batch(timestamp: t + 1_000), leaderEpoch: LeaderEpoch(0))
        #expect(log.segmentCount == 1)
        try log.append(LogFixtures.batch(timestamp: t + 1_001), leaderEpoch: LeaderEpoch(0))
        #expect(log.segmentCount == 2)
        #expect(try log.segmentSummaries().last?.baseOffset == 2)
    }

    @Test func rollsOnSegmentMsByWallClockWithoutTimestamps() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try LogFixtures.open(directory, ["segment.ms": "1000"], clock: clock)
        try log.append(LogFixtures.batch(timestamp: -1), leaderEpoch: LeaderEpoch(0))
        clock.advance(by: 1_000)
        try log.append(LogFixtures.batch(timestamp: -1), leaderEpoch: LeaderEpoch(0))
        #expect(log.segmentCount == 1)
        clock.advance(by: 1)
        try log.append(LogFixtures.batch(timestamp: -1), leaderEpoch: LeaderEpoch(0))
        #expect(log.segmentCount == 2)
    }

    @Test func rollsWhenAnIndexIsFull() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        // Two offset index entries, one time index entry; an entry every batch.
        let log = try LogFixtures.open(directory, ["segment.index.bytes": "16", "index.interval.bytes": "0"])
        var stamp = LogFixtures.baseTime
        for _ in 0..<10 {
            stamp += 1
            try log.append(LogFixtures.batch(timestamp: stamp), leaderEpoch: LeaderEpoch(0))
        }
        #expect(log.segmentCount > 3)
        #expect(try LogFixtures.allBatches(log).count == 10)
    }

    @Test func followerOffsetsBeyondTheRelativeRangeRollOrSplit() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let far = Int64(Int32.max) + 10
        let request = LogFixtures.request([
            LogFixtures.batch(count: 1, baseOffset: 0),
            LogFixtures.batch(count: 1, baseOffset: far),
            LogFixtures.batch(count: 1, baseOffset: far * 2),
        ])
        try log.appendAsFollower(request)
        #expect(try log.segmentSummaries().map(\.baseOffset) == [0, far, far * 2])
        #expect(log.logEndOffset == far * 2 + 1)
        #expect(try LogFixtures.batches(try log.read(from: far, maxBytes: 1 << 20)).map(\.baseOffset) == [far])
        try log.close()
        let reopened = try LogFixtures.open(directory, clean: false)
        #expect(reopened.logEndOffset == far * 2 + 1)
    }

    @Test func preallocatedSegmentsAreTrimmedOnRollAndClose() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory, ["preallocate": "true", "segment.bytes": "2000"])
        #expect(directory.size(directory.segmentFile(0)) == 2_000)
        var sizes = 0
        while log.segmentCount < 2 {
            let batch = LogFixtures.batch(valueSize: 300)
            sizes += batch.readableBytes
            try log.append(batch, leaderEpoch: LeaderEpoch(0))
        }
        let firstSize = sizes - LogFixtures.batch(valueSize: 300).readableBytes
        #expect(directory.size(directory.segmentFile(0)) == firstSize)
        try log.close()
        let second = try #require(try log.segmentSummaries().last)
        #expect(directory.size(directory.segmentFile(second.baseOffset)) == Int(second.sizeBytes))
        let reopened = try LogFixtures.open(directory, ["preallocate": "true", "segment.bytes": "2000"], clean: false)
        #expect(reopened.logEndOffset == log.logEndOffset)
    }

    @Test func segmentRecoveryCutsTornTailAndRebuildsIndexes() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let config = LogFixtures.config(["index.interval.bytes": "0"])
        let segment = try LogSegment.create(directory: directory.path, baseOffset: 10, config: config, now: 0)
        var position = 0
        var offset: Int64 = 10
        for index in 0..<5 {
            var batch = LogFixtures.batch(count: 2, timestamp: LogFixtures.baseTime + Int64(index))
            RecordBatch.setBaseOffset(offset, ofBatchAt: batch.readerIndex, in: &batch)
            let prepared = try AppendPreparation.follower(batch, config: config)
            try segment.append(prepared, range: 0..<1, indexIntervalBytes: 0)
            position += batch.readableBytes
            offset += 2
        }
        #expect(segment.nextOffset == 20)
        try segment.log.setLength(Int64(position - 5))
        let recovery = try segment.recover(upperOffset: nil) { _ in }
        #expect(recovery.nextOffset == 18)
        #expect(recovery.problem != nil)
        #expect(segment.size == position / 5 * 4)
        #expect(segment.maxTimestamp == LogFixtures.baseTime + 3)
        #expect(try segment.translate(16, limit: segment.size)?.baseOffset == 16)
        #expect(try segment.translate(18, limit: segment.size) == nil)
        let removed = try segment.truncate(to: 13, now: 0)
        #expect(removed == position / 5 * 3)
        #expect(segment.nextOffset == 12)
        #expect(segment.maxTimestamp == LogFixtures.baseTime)
    }
}
