import BrookModel
import BrookRecords
import Foundation
import NIOCore
import PropertyBased
import Testing

@testable import BrookStorage

/// Crash damage, then recovery: a log is written (and closed, or abandoned as a crash would
/// leave it), its files are damaged, and it is reopened after an "unclean shutdown". Every batch
/// written completely before the damage must come back byte for byte, nothing after the damage
/// may appear, and the log end offset must be exact.
@Suite struct LogCrashTests {
    @Test func lastSegmentCutAtRandomBytes() async {
        await propertyCheck(count: 50, input: LogFixtures.seeds) { seed in
            var scenario = try CrashScenario(seed: seed)
            defer { scenario.directory.remove() }
            try scenario.cutLastSegment()
        }
    }

    @Test func randomBitsFlipped() async {
        await propertyCheck(count: 50, input: LogFixtures.seeds) { seed in
            var scenario = try CrashScenario(seed: seed)
            defer { scenario.directory.remove() }
            try scenario.flipBits()
        }
    }

    @Test func indexFilesDeletedOrCorrupted() async {
        await propertyCheck(count: 50, input: LogFixtures.seeds) { seed in
            var scenario = try CrashScenario(seed: seed)
            defer { scenario.directory.remove() }
            try scenario.damageIndexes()
        }
    }

    /// Flips in baseOffset and partitionLeaderEpoch are outside the CRC in Kafka's v2 format;
    /// one that breaks offset order is still caught.
    @Test func baseOffsetGoingBackwardsIsCaught() throws {
        let directory = try LogTestDirectory("crash")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        for _ in 0..<5 {
            try log.append(LogFixtures.batch(count: 3), leaderEpoch: LeaderEpoch(0))
        }
        try log.close()
        let path = directory.segmentFile(0)
        var bytes = directory.bytes(path)
        let batchSize = LogFixtures.batch(count: 3).readableBytes
        bytes[3 * batchSize + 7] = 0  // the fourth batch now claims base offset 0 instead of 9
        try directory.write(path, bytes)
        let reopened = try LogFixtures.open(directory, clean: false)
        #expect(reopened.logEndOffset == 9)
        #expect(try LogFixtures.allBatches(reopened).map(\.baseOffset) == [0, 3, 6])
    }
}

/// One written log and the batches on disk before any damage.
struct CrashScenario {
    struct WrittenBatch {
        var segment: Int64
        var position: Int
        var bytes: [UInt8]
        var lastOffset: Int64
    }

    let seed: UInt64
    var random: SplitMix64
    let directory: LogTestDirectory
    let overrides: [String: String]
    let closed: Bool
    /// Every batch on disk, in offset order.
    var written: [WrittenBatch] = []
    /// Segment base offsets, ascending.
    var segments: [Int64] = []

    init(seed: UInt64) throws {
        self.seed = seed
        random = SplitMix64(seed: seed)
        directory = try LogTestDirectory("crash")
        var overrides = [
            "segment.bytes": String(Int.random(in: 400...3_000, using: &random)),
            "index.interval.bytes": String(Int.random(in: 0...300, using: &random)),
            "segment.index.bytes": String([4_096, 65_536].randomElement(using: &random)!),
        ]
        if Bool.random(using: &random) { overrides["preallocate"] = "true" }
        self.overrides = overrides
        closed = Bool.random(using: &random)

        let log = try LogFixtures.open(directory, overrides)
        var epoch: Int32 = 0
        for _ in 0..<Int.random(in: 10...50, using: &random) {
            if Int.random(in: 0..<8, using: &random) == 0 { epoch += 1 }
            var batches: [ByteBuffer] = []
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let codec = [CompressionCodec.none, .none, .lz4, .zstd].randomElement(using: &random)!
                var builder = RecordBatchBuilder(configuration: .init(compression: codec))
                for _ in 0..<Int.random(in: 1...5, using: &random) {
                    let value = (0..<Int.random(in: 0...150, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                    var buffer = ByteBufferAllocator().buffer(capacity: value.count)
                    buffer.writeBytes(value)
                    builder.append(timestamp: LogFixtures.baseTime + Int64.random(in: 0...10_000, using: &random), key: nil, value: buffer)
                }
                batches.append(try builder.build())
            }
            try log.append(LogFixtures.request(batches), leaderEpoch: LeaderEpoch(epoch))
        }
        if closed { try log.close() }
        try snapshot()
    }

    var context: String { "seed \(seed), closed \(closed), config \(overrides)" }

    /// Reads the batches back from the files as they are on disk.
    mutating func snapshot() throws {
        segments = directory.fileNames.compactMap { name in
            name.hasSuffix(".log") ? Int64(name.dropLast(4)) : nil
        }.sorted()
        written = []
        for base in segments {
            let bytes = directory.bytes(directory.segmentFile(base))
            var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            var reader = RecordBatchReader(buffer, allowsTruncatedTail: true)
            while true {
                let position = reader.position
                guard let batch = try? reader.next() else { break }
                written.append(
                    WrittenBatch(segment: base, position: position, bytes: batch.bytes.logTestBytes, lastOffset: batch.lastOffset))
            }
        }
    }

    /// Reopens after an unclean shutdown and checks that exactly `survivors` batches remain.
    mutating func reopenAndCheck(survivors: Int, recoveryPoint: Int64, clean: Bool = false) throws {
        let log = try PartitionLog.open(
            directory: directory.path, config: LogFixtures.config(overrides), recoveryPoint: recoveryPoint,
            hadCleanShutdown: clean, clock: ManualLogClock())
        let expected = written.prefix(survivors)
        let expectedEnd = expected.last.map { $0.lastOffset + 1 } ?? 0
        #expect(log.logEndOffset == expectedEnd, "log end offset, \(context)")
        let batches = try LogFixtures.allBatches(log, maxBytes: Int.random(in: 1...5_000, using: &random))
        #expect(batches.count == expected.count, "batch count, \(context)")
        for (batch, original) in zip(batches, expected) where batch.bytes.logTestBytes != original.bytes {
            Issue.record("batch at \(original.segment)+\(original.position) changed, \(context)")
        }
        // The repaired log takes appends and reopens cleanly with the same content.
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(100))
        #expect(log.logEndOffset == expectedEnd + 2)
        try log.close()
        let again = try PartitionLog.open(
            directory: directory.path, config: LogFixtures.config(overrides), recoveryPoint: log.recoveryPoint,
            hadCleanShutdown: true, clock: ManualLogClock())
        #expect(again.logEndOffset == expectedEnd + 2, "log end offset after a clean reopen, \(context)")
        #expect(try LogFixtures.allBatches(again).count == expected.count + 1, "batches after a clean reopen, \(context)")
    }

