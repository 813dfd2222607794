import BrookModel
import BrookRecords
import Foundation
import NIOCore
import Testing

@testable import BrookStorage

@Suite("LogCleanSwap")
struct LogCleanSwapTests {
    /// A log of several segments: "a" is written first and overwritten later, so a cleaned first
    /// segment without the first batch loses nothing.
    private func makeLog(_ directory: LogTestDirectory, clock: ManualLogClock) throws -> PartitionLog {
        let log = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock)
        try CleaningFixtures.append(log, [("a", "old")])
        for index in 0..<20 {
            try CleaningFixtures.append(log, [("k\(index)", "v\(index)")])
        }
        try CleaningFixtures.append(log, [("a", "new")])
        for index in 0..<10 {
            try CleaningFixtures.append(log, [("t\(index)", "v\(index)")])
        }
        #expect(log.segmentCount >= 3)
        return log
    }

    /// The cleaned replacement of the first segment: every batch but the first.
    private func cleanedFirstSegment(of log: PartitionLog) throws -> (CleanableSegment, CleanedSegment) {
        let (originals, cleaned) = try cleanedFirstSegments(1, of: log)
        return (originals[0], cleaned)
    }

    /// The first `count` segments merged into one cleaned segment, without the first batch.
    private func cleanedFirstSegments(_ count: Int, of log: PartitionLog) throws -> ([CleanableSegment], CleanedSegment) {
        let originals = Array(log.cleanableSegments(below: .max).prefix(count))
        try #require(originals.count == count)
        let cleaned = try log.makeCleanedSegment(replacing: originals[0])
        var first = true
        for original in originals {
            try original.forEachBatch { (batch) throws(StorageError) in
                if first {
                    first = false
                } else {
                    try cleaned.append(batch.bytes)
                }
            }
        }
        return (originals, cleaned)
    }

    @Test("the swap replaces the segment, keeps offsets, and a held region stays readable")
    func swapKeepsReaders() throws {
        let directory = try LogTestDirectory("swap")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try makeLog(directory, clock: clock)
        let before = try CleaningFixtures.records(log)
        let held = try #require(try log.read(from: 0, maxBytes: 1 << 20).region)
        let heldBytes = try held.readBytes()

        let (original, cleaned) = try cleanedFirstSegment(of: log)
        #expect(try log.replaceSegments([original], with: [cleaned]))
        #expect(try CleaningFixtures.records(log) == Array(before.dropFirst()))
        #expect(log.pendingDeletions.count == 1)
        _ = try log.deleteExpiredSegmentFiles(now: .max)
        #expect(try held.readBytes() == heldBytes)
        #expect(directory.fileNames.allSatisfy { !$0.contains(".cleaned") && !$0.contains(".swap") && !$0.contains(".deleted") })

        // Two originals merged into one.
        let countBefore = log.segmentCount
        let recordsBefore = try CleaningFixtures.records(log)
        let (pair, merged) = try cleanedFirstSegments(2, of: log)
        #expect(try log.replaceSegments(pair, with: [merged]))
        #expect(log.segmentCount == countBefore - 1)
        #expect(try CleaningFixtures.records(log) == Array(recordsBefore.dropFirst()))

        // A swap whose originals changed underneath is refused and leaves nothing behind.
        let (stale, again) = try cleanedFirstSegment(of: log)
        try log.truncate(to: 1)
        #expect(try log.replaceSegments([stale], with: [again]) == false)
        #expect(directory.fileNames.allSatisfy { !$0.contains(".cleaned") && !$0.contains(".swap") })
        try log.close()
    }

    @Test("a crash with .cleaned files left reopens with the old contents")
    func crashWhileCleaned() throws {
        let directory = try LogTestDirectory("swap-cleaned")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try makeLog(directory, clock: clock)
        let before = try CleaningFixtures.records(log)
        let (_, cleaned) = try cleanedFirstSegment(of: log)
        try cleaned.segment.deactivate()
        try cleaned.segment.flush()
        try log.close()
        #expect(directory.fileNames.contains { $0.hasSuffix(".log.cleaned") })

        let reopened = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock, clean: false)
        #expect(try CleaningFixtures.records(reopened) == before)
        #expect(!directory.fileNames.contains { $0.hasSuffix(".cleaned") })
        try reopened.close()
    }

    @Test("a crash after .swap, with or without the originals renamed, reopens with the new contents")
    func crashAfterSwap() throws {
        for (renameOriginals, merged) in [(false, 1), (true, 1), (false, 2), (true, 2)] {
            let directory = try LogTestDirectory("swap-swapped")
            defer { directory.remove() }
            let clock = ManualLogClock()
            let log = try makeLog(directory, clock: clock)
            let before = try CleaningFixtures.records(log)
            let (originals, cleaned) = try cleanedFirstSegments(merged, of: log)
            try cleaned.segment.deactivate()
            try cleaned.segment.flush()
            try cleaned.segment.rename(suffix: SegmentFileName.swapSuffix)
            if renameOriginals {
                for original in originals {
                    try original.segment.rename(suffix: SegmentFileName.deletedSuffix)
                }
            }
            try log.close()
            #expect(directory.fileNames.contains { $0.hasSuffix(".log.swap") })

            let reopened = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock, clean: false)
            let after = try CleaningFixtures.records(reopened)
            #expect(after == Array(before.dropFirst()))
            // Nothing lost: the latest value of every key is still there.
            var latest: [String: String?] = [:]
            for record in before { latest[record.key!] = record.value }
            var seen: [String: String?] = [:]
            for record in after { seen[record.key!] = record.value }
            #expect(seen == latest)
            #expect(reopened.logEndOffset == before.last!.offset + 1)
            #expect(directory.fileNames.allSatisfy { !$0.contains(".swap") && !$0.contains(".deleted") })
            #expect(reopened.segmentCount == log.segmentCount - merged + 1)
            try reopened.close()
        }
    }

    @Test("a full cleaning interrupted before the swap leaves the log readable and cleanable")
    func cleanerAfterCrash() throws {
        let directory = try LogTestDirectory("swap-recleaned")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try makeLog(directory, clock: clock)
        let (_, cleaned) = try cleanedFirstSegment(of: log)
        try cleaned.segment.deactivate()
        try log.close()
        let reopened = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock, clean: false)
        let report = try LogCleaner().cleanIfNeeded(log: reopened, now: clock.nowMilliseconds(), checkpoint: nil)
        #expect(report.cleaned)
        let records = try CleaningFixtures.records(reopened)
        #expect(records.filter { $0.key == "a" }.map(\.value) == ["new"])
        try reopened.close()
    }
}
