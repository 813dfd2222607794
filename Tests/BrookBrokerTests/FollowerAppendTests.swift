@testable import BrookBroker
import BrookModel
import BrookRecords
import BrookStorage
import NIOCore
import Testing

/// A follower's appends of what its leader sends.
@Suite struct FollowerAppendTests {
    /// A batch as a leader stores it: `count` records from `baseOffset`, in leader epoch 3.
    static func leaderBatch(baseOffset: Int64, count: Int) throws -> ByteBuffer {
        var configuration = RecordBatchBuilder.Configuration(baseOffset: baseOffset)
        configuration.partitionLeaderEpoch = 3
        var builder = RecordBatchBuilder(configuration: configuration)
        for index in 0..<count { builder.append(timestamp: 1, key: nil, value: ByteBuffer(string: "r\(index)")) }
        return try builder.build()
    }

    @Test func anEmptyLogStartedInsideTheLeadersFirstBatchTakesTheBatchWhole() throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let partition = fixture.partition("t")
        // The leader's log starts at 12 after DeleteRecords, inside its batch 10...14: the
        // follower fell below it and restarted there.
        try partition.truncateAsFollower(to: 12, restart: true)
        #expect(partition.log.logStartOffset == 12 && partition.log.logEndOffset == 12)

        try partition.appendAsFollower(try Self.leaderBatch(baseOffset: 10, count: 5), leaderHighWatermark: 15, leaderLogStartOffset: 12)
        #expect(partition.log.logEndOffset == 15, "the batch is appended, not refused forever")
        #expect(partition.log.logStartOffset == 12, "the log start follows the leader's")
        try partition.appendAsFollower(try Self.leaderBatch(baseOffset: 15, count: 2), leaderHighWatermark: 17, leaderLogStartOffset: 12)
        #expect(partition.log.logEndOffset == 17)
    }

    @Test func aLogWithRecordsStillRefusesABatchBelowItsEnd() throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let partition = fixture.partition("t")
        try partition.appendAsFollower(try Self.leaderBatch(baseOffset: 0, count: 5), leaderHighWatermark: 5, leaderLogStartOffset: 0)
        #expect(throws: (any Error).self) {
            try partition.appendAsFollower(try Self.leaderBatch(baseOffset: 3, count: 5), leaderHighWatermark: 8, leaderLogStartOffset: 0)
        }
        #expect(partition.log.logEndOffset == 5)
    }
}