    /// (a) Cut the last segment at a random byte, sometimes followed by zeros (a file system
    /// that extended the file but never wrote the data).
    mutating func cutLastSegment() throws {
        let last = segments.last!
        let path = directory.segmentFile(last)
        let lastBatches = written.filter { $0.segment == last }
        let dataEnd = lastBatches.last.map { $0.position + $0.bytes.count } ?? 0
        let cut = Int.random(in: 0...dataEnd, using: &random)
        var bytes = Array(directory.bytes(path).prefix(cut))
        if Bool.random(using: &random) {
            bytes += [UInt8](repeating: 0, count: Int.random(in: 1...200, using: &random))
        }
        try directory.write(path, bytes)
        // A batch survives when all its bytes are still there (zeros may happen to restore a
        // batch whose cut-off tail was zeros: that batch is intact, not invented).
        var survivors = written.filter { $0.segment != last }.count
        for batch in lastBatches {
            let end = batch.position + batch.bytes.count
            guard end <= bytes.count, Array(bytes[batch.position..<end]) == batch.bytes else { break }
            survivors += 1
        }
        try reopenAndCheck(survivors: survivors, recoveryPoint: Int64.random(in: 0...last, using: &random))
    }

    /// (b) Flip one to three random bits in bytes a check covers (everything but baseOffset and
    /// partitionLeaderEpoch, which Kafka's format leaves unprotected).
    mutating func flipBits() throws {
        var firstDamaged = written.count
        var files: [Int64: [UInt8]] = [:]
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let index = Int.random(in: 0..<written.count, using: &random)
            let batch = written[index]
            var offsetInBatch: Int
            repeat {
                offsetInBatch = Int.random(in: 0..<batch.bytes.count, using: &random)
            } while offsetInBatch < 8 || (12..<16).contains(offsetInBatch)
            var bytes = files[batch.segment] ?? directory.bytes(directory.segmentFile(batch.segment))
            bytes[batch.position + offsetInBatch] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            files[batch.segment] = bytes
            firstDamaged = min(firstDamaged, index)
        }
        for (segment, bytes) in files {
            try directory.write(directory.segmentFile(segment), bytes)
        }
        let damagedSegment = written[firstDamaged].segment
        try reopenAndCheck(survivors: firstDamaged, recoveryPoint: Int64.random(in: 0...damagedSegment, using: &random))
    }

    /// (c) Delete, cut, zero, scramble or falsify index files; nothing may be lost.
    mutating func damageIndexes() throws {
        for base in segments where Bool.random(using: &random) {
            let path = directory.segmentFile(base, Bool.random(using: &random) ? "index" : "timeindex")
            var bytes = directory.bytes(path)
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                try FileManager.default.removeItem(atPath: path)
                continue
            case 1:
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
                if bytes.count % 8 == 0 { bytes.append(1) }
            case 2:
                bytes = [UInt8](repeating: 0, count: min(max(bytes.count, 24), 4_096))
            case 3:
                bytes = (0..<min(max(bytes.count, 24), 4_096)).map { _ in UInt8.random(in: 0...255, using: &random) }
            default:
                // Plausible entries (increasing, inside the log) that point at the wrong bytes.
                var entries: [UInt8] = []
                for entry in 1...3 {
                    entries += withUnsafeBytes(of: Int32(entry * 2).bigEndian, Array.init)
                    entries += withUnsafeBytes(of: Int32(entry * 7 + 1).bigEndian, Array.init)
                }
                bytes = entries
            }
            try directory.write(path, bytes)
        }
        let clean = closed && Bool.random(using: &random)
        let end = written.last.map { $0.lastOffset + 1 } ?? 0
        try reopenAndCheck(survivors: written.count, recoveryPoint: Int64.random(in: 0...end, using: &random), clean: clean)
        // Lookups through the (rebuilt) indexes find every batch.
        let log = try LogFixtures.open(directory, overrides)
        for batch in written where Int.random(in: 0..<4, using: &random) == 0 {
            let result = try log.read(from: batch.lastOffset, maxBytes: 1)
            #expect(try LogFixtures.batches(result).first?.bytes.logTestBytes == batch.bytes, "lookup of \(batch.lastOffset), \(context)")
        }
        _ = try log.offset(for: .timestamp(LogFixtures.baseTime + 5_000))
    }
}
