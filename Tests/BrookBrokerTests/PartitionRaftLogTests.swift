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

        var logDirectory: String { path + "/__cluster_metadata-0" }

        func open(cleanly: Bool = true, recoveryPoint: Int64 = 0, segmentBytes: Int = 1 << 30) throws -> PartitionRaftLog {
            var config = LogConfig()
            config.segmentBytes = segmentBytes
            let log = try PartitionLog.open(
                directory: logDirectory, config: config, recoveryPoint: recoveryPoint,
                hadCleanShutdown: cleanly
            )
            return try PartitionRaftLog(log: log, localID: BrokerID(1), voters: [BrokerID(1), BrokerID(2), BrokerID(3)])
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

    // MARK: Snapshots

    static let image = MetadataSnapshotTests.image()

    /// Writes the snapshot file `id` of the test image in the log's directory.
    static func writeSnapshot(_ id: EpochEndOffset, in directory: Directory) throws {
        try MetadataSnapshot.write(image, id: MetadataSnapshot.Id(id), lastContainedTimestamp: 1, directory: directory.logDirectory)
    }

    /// Entries of one record each, `count` of them, in `epoch`.
    static func entries(_ count: Int, epoch: Int32) throws -> [RaftEntry] {
        try (0..<count).map { RaftEntry(epoch: LeaderEpoch(epoch), payload: try batch(["record-\($0)"])) }
    }

    @Test func aSnapshotReplacesTheLogBelowItAndARestartStartsThereAgain() throws {
        let directory = try Directory()
        let snapshot = EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(30))
        do {
            let log = try directory.open(segmentBytes: 1024)
            // One append each, so that segments roll between them.
            for entry in try Self.entries(30, epoch: 1) + Self.entries(10, epoch: 2) { log.append([entry]) }
            log.flush()
            try Self.writeSnapshot(EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(10)), in: directory)
            log.noteSnapshot(EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(10)))
            try Self.writeSnapshot(snapshot, in: directory)
            log.noteSnapshot(snapshot)
            #expect(log.latestSnapshot == snapshot && log.startSnapshot == nil)
            #expect(MetadataSnapshot.ids(in: directory.logDirectory).map(\.epochEndOffset) == [snapshot], "only the latest is needed")

            let segments = log.log.segmentCount
            log.deletePrefix(upTo: snapshot)
            #expect(log.failure == nil && log.startSnapshot == snapshot && log.startOffset == Offset(30))
            #expect(log.log.segmentCount < segments, "whole segments below the snapshot go")
            #expect(log.log.logStartOffset == 30 && log.endOffset == Offset(40))
            #expect(log.entries(from: Offset(0), below: Offset(40), limit: 100).count == 10, "only what follows the snapshot")
            #expect(log.endOffset(forEpoch: LeaderEpoch(0)) == .unknown, "an epoch only the snapshot's past holds")
            #expect(log.endOffset(forEpoch: LeaderEpoch(1)) == snapshot)
            #expect(log.endOffset(forEpoch: LeaderEpoch(2)) == EpochEndOffset(epoch: LeaderEpoch(2), endOffset: Offset(40)))

            // Its bytes go out in pieces, with the whole size.
            let whole = try #require(log.readSnapshot(snapshot, from: 0, maxBytes: .max))
            let piece = try #require(log.readSnapshot(snapshot, from: 10, maxBytes: 7))
            #expect(piece.size == whole.size && piece.bytes == whole.bytes.getSlice(at: 10, length: 7))
            #expect(log.readSnapshot(snapshot, from: whole.size + 1, maxBytes: 10) == nil)
            #expect(log.readSnapshot(EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(10)), from: 0, maxBytes: 10) == nil)
            try log.log.close()
        }
        // Whole segments went; the log start is set again from the snapshot at restart.
        let reopened = try directory.open(cleanly: false, segmentBytes: 1024)
        #expect(reopened.startSnapshot == snapshot && reopened.startOffset == Offset(30) && reopened.endOffset == Offset(40))
        #expect(reopened.lastEpoch == LeaderEpoch(2))
    }

    @Test func aLeadersSnapshotReplacesTheWholeLogAndOneThatDoesNotReadIsRefused() throws {
        let directory = try Directory()
        let log = try directory.open()
        log.append(try Self.entries(5, epoch: 1))
        log.flush()
        let id = EpochEndOffset(epoch: LeaderEpoch(3), endOffset: Offset(50))
        var bytes = try MetadataSnapshot.encode(Self.image, id: MetadataSnapshot.Id(id), lastContainedTimestamp: 1)

        var damaged = bytes
        damaged.setInteger(damaged.getInteger(at: 100, as: UInt8.self)! ^ 0xFF, at: 100)
        log.installSnapshot(id, bytes: damaged)
        #expect(log.refusedSnapshot != nil && log.failure == nil)
        #expect(log.startSnapshot == nil && log.endOffset == Offset(5), "the log stays as it was")

        log.installSnapshot(id, bytes: bytes)
        #expect(log.failure == nil && log.startSnapshot == id && log.latestSnapshot == id)
        #expect(log.endOffset == Offset(50) && log.durableEndOffset == Offset(50) && log.lastEpoch == LeaderEpoch(3))
        #expect(log.entries(from: Offset(0), below: Offset(50), limit: 10).isEmpty)
        let stored = try #require(log.readSnapshot(id, from: 0, maxBytes: .max))
        #expect(stored.bytes == bytes.readSlice(length: bytes.readableBytes)!)
        try log.log.close()
    }

    @Test func anInstallCutShortIsFinishedAtRestartAndAStartWithoutItsSnapshotIsRefused() throws {
        let directory = try Directory()
        do {
            let log = try directory.open()
            log.append(try Self.entries(5, epoch: 1))
            log.flush()
            try log.log.close()
        }
        // The snapshot file landed, the log was not yet replaced.
        let id = EpochEndOffset(epoch: LeaderEpoch(4), endOffset: Offset(80))
        try Self.writeSnapshot(id, in: directory)
        do {
            let log = try directory.open()
            #expect(log.startSnapshot == id && log.endOffset == Offset(80) && log.lastEpoch == LeaderEpoch(4))
            try log.log.close()
        }
        // A log that starts past 0 with no snapshot for what came before is a lost history.
        try FileManager.default.removeItem(atPath: directory.logDirectory + "/" + MetadataSnapshot.Id(id).fileName)
        #expect(throws: QuorumError.self) { _ = try directory.open() }
    }
}
