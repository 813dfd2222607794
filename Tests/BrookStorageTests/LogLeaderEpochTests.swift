import BrookModel
import BrookRecords
import NIOCore
import Testing

@testable import BrookStorage

@Suite struct LogLeaderEpochTests {
    func entries(_ pairs: [(Int32, Int64)]) -> [EpochEntry] {
        pairs.map { EpochEntry(epoch: LeaderEpoch($0.0), startOffset: $0.1) }
    }

    @Test func cacheAssignsTruncatesAndAnswersOffsetForLeaderEpoch() {
        var cache = LeaderEpochCache()
        #expect(cache.endOffset(for: LeaderEpoch(0), logEndOffset: 0) == nil)
        let changed1 = cache.assign(epoch: 1, startOffset: 0)
        #expect(changed1)
        let changed2 = cache.assign(epoch: 1, startOffset: 5)
        #expect(!changed2)
        let changed3 = cache.assign(epoch: -1, startOffset: 5)
        #expect(!changed3)
        let changed4 = cache.assign(epoch: 3, startOffset: 10)
        #expect(changed4)
        let changed5 = cache.assign(epoch: 6, startOffset: 25)
        #expect(changed5)
        #expect(cache.entries == entries([(1, 0), (3, 10), (6, 25)]))

        #expect(cache.endOffset(for: LeaderEpoch(6), logEndOffset: 40) == EpochEndOffset(epoch: LeaderEpoch(6), endOffset: Offset(40)))
        #expect(cache.endOffset(for: LeaderEpoch(3), logEndOffset: 40) == EpochEndOffset(epoch: LeaderEpoch(3), endOffset: Offset(25)))
        #expect(cache.endOffset(for: LeaderEpoch(4), logEndOffset: 40) == EpochEndOffset(epoch: LeaderEpoch(3), endOffset: Offset(25)))
        #expect(cache.endOffset(for: LeaderEpoch(0), logEndOffset: 40) == EpochEndOffset(epoch: LeaderEpoch(0), endOffset: Offset(0)))
        #expect(cache.endOffset(for: LeaderEpoch(7), logEndOffset: 40) == nil)
        #expect(cache.epoch(forOffset: 24) == LeaderEpoch(3))
        #expect(cache.epoch(forOffset: 25) == LeaderEpoch(6))

        var truncated = cache
        let changed6 = truncated.truncateFromEnd(25)
        #expect(changed6)
        #expect(truncated.entries == entries([(1, 0), (3, 10)]))
        let changed7 = truncated.truncateFromEnd(30)
        #expect(!changed7)
        var started = cache
        let changed8 = started.truncateFromStart(12)
        #expect(changed8)
        #expect(started.entries == entries([(3, 12), (6, 25)]))
        let changed9 = started.truncateFromStart(12)
        #expect(!changed9)

        // A new epoch that contradicts later entries (a follower after truncation) replaces them.
        var follower = cache
        let changed10 = follower.assign(epoch: 4, startOffset: 20)
        #expect(changed10)
        #expect(follower.entries == entries([(1, 0), (3, 10), (4, 20)]))
    }

    @Test func checkpointUsesKafkasTextFormat() throws {
        let text = LeaderEpochCheckpoint.render(entries([(0, 0), (3, 1_500)]))
        #expect(text == "0\n2\n0 0\n3 1500\n")
        #expect(try LeaderEpochCheckpoint.parse(text, path: "x") == entries([(0, 0), (3, 1_500)]))
        #expect(try LeaderEpochCheckpoint.parse("0\n0\n", path: "x").isEmpty)
        for bad in ["", "1\n0\n", "0\n2\n0 0\n", "0\n1\n0\n", "0\n1\na b\n", "0\n2\n3 10\n2 20\n", "0\n1\n-1 0\n"] {
            #expect(throws: StorageError.self) { try LeaderEpochCheckpoint.parse(bad, path: "x") }
        }
    }

    @Test func appendsRecordEpochsAndTheCheckpointSurvivesReopen() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(2))
        #expect(log.latestEpoch == LeaderEpoch(2))
        // Appends leave the checkpoint to the flush that moves the recovery point past them.
        #expect(!directory.exists(directory.file("leader-epoch-checkpoint")))
        try log.flush()
        #expect(directory.bytes(directory.file("leader-epoch-checkpoint")) == Array("0\n2\n0 0\n2 4\n".utf8))
        try log.assignEpochStartOffset(LeaderEpoch(5))
        #expect(log.endOffset(forEpoch: LeaderEpoch(2)) == EpochEndOffset(epoch: LeaderEpoch(2), endOffset: Offset(6)))
        try log.close()
        let reopened = try LogFixtures.open(directory)
        #expect(reopened.epochEntries == entries([(0, 0), (2, 4), (5, 6)]))
        #expect(reopened.endOffset(forEpoch: LeaderEpoch(5)) == EpochEndOffset(epoch: LeaderEpoch(5), endOffset: Offset(6)))
    }

    @Test func recoveryRelearnsEpochsFromTheBatches() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(1))
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(4))
        try log.flush()
        try FileIO.remove(directory.file("leader-epoch-checkpoint"))
        let reopened = try LogFixtures.open(directory, clean: false)
        #expect(reopened.epochEntries == entries([(1, 0), (4, 2)]))
        #expect(directory.exists(directory.file("leader-epoch-checkpoint")))
    }

    @Test func malformedCheckpointFailsTheOpen() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(1))
        try log.close()
        try directory.write(directory.file("leader-epoch-checkpoint"), Array("0\n5\n1 0\n".utf8))
        #expect(throws: StorageError.self) { try LogFixtures.open(directory) }
    }
}
