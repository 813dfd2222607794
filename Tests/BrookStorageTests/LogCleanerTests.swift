import BrookModel
import BrookRecords
import Foundation
import NIOCore
import Testing

@testable import BrookStorage

/// Shared helpers for the cleaner's end-to-end tests.
enum CleaningFixtures {
    static let compacted = [
        "cleanup.policy": "compact", "segment.bytes": "400", "min.cleanable.dirty.ratio": "0.01",
        "file.delete.delay.ms": "0",
    ]

    /// Appends one batch of keyed records (nil value = tombstone).
    @discardableResult
    static func append(_ log: PartitionLog, _ entries: [(key: String, value: String?)], timestamp: Int64 = LogFixtures.baseTime) throws -> AppendInfo {
        var builder = RecordBatchBuilder(configuration: .init(baseOffset: 0))
        for entry in entries {
            builder.append(
                timestamp: timestamp, key: CleanerFixtures.buffer(entry.key), value: entry.value.map(CleanerFixtures.buffer))
        }
        return try log.append(try builder.build(), leaderEpoch: LeaderEpoch(0))
    }

    struct Seen: Equatable, CustomStringConvertible {
        var offset: Int64
        var key: String?
        var value: String?
        var description: String { "\(offset):\(key ?? "-")=\(value ?? "null")" }
    }

    /// Every record of the log, in offset order.
    static func records(_ log: PartitionLog) throws -> [Seen] {
        var seen: [Seen] = []
        for batch in try LogFixtures.allBatches(log) {
            var iterator = try batch.makeRecordIterator()
            while let record = try iterator.next() {
                seen.append(Seen(offset: record.offset, key: CleanerFixtures.string(record.key), value: CleanerFixtures.string(record.value)))
            }
        }
        return seen
    }

    /// Base offset of the active segment.
    static func activeBase(_ log: PartitionLog) throws -> Int64 {
        try log.segmentSummaries().last!.baseOffset
    }
}

@Suite("LogCleaner")
struct LogCleanerTests {
    @Test("keeps exactly the latest record per key below the active segment, at its original offset")
    func latestPerKey() throws {
        let directory = try LogTestDirectory("cleaner")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock)
        var random = SplitMix64(seed: 42)
        var written: [CleaningFixtures.Seen] = []
        var checkpoint: Int64?
        let cleaner = LogCleaner(configuration: .init(offsetMapMemoryBytes: 1 << 16))

