import BrookModel
import BrookRecords
import NIOCore
import Testing

@testable import BrookStorage

@Suite struct LogFlushTests {
    @Test func byDefaultOnlyRollsAndCloseFlush() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try LogFixtures.open(directory, clock: clock)
        for _ in 0..<10 {
            try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(0))
            clock.advance(by: 1_000_000)
            try log.flushIfDue()
        }
        #expect(log.recoveryPoint == 0)
        try log.flush(upTo: 4)
        #expect(log.recoveryPoint == 4)
        try log.flush()
        #expect(log.recoveryPoint == 10)
        try log.flush(upTo: 3)
        #expect(log.recoveryPoint == 10)
    }

    @Test func flushMessagesFlushesAfterThatManyOffsets() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory, ["flush.messages": "5"])
        try log.append(LogFixtures.batch(count: 3), leaderEpoch: LeaderEpoch(0))
        #expect(log.recoveryPoint == 0)
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        #expect(log.recoveryPoint == 5)
        try log.append(LogFixtures.batch(count: 1), leaderEpoch: LeaderEpoch(0))
        #expect(log.recoveryPoint == 5)
    }

    @Test func flushMsFlushesWhenTheLastFlushIsOldEnough() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let clock = ManualLogClock()
        let log = try LogFixtures.open(directory, ["flush.ms": "1000"], clock: clock)
        try log.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        clock.advance(by: 999)
        try log.flushIfDue()
        #expect(log.recoveryPoint == 0)
        clock.advance(by: 1)
        try log.flushIfDue()
        #expect(log.recoveryPoint == 2)
    }

    @Test func truncationKeepsTheRecoveryPointAtOrBelowTheEnd() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        try log.append(LogFixtures.batch(count: 4), leaderEpoch: LeaderEpoch(0))
        try log.append(LogFixtures.batch(count: 4), leaderEpoch: LeaderEpoch(0))
        try log.flush()
        try log.truncate(to: 4)
        #expect(log.recoveryPoint == 4)
        #expect(log.logEndOffset == 4)
    }

    @Test func rollsSyncTheRolledSegmentsInlineOrWhenDue() throws {
        for inline in [true, false] {
            let directory = try LogTestDirectory()
            defer { directory.remove() }
            let batch = LogFixtures.batch(count: 2)
            let log = try PartitionLog.open(
                directory: directory.path, config: LogFixtures.config(["segment.bytes": String(batch.readableBytes * 2)]),
                recoveryPoint: 0, hadCleanShutdown: true, clock: ManualLogClock(), syncsRolledSegmentsInline: inline)
            for _ in 0..<3 {
                try log.append(batch, leaderEpoch: LeaderEpoch(0))
            }
            #expect(log.segmentCount == 2)
            #expect(log.recoveryPoint == (inline ? 4 : 0))
            try log.flushIfDue()
            #expect(log.recoveryPoint == 4)
        }
    }
}
