#if canImport(Glibc)
import Glibc
#endif
import BrookModel
import BrookRecords
import NIOCore
import Testing

@testable import BrookStorage

@Suite struct LogReadTests {
    /// Ten batches of five records each: offsets 0..<50.
    func fiftyRecords(_ directory: LogTestDirectory, _ overrides: [String: String] = [:]) throws -> PartitionLog {
        let log = try LogFixtures.open(directory, overrides)
        for batch in 0..<10 {
            try log.append(LogFixtures.batch(count: 5, valueSize: 100, tag: UInt8(batch * 5)), leaderEpoch: LeaderEpoch(0))
        }
        return log
    }

    @Test func readFromTheMiddleOfABatchReturnsTheWholeBatch() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try fiftyRecords(directory)
        let result = try log.read(from: 12, maxBytes: 1)
        let batches = try LogFixtures.batches(result)
        #expect(batches.map(\.baseOffset) == [10])
        #expect(result.firstBatchOffset == 10)
        #expect(result.nextOffset == 15)
        #expect(try batches[0].records().map(\.offset) == [10, 11, 12, 13, 14])
    }

    @Test func maxBytesSmallerThanTheFirstBatchStillReturnsIt() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try fiftyRecords(directory)
        let batchSize = LogFixtures.batch(count: 5, valueSize: 100).readableBytes
        for maxBytes in [0, 1, batchSize - 1, batchSize] {
            let result = try log.read(from: 20, maxBytes: maxBytes)
            #expect(result.sizeInBytes == batchSize)
            #expect(try LogFixtures.batches(result).map(\.baseOffset) == [20])
        }
    }

    @Test func maxBytesCutsAtWholeBatches() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try fiftyRecords(directory, ["index.interval.bytes": "0"])
        let batchSize = LogFixtures.batch(count: 5, valueSize: 100).readableBytes
        for count in 1...10 {
            let result = try log.read(from: 0, maxBytes: count * batchSize + batchSize / 2)
            #expect(result.sizeInBytes == count * batchSize)
            #expect(result.nextOffset == Int64(count) * 5)
            #expect(try LogFixtures.batches(result).count == count)
        }
        let all = try log.read(from: 3, maxBytes: 1 << 20)
        #expect(all.nextOffset == 50)
        #expect(all.logEndOffset == 50)
        #expect(try LogFixtures.batches(all).map(\.baseOffset) == stride(from: 0, to: 50, by: 5).map { Int64($0) })
    }

    @Test func highWatermarkLimitsTheRead() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try fiftyRecords(directory)
        let limited = try log.read(from: 0, maxBytes: 1 << 20, upTo: 25)
        #expect(try LogFixtures.batches(limited).map(\.lastOffset) == [4, 9, 14, 19, 24])
        #expect(limited.nextOffset == 25)
        // A batch that straddles the limit is not returned, nor anything from the limit on.
        #expect(try log.read(from: 0, maxBytes: 1 << 20, upTo: 23).nextOffset == 20)
        #expect(try log.read(from: 25, maxBytes: 1 << 20, upTo: 25).region == nil)
        #expect(try log.read(from: 21, maxBytes: 1 << 20, upTo: 23).region == nil)
    }

    @Test func offsetsOutsideTheLogAreOutOfRange() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try fiftyRecords(directory)
        #expect(throws: StorageError.offsetOutOfRange(offset: 51, logStartOffset: 0, logEndOffset: 50)) {
            try log.read(from: 51, maxBytes: 100)
        }
        try log.deleteRecordsBefore(30)
        #expect(throws: StorageError.offsetOutOfRange(offset: 29, logStartOffset: 30, logEndOffset: 50)) {
            try log.read(from: 29, maxBytes: 100)
        }
        let atEnd = try log.read(from: 50, maxBytes: 100)
        #expect(atEnd.region == nil)
        #expect(atEnd.nextOffset == 50)
        #expect(try LogFixtures.batches(try log.read(from: 30, maxBytes: 1)).map(\.baseOffset) == [30])
    }

    @Test func readsContinueAcrossSegments() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try fiftyRecords(directory, ["segment.bytes": "1000"])
        #expect(log.segmentCount > 3)
        var offset: Int64 = 0
        var bases: [Int64] = []
        while offset < 50 {
            let result = try log.read(from: offset, maxBytes: 1 << 20)
            bases += try LogFixtures.batches(result).map(\.baseOffset)
            offset = result.nextOffset
        }
        #expect(bases == stride(from: 0, to: 50, by: 5).map { Int64($0) })
    }

    @Test func regionSurvivesDeletionOfItsSegment() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try fiftyRecords(directory, ["segment.bytes": "1000", "file.delete.delay.ms": "0"])
        let result = try log.read(from: 0, maxBytes: 1 << 20)
        let region = try #require(result.region)
        let before = try region.readBytes()
        try log.deleteRecordsBefore(45)
        #expect(try log.deleteExpiredSegmentFiles() > 0)
        #expect(!directory.exists(directory.segmentFile(0)))
        // The descriptor stays valid: bytes read through it and through a duplicate match.
        #expect(try region.readBytes() == before)
        let copy = try region.file.duplicateDescriptor()
        defer { close(copy) }
        var bytes = [UInt8](repeating: 0, count: region.length)
        let count = bytes.withUnsafeMutableBytes { pread(copy, $0.baseAddress, region.length, off_t(region.position)) }
        #expect(count == region.length)
        #expect(bytes == before.logTestBytes)
    }

    @Test func readsRunWhileAppendsContinue() async throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory, ["segment.bytes": "4000", "index.interval.bytes": "100"])
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for index in 0..<300 {
                    try log.append(LogFixtures.batch(count: 2, valueSize: index % 50), leaderEpoch: LeaderEpoch(0))
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    var reads = 0
                    while reads < 300 {
                        let end = log.logEndOffset
                        let offset = Int64.random(in: 0...end)
                        let result = try log.read(from: offset, maxBytes: 700)
                        let batches = try LogFixtures.batches(result)
                        if offset < result.logEndOffset {
                            #expect(!batches.isEmpty)
                        }
                        for batch in batches {
                            try batch.validate()
                            #expect(batch.lastOffset < result.logEndOffset)
                        }
                        if let first = batches.first {
                            #expect(first.baseOffset <= offset && offset <= first.lastOffset)
                        }
                        reads += 1
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(log.logEndOffset == 602)
        #expect(try LogFixtures.allBatches(log).count == 301)
    }
}