        for round in 0..<4 {
            for index in 0..<60 {
                let key = "k\(Int.random(in: 0..<12, using: &random))"
                let value = "v\(round)-\(index)"
                let info = try CleaningFixtures.append(log, [(key, value)])
                written.append(.init(offset: info.firstOffset, key: key, value: value))
            }
            #expect(log.segmentCount > 3)
            let activeBase = try CleaningFixtures.activeBase(log)
            let activeBytes = directory.bytes(directory.segmentFile(activeBase))
            let segmentsBefore = log.segmentCount
            let report = try cleaner.cleanIfNeeded(log: log, now: clock.nowMilliseconds(), checkpoint: checkpoint)
            #expect(report.cleaned)
            #expect(report.newCheckpoint == activeBase)
            // Segments cleaned before are small now, and get merged (the first round's are full).
            if round > 0 { #expect(log.segmentCount < segmentsBefore) }
            checkpoint = report.newCheckpoint

            // The model: below the active segment, the last record of each key; the active
            // segment as written.
            var latestBelow: [String: CleaningFixtures.Seen] = [:]
            for record in written where record.offset < activeBase {
                latestBelow[record.key!] = record
            }
            let expected = latestBelow.values.sorted { $0.offset < $1.offset } + written.filter { $0.offset >= activeBase }
            let actual = try CleaningFixtures.records(log)
            #expect(actual == expected)
            #expect(directory.bytes(directory.segmentFile(activeBase)) == activeBytes)
            #expect(log.logEndOffset == Int64(written.count))
            #expect(log.logStartOffset == 0)

            // The latest value of every key is still readable.
            var latest: [String: String?] = [:]
            for record in written { latest[record.key!] = record.value }
            var readLatest: [String: String?] = [:]
            for record in actual { readLatest[record.key!] = record.value }
            #expect(readLatest == latest)
            _ = try log.deleteExpiredSegmentFiles()
        }
        // Nothing new is dirty: no cleaning.
        let again = try cleaner.cleanIfNeeded(log: log, now: clock.nowMilliseconds(), checkpoint: checkpoint)
        #expect(!again.cleaned)
        #expect(!directory.fileNames.contains { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") || $0.hasSuffix(".deleted") })
        let final = try CleaningFixtures.records(log)
        try log.close()

        // And the cleaned log reopens (clean or not) with the same records.
        for clean in [true, false] {
            let reopened = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock, clean: clean)
            #expect(try CleaningFixtures.records(reopened) == final)
            try reopened.close()
        }
    }

    @Test("a full offset map cleans in several rounds, moving the checkpoint each time")
    func smallOffsetMap() throws {
        let directory = try LogTestDirectory("cleaner-small-map")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock)
        var written: [CleaningFixtures.Seen] = []
        for round in 0..<3 {
            for key in 0..<20 {
                let info = try CleaningFixtures.append(log, [("k\(key)", "v\(round)")])
                written.append(.init(offset: info.firstOffset, key: "k\(key)", value: "v\(round)"))
            }
        }
        let activeBase = try CleaningFixtures.activeBase(log)
        let cleaner = LogCleaner(configuration: .init(offsetMapMemoryBytes: OffsetMap.bytesPerEntry * 8))
        var checkpoint: Int64?
        var rounds = 0
        while checkpoint != activeBase && rounds < 100 {
            let report = try cleaner.cleanIfNeeded(log: log, now: clock.nowMilliseconds(), checkpoint: checkpoint)
            #expect(report.cleaned)
            #expect(report.newCheckpoint.map { $0 > (checkpoint ?? -1) } ?? false)
            checkpoint = report.newCheckpoint
            rounds += 1
        }
        #expect(rounds > 1)
        var latestBelow: [String: CleaningFixtures.Seen] = [:]
        for record in written where record.offset < activeBase {
            latestBelow[record.key!] = record
        }
        let expected = latestBelow.values.sorted { $0.offset < $1.offset } + written.filter { $0.offset >= activeBase }
        #expect(try CleaningFixtures.records(log) == expected)
        try log.close()
    }

    @Test("tombstones survive until delete.retention.ms after their first cleaning, then go")
    func tombstones() throws {
        let directory = try LogTestDirectory("cleaner-tombstones")
        defer { directory.remove() }
        let clock = ManualLogClock()
        var overrides = CleaningFixtures.compacted
        overrides["delete.retention.ms"] = "10000"
        let log = try LogFixtures.open(directory, overrides, clock: clock)
        try CleaningFixtures.append(log, [("a", "1"), ("b", "1")])
        try CleaningFixtures.append(log, [("a", "2"), ("c", "1")])
        let tombstone = try CleaningFixtures.append(log, [("a", nil)]).firstOffset
        for index in 0..<30 {
            try CleaningFixtures.append(log, [("filler\(index % 5)", "x\(index)")])
        }
        let cleaner = LogCleaner()
        let first = try cleaner.cleanIfNeeded(log: log, now: clock.nowMilliseconds(), checkpoint: nil)
        #expect(first.cleaned)
        let horizon = try #require(first.nextDeleteHorizonMs)
        #expect(horizon == clock.nowMilliseconds() + 10000)
        var records = try CleaningFixtures.records(log)
        #expect(records.filter { $0.key == "a" } == [.init(offset: tombstone, key: "a", value: nil)])
        #expect(records.contains { $0.key == "b" && $0.value == "1" })

        // Before the horizon: nothing is due, the tombstone stays.
        clock.advance(by: 5000)
        let early = try cleaner.cleanIfNeeded(
            log: log, now: clock.nowMilliseconds(), checkpoint: first.newCheckpoint, pendingDeleteHorizonMs: horizon)
        #expect(!early.cleaned)
        #expect(early.nextDeleteHorizonMs == horizon)
        #expect(try CleaningFixtures.hasKey("a", in: log))

        // At the horizon the log is cleaned although it is not dirty, and the tombstone goes.
        clock.advance(by: 5000)
        let late = try cleaner.cleanIfNeeded(
            log: log, now: clock.nowMilliseconds(), checkpoint: first.newCheckpoint, pendingDeleteHorizonMs: horizon)
        #expect(late.cleaned)
        #expect(late.nextDeleteHorizonMs == nil)
        records = try CleaningFixtures.records(log)
        #expect(!records.contains { $0.key == "a" })
        #expect(records.contains { $0.key == "b" && $0.value == "1" })
        #expect(records.contains { $0.key == "c" && $0.value == "1" })
        try log.close()
    }

    @Test("reads and ListOffsets work across cleaned segments")
    func readsAndListOffsets() throws {
        let directory = try LogTestDirectory("cleaner-reads")
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try LogFixtures.open(directory, CleaningFixtures.compacted, clock: clock)
        for index in 0..<50 {
            try CleaningFixtures.append(log, [("k\(index % 3)", "v\(index)")], timestamp: LogFixtures.baseTime + Int64(index))
        }
        let end = log.logEndOffset
        let report = try LogCleaner().cleanIfNeeded(log: log, now: clock.nowMilliseconds(), checkpoint: nil)
        #expect(report.cleaned)
        #expect(try log.offset(for: .earliest)?.offset == 0)
        #expect(try log.offset(for: .latest)?.offset == end)
        let records = try CleaningFixtures.records(log)
        // A read from a removed offset starts at the next retained batch.
        let result = try log.read(from: 0, maxBytes: 1 << 20)
        let firstBatch = try #require(try LogFixtures.batches(result).first)
        #expect(firstBatch.baseOffset == records[0].offset)
        // By timestamp: the first retained record at or after the time.
        let target = LogFixtures.baseTime + 10
        let expected = try #require(records.first { $0.offset >= 10 })
        #expect(try log.offset(for: .timestamp(target))?.offset == expected.offset)
        #expect(try log.offset(for: .maxTimestamp)?.offset == end - 1)
        try log.close()
    }

    @Test("LogManager.clean cleans compacted logs only and writes cleaner-offset-checkpoint")
    func managerClean() async throws {
        let root = try LogTestDirectory("cleaner-manager")
        defer { root.remove() }
        let logDir = (root.path as NSString).deletingLastPathComponent + "/data"
        let manager = try LogManager(configuration: .init(logDirs: [logDir]))
        let compacted = try manager.getOrCreate(TopicPartition(topic: "c", partition: 0), config: LogFixtures.config(CleaningFixtures.compacted))
        var deleting = CleaningFixtures.compacted
        deleting["cleanup.policy"] = "delete"
        let plain = try manager.getOrCreate(TopicPartition(topic: "d", partition: 0), config: LogFixtures.config(deleting))
        for index in 0..<40 {
            try CleaningFixtures.append(compacted, [("k\(index % 2)", "v\(index)")])
            try CleaningFixtures.append(plain, [("k\(index % 2)", "v\(index)")])
        }
        let report = manager.clean(now: LogFixtures.baseTime)
        #expect(report.errors.isEmpty)
        #expect(report.segmentsCleaned > 0)
        let saved = try OffsetCheckpointFile(directory: logDir, kind: .cleaner).read()
        #expect(saved == [TopicPartition(topic: "c", partition: 0): try CleaningFixtures.activeBase(compacted)])
        #expect(try CleaningFixtures.records(plain).count == 40)
        #expect(try CleaningFixtures.records(compacted).count < 40)
        try manager.shutdown()
    }
}

extension CleaningFixtures {
    static func hasKey(_ key: String, in log: PartitionLog) throws -> Bool {
        try records(log).contains { $0.key == key }
    }
}
