import BrookModel
import BrookRecords
import NIOCore
import Testing

@testable import BrookStorage

@Suite struct LogListOffsetsTests {
    let t = LogFixtures.baseTime

    /// Batches (offsets: timestamps): 0-2: t+10, t+30, t+20; 3-4: t+25, t+40; 5: t+35; 6-8: t+50...
    func timedLog(_ directory: LogTestDirectory, _ overrides: [String: String] = [:]) throws -> PartitionLog {
        let log = try LogFixtures.open(directory, overrides)
        try log.append(LogFixtures.batch(count: 3, timestamps: [t + 10, t + 30, t + 20]), leaderEpoch: LeaderEpoch(1))
        try log.append(LogFixtures.batch(count: 2, timestamps: [t + 25, t + 40]), leaderEpoch: LeaderEpoch(1))
        try log.append(LogFixtures.batch(count: 1, timestamps: [t + 35]), leaderEpoch: LeaderEpoch(2))
        for index in 0..<20 {
            let base = t + 50 + Int64(index) * 10
            try log.append(LogFixtures.batch(count: 3, timestamps: [base, base + 5, base + 2], valueSize: 80), leaderEpoch: LeaderEpoch(2))
        }
        return log
    }

    @Test func earliestAndLatest() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try timedLog(directory)
        #expect(try log.offset(for: .earliest) == TimestampAndOffset(timestamp: -1, offset: 0, leaderEpoch: LeaderEpoch(1)))
        #expect(try log.offset(for: .latest) == TimestampAndOffset(timestamp: -1, offset: 66, leaderEpoch: LeaderEpoch(2)))
        try log.deleteRecordsBefore(4)
        #expect(try log.offset(forTimestamp: -2)?.offset == 4)
        #expect(try log.offset(forTimestamp: -1)?.offset == 66)
    }

    @Test(arguments: [["segment.bytes": "100000"], ["segment.bytes": "600", "index.interval.bytes": "0"]])
    func firstOffsetWithTimestampAtOrAfterTheTarget(overrides: [String: String]) throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try timedLog(directory, overrides)
        func find(_ target: Int64) throws -> Int64? { try log.offset(for: .timestamp(target))?.offset }
        #expect(try find(t) == 0)
        #expect(try find(t + 10) == 0)
        #expect(try find(t + 11) == 1)  // t+30 at offset 1 is the first record at or after t+11
        #expect(try find(t + 21) == 1)
        #expect(try find(t + 31) == 4)
        #expect(try find(t + 36) == 4)
        #expect(try find(t + 41) == 6)
        #expect(try find(t + 52) == 7)
        #expect(try find(t + 53) == 7)
        #expect(try find(t + 56) == 9)
        #expect(try find(t + 245) == 64)
        #expect(try find(t + 246) == nil)
        let found = try #require(try log.offset(for: .timestamp(t + 36)))
        #expect(found.timestamp == t + 40)
        #expect(found.leaderEpoch == LeaderEpoch(1))
        try log.deleteRecordsBefore(2)
        #expect(try find(t) == 2)
        #expect(try find(t + 11) == 2)
    }

    @Test func maxTimestampIsTheRecordHoldingIt() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory, ["segment.bytes": "300"])
        try log.append(LogFixtures.batch(count: 3, timestamps: [t + 10, t + 90, t + 20]), leaderEpoch: LeaderEpoch(3))
        try log.append(LogFixtures.batch(count: 3, timestamps: [t + 50, t + 60, t + 70]), leaderEpoch: LeaderEpoch(4))
        #expect(try log.offset(for: .maxTimestamp) == TimestampAndOffset(timestamp: t + 90, offset: 1, leaderEpoch: LeaderEpoch(3)))
        #expect(try log.offset(forTimestamp: -3)?.offset == 1)
        try log.close()
        let reopened = try LogFixtures.open(directory, ["segment.bytes": "300"])
        #expect(try reopened.offset(for: .maxTimestamp)?.offset == 1)
    }

    @Test func logAppendTimeAnswersWithTheBrokerTime() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let clock = ManualLogClock(t)
        let log = try LogFixtures.open(directory, ["message.timestamp.type": "LogAppendTime"], clock: clock)
        try log.append(LogFixtures.batch(count: 2, timestamp: 1), leaderEpoch: LeaderEpoch(0))
        clock.advance(by: 100)
        try log.append(LogFixtures.batch(count: 2, timestamp: 1), leaderEpoch: LeaderEpoch(0))
        #expect(try log.offset(for: .timestamp(t + 1)) == TimestampAndOffset(timestamp: t + 100, offset: 2, leaderEpoch: LeaderEpoch(0)))
        #expect(try log.offset(for: .maxTimestamp)?.offset == 2)
    }

    @Test func emptyLogHasNoTimestamps() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        #expect(try log.offset(for: .maxTimestamp) == nil)
        #expect(try log.offset(for: .timestamp(0)) == nil)
        #expect(try log.offset(for: .latest)?.offset == 0)
        #expect(OffsetQuery(kafkaTimestamp: -7) == nil)
    }
}
