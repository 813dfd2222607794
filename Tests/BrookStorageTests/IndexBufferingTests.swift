import BrookModel
import BrookRecords
import Foundation
import Synchronization
import Testing

@testable import BrookStorage

/// Index entries live in memory and reach their files only on flush, roll, truncation and
/// close; index files hold no descriptor between those moments.
@Suite struct IndexBufferingTests {
    /// Batches of two records (about 90 bytes each) with an index entry every couple of batches.
    func writeLog(_ directory: LogTestDirectory, batches: Int = 20, _ extra: [String: String] = [:]) throws -> PartitionLog {
        let log = try LogFixtures.open(directory, ["index.interval.bytes": "100"].merging(extra) { $1 })
        for index in 0..<batches {
            try log.append(LogFixtures.batch(count: 2, timestamp: LogFixtures.baseTime + Int64(index)), leaderEpoch: LeaderEpoch(0))
        }
        return log
    }

    /// The whole entries stored in an index file, zeros (a preallocated tail) left out.
    func storedOffsetEntries(_ path: String, _ directory: LogTestDirectory) -> [OffsetIndex.Entry] {
        let bytes = directory.bytes(path)
        return bytes.withUnsafeBytes { raw in
            stride(from: 0, to: bytes.count - bytes.count % OffsetIndex.entrySize, by: OffsetIndex.entrySize)
                .map { OffsetIndex.Entry(decoding: raw, at: $0) }
                .filter { $0.relativeOffset != 0 || $0.position != 0 }
        }
    }

    @Test func appendedEntriesAreLookedUpBeforeTheyAreWritten() throws {
        let directory = try LogTestDirectory("buffering")
        defer { directory.remove() }
        var index = OffsetIndex(baseOffset: 100, storage: try IndexEntryFile(empty: directory.file("index")), maxEntries: 100)
        _ = index.append(offset: 110, position: 1_000)
        _ = index.append(offset: 120, position: 2_000)
        #expect(index.storage.pendingCount == 2)
        #expect(directory.size(directory.file("index")) == 0)
        #expect(index.lookup(offset: 125) == .init(offset: 120, position: 2_000))
        #expect(index.lookup(position: 1_500) == .init(offset: 110, position: 1_000))

        try index.storage.persist()
        #expect(index.storage.pendingCount == 0)
        #expect(storedOffsetEntries(directory.file("index"), directory) == index.entries)
    }

    @Test func onlyAChangedFileIsOpenedForSync() throws {
        let directory = try LogTestDirectory("buffering")
        defer { directory.remove() }
        var index = OffsetIndex(baseOffset: 0, storage: try IndexEntryFile(empty: directory.file("index")), maxEntries: 100)
        // A new file is synced once (its creation), then not again until it changes.
        let created = try index.storage.prepareSync()
        #expect(created != nil)
        let unchanged = try index.storage.prepareSync()
        #expect(unchanged == nil)
        _ = index.append(offset: 5, position: 500)
        let changed = try #require(try index.storage.prepareSync())
        try changed.sync()
        #expect(storedOffsetEntries(directory.file("index"), directory) == index.entries)
        let again = try index.storage.prepareSync()
        #expect(again == nil)
        index.storage.syncFailed()
        let retried = try index.storage.prepareSync()
        #expect(retried != nil)
    }

    @Test func entriesReachTheFilesOnFlushRollAndClose() throws {
        let directory = try LogTestDirectory("buffering")
        defer { directory.remove() }
        let log = try writeLog(directory)
        let active = log.view.segments.active
        let inMemory = active.state.withLock { $0.offsetIndex.entries }
        #expect(inMemory.count >= 5)
        #expect(storedOffsetEntries(directory.segmentFile(0, "index"), directory).isEmpty)
        // A read deep in the segment starts from an entry that is not on disk yet.
        let deep = active.state.withLock { $0.offsetIndex.lookup(offset: 30) }
        #expect(deep.position > 0)
        #expect(try LogFixtures.batches(log.read(from: 30, maxBytes: 1)).first?.baseOffset == 30)

        try log.flush()
        #expect(storedOffsetEntries(directory.segmentFile(0, "index"), directory) == inMemory)

        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        let beforeRoll = active.state.withLock { $0.offsetIndex.entries }
        #expect(beforeRoll.count > inMemory.count)
        try log.roll()
        // Rolled away: trimmed to exactly its entries.
        #expect(storedOffsetEntries(directory.segmentFile(0, "index"), directory) == beforeRoll)
        #expect(directory.size(directory.segmentFile(0, "index")) == beforeRoll.count * OffsetIndex.entrySize)

        let rolledTo = log.logEndOffset
        for _ in 0..<6 {
            try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        }
        let last = log.view.segments.active
        let lastEntries = last.state.withLock { $0.offsetIndex.entries }
        #expect(!lastEntries.isEmpty)
        #expect(storedOffsetEntries(directory.segmentFile(rolledTo, "index"), directory).isEmpty)
        try log.close()
        #expect(storedOffsetEntries(directory.segmentFile(rolledTo, "index"), directory) == lastEntries)
        #expect(directory.size(directory.segmentFile(rolledTo, "timeindex")) > 0)
    }

    @Test func aCleanReopenFindsTheEntriesWithoutRebuilding() throws {
        let directory = try LogTestDirectory("buffering")
        defer { directory.remove() }
        let log = try writeLog(directory)
        let before = try LogFixtures.allBatches(log).map(\.bytes)
        let entries = log.view.segments.active.state.withLock { ($0.offsetIndex.entries, $0.timeIndex.entries) }
        try log.close()
        // Written by close itself, so the reopen below reads them rather than rebuilding them.
        #expect(storedOffsetEntries(directory.segmentFile(0, "index"), directory) == entries.0)

        let reopened = try LogFixtures.open(directory, ["index.interval.bytes": "100"], recoveryPoint: log.recoveryPoint)
        let segment = reopened.view.segments.active
        #expect(!segment.needsIndexRebuild)
        let loaded = segment.state.withLock { ($0.offsetIndex.entries, $0.timeIndex.entries) }
        #expect(loaded.0 == entries.0)
        // Close added the final time entry (the segment's largest timestamp) if it was new.
        #expect(Array(loaded.1.prefix(entries.1.count)) == entries.1)
        #expect(loaded.1.last?.timestamp == LogFixtures.baseTime + 19)
        #expect(try LogFixtures.allBatches(reopened).map(\.bytes) == before)
        #expect(try reopened.offset(for: .timestamp(LogFixtures.baseTime + 7))?.offset == 14)
    }

    @Test func anUncleanReopenRebuildsEntriesThatNeverReachedTheFile() throws {
        let directory = try LogTestDirectory("buffering")
        defer { directory.remove() }
        let log = try writeLog(directory)
        let entries = log.view.segments.active.state.withLock { $0.offsetIndex.entries }
        // Abandoned without flush or close, as a crash leaves it: the index file has nothing.
        #expect(storedOffsetEntries(directory.segmentFile(0, "index"), directory).isEmpty)
        let reopened = try LogFixtures.open(directory, ["index.interval.bytes": "100"], clean: false)
        #expect(reopened.logEndOffset == 40)
        #expect(reopened.view.segments.active.state.withLock { $0.offsetIndex.entries } == entries)
        #expect(try LogFixtures.batches(reopened.read(from: 31, maxBytes: 1)).first?.baseOffset == 30)
    }
}
