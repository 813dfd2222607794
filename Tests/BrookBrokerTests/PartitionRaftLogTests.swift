@testable import BrookBroker
import BrookModel
import BrookProtocol
import BrookRaft
import BrookRecords
import BrookStorage
import Foundation
import NIOCore
import Testing

/// The quorum's log on a real `PartitionLog`: the same contract as the simulation's in-memory
/// log, and what a restart finds.
@Suite struct PartitionRaftLogTests {
    final class Directory {
        let path = NSTemporaryDirectory() + "raft-log-\(UUID().uuidString)"
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func open(cleanly: Bool = true, recoveryPoint: Int64 = 0) throws -> PartitionRaftLog {
            let log = try PartitionLog.open(
                directory: path + "/__cluster_metadata-0", config: LogConfig(), recoveryPoint: recoveryPoint,
                hadCleanShutdown: cleanly
            )
            return PartitionRaftLog(log: log, localID: BrokerID(1), voters: [BrokerID(1), BrokerID(2), BrokerID(3)])
        }
    }

    static func batch(_ values: [String]) throws -> ByteBuffer {
        var builder = RecordBatchBuilder()
        for value in values { builder.append(timestamp: 1, key: nil, value: ByteBuffer(string: value)) }
        return try builder.build()
    }

    @Test func appendsReadsAndAnswersForEpochs() throws {
        let directory = try Directory()
        let log = try directory.open()
        #expect(log.endOffset == Offset(0) && log.lastEpoch == .none && log.endOffset(forEpoch: LeaderEpoch(5)) == .unknown)
        log.append([
            RaftEntry(epoch: LeaderEpoch(1), payload: ByteBuffer(), isControl: true),
            RaftEntry(epoch: LeaderEpoch(1), payload: try Self.batch(["a", "b"]), recordCount: 2),
        ])
        log.append([RaftEntry(epoch: LeaderEpoch(3), payload: try Self.batch(["c", "d", "e"]), recordCount: 3)])
        #expect(log.failure == nil)
        #expect(log.endOffset == Offset(6) && log.lastEpoch == LeaderEpoch(3))
        #expect(log.endOffset(forEpoch: LeaderEpoch(1)) == EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(3)))
        #expect(log.endOffset(forEpoch: LeaderEpoch(2)) == EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(3)))
        #expect(log.endOffset(forEpoch: LeaderEpoch(9)) == EpochEndOffset(epoch: LeaderEpoch(3), endOffset: Offset(6)))

        let entries = log.entries(from: Offset(0), below: log.endOffset, limit: 10)
        #expect(entries.map(\.recordCount) == [1, 2, 3])
        #expect(entries.map(\.isControl) == [true, false, false])
        #expect(entries.map(\.epoch) == [LeaderEpoch(1), LeaderEpoch(1), LeaderEpoch(3)])
        #expect(log.entries(from: Offset(1), below: Offset(6), limit: 1).map(\.recordCount) == [2])
        #expect(log.entries(from: Offset(0), below: Offset(5), limit: 10).count == 2, "an entry that ends past `end` is left out")

        // The epoch-start entry is KRaft's LeaderChangeMessage control record.
        let control = try RecordBatch(entries[0].payload)
        let record = try #require(try control.records().first)
        #expect(try ControlRecordKey(decoding: #require(record.key)).type == .leaderChange)
        var value = try #require(record.value)
        #expect(try LeaderChangeMessage(from: &value, version: 0).leaderId == 1)

        // A follower's copy, appended from these entries, is the same log.
        let followerDirectory = try Directory()
        let follower = try followerDirectory.open()
        follower.append(entries)
        #expect(follower.entries(from: Offset(0), below: Offset(6), limit: 10) == entries)

        log.truncate(to: Offset(3))
        #expect(log.endOffset == Offset(3) && log.lastEpoch == LeaderEpoch(1))
    }

    @Test func whatWasFlushedSurvivesARestart() throws {
        let directory = try Directory()
        do {
            let log = try directory.open()
            log.append([RaftEntry(epoch: LeaderEpoch(2), payload: try Self.batch(["x"]))])
            #expect(log.durableEndOffset == Offset(0))
            log.flush()
            #expect(log.durableEndOffset == Offset(1))
            try log.log.close()
        }
        let reopened = try directory.open(cleanly: false)
        #expect(reopened.endOffset == Offset(1) && reopened.lastEpoch == LeaderEpoch(2))
    }

    @Test func aSoleVoterCommitsOnDiskAndARestartKeepsIt() throws {
        let directory = try Directory()
        var state = QuorumState.initial
        do {
            var replica = RaftReplica(id: BrokerID(1), voters: [BrokerID(1)], log: try directory.open(), state: state, seed: 1, now: 0)
            for case .persist(let persisted) in replica.start(now: 0) { state = persisted }
            #expect(replica.isLeader)
            #expect(replica.propose([(payload: try Self.batch(["p", "q"]), recordCount: 2)]) == Offset(1))
            _ = replica.flushLog(now: 1)
            #expect(replica.highWatermark == Offset(3))
            try replica.log.log.close()
        }
        var restarted = RaftReplica(id: BrokerID(1), voters: [BrokerID(1)], log: try directory.open(), state: state, seed: 2, now: 0)
        _ = restarted.start(now: 0)
        #expect(restarted.quorum.epoch == LeaderEpoch(2), "a restarted sole voter leads a new epoch")
        _ = restarted.flushLog(now: 1)
        #expect(restarted.highWatermark == Offset(4))
        let values = restarted.log.entries(from: Offset(0), below: restarted.highWatermark, limit: 10)
            .filter { !$0.isControl }
            .flatMap { try! RecordBatch($0.payload).records().compactMap { $0.value.map { String(buffer: $0) } } }
        #expect(values == ["p", "q"])
    }
}
