import BrookModel
import BrookRecords
import Foundation
import Synchronization
import Testing

@testable import BrookStorage

/// A segment keeps only its `.log` open; index files are opened while they are read or written,
/// and a segment being deleted never recreates them.
@Suite struct SegmentDescriptorTests {
    static let overrides = ["segment.bytes": "300", "index.interval.bytes": "100"]

    /// Writes 12 batches (several segments) and closes the log.
    func writeAndClose(_ directory: LogTestDirectory) throws {
        let log = try LogFixtures.open(directory, Self.overrides)
        for index in 0..<12 {
            try log.append(LogFixtures.batch(count: 2, timestamp: LogFixtures.baseTime + Int64(index)), leaderEpoch: LeaderEpoch(0))
        }
        try log.close()
    }

    #if os(Linux)
    /// The paths this process has open inside `directory`.
    func openPaths(in directory: LogTestDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { name in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name),
                target.hasPrefix(directory.path + "/")
            else { return nil }
            return target
        }.sorted()
    }

    @Test func eachSegmentHoldsOnlyItsLogOpen() throws {
        let directory = try LogTestDirectory("descriptors")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory, Self.overrides)
        for index in 0..<12 {
            try log.append(LogFixtures.batch(count: 2, timestamp: LogFixtures.baseTime + Int64(index)), leaderEpoch: LeaderEpoch(0))
        }
        let logFiles = directory.fileNames.filter { $0.hasSuffix(".log") }.map(directory.file).sorted()
        #expect(logFiles.count == log.segmentCount)
        #expect(log.segmentCount >= 3)
        #expect(try openPaths(in: directory) == logFiles)
        try log.flush()
        _ = try log.offset(for: .timestamp(LogFixtures.baseTime + 3))
        #expect(try openPaths(in: directory) == logFiles)
        try log.close()
        #expect(try openPaths(in: directory) == logFiles)
    }

    @Test func aCleanReopenOpensOnlyTheLogs() throws {
        let directory = try LogTestDirectory("descriptors")
        defer { directory.remove() }
        try writeAndClose(directory)
        let logFiles = directory.fileNames.filter { $0.hasSuffix(".log") }.map(directory.file).sorted()
        let reopened = try LogFixtures.open(directory, Self.overrides, recoveryPoint: 24)
        #expect(try openPaths(in: directory) == logFiles)
        // Reads load the older segments' indexes, and close them again.
        #expect(try LogFixtures.allBatches(reopened).count == 12)
        #expect(try openPaths(in: directory) == logFiles)
    }
    #endif

    @Test func aDeletedSegmentRebuildsItsIndexInMemoryWithoutRecreatingFiles() throws {
        let directory = try LogTestDirectory("descriptors")
        defer { directory.remove() }
        try writeAndClose(directory)
        let reopened = try LogFixtures.open(directory, Self.overrides, recoveryPoint: 24)
        let segment = reopened.view.segments[0]
        #expect(!segment.state.withLock { $0.offsetIndex.storage.isLoaded })
        // Retention renames it, and file.delete.delay.ms later its files are unlinked, while a
        // reader that took the segment earlier still looks in it.
        try segment.rename(suffix: SegmentFileName.deletedSuffix)
        for path in segment.filePaths {
            try FileManager.default.removeItem(atPath: path)
        }
        let header = try segment.translate(3, limit: segment.size)
        #expect(header?.baseOffset == 2)
        #expect(segment.state.withLock { $0.offsetIndex.count } > 0)
        try segment.flush()
        #expect(directory.fileNames.filter { $0.hasSuffix(SegmentFileName.deletedSuffix) }.isEmpty)
        #expect(!directory.exists(directory.segmentFile(0, "index")))
    }

    @Test func deletingASegmentStopsIndexWrites() throws {
        let directory = try LogTestDirectory("descriptors")
        defer { directory.remove() }
        let log = try LogFixtures.open(directory, ["index.interval.bytes": "100"])
        for _ in 0..<10 {
            try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        }
        let segment = log.view.segments.active
        #expect(segment.state.withLock { $0.offsetIndex.storage.pendingCount } > 0)
        try segment.deleteFiles()
        try segment.flush()
        try segment.deactivate()
        #expect(directory.fileNames.isEmpty || directory.fileNames == ["leader-epoch-checkpoint"])
    }
}
