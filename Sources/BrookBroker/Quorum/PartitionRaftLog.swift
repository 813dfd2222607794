import BrookModel
import BrookProtocol
import BrookRaft
import BrookRecords
import BrookStorage
import Foundation
import NIOCore

/// The quorum's log on disk: `__cluster_metadata-0` as a `PartitionLog`, each Raft entry one
/// record batch whose partition leader epoch is the entry's epoch.
///
/// Entries keep the offsets the leader gave them: every append, the leader's too, goes through
/// `appendAsFollower` after the batch's base offset and epoch are set, so the leader epoch cache
/// and the CRC checks are the partition log's own. The leader's epoch-start entry becomes a
/// control batch holding KRaft's LeaderChangeMessage.
///
/// Snapshots are `MetadataSnapshot` files in the log's directory. The log's start is 0 or the
/// end of one of them (`startSnapshot`); `open` restores that after a crash: a snapshot installed
/// from the leader whose log replacement was cut short replaces the log again, and a log start
/// the segments lost is set again from its snapshot.
///
/// `RaftLog`'s operations cannot fail; a storage error is kept in `failure`, leaves the log as it
/// was (so what the replica reports stays true), and the driver stops the quorum on seeing it,
/// as Kafka halts on a metadata log failure. Not thread-safe: the driver is its only user.
final class PartitionRaftLog: RaftLog {
    let log: PartitionLog
    let localID: BrokerID
    let voters: [BrokerID]
    /// Where the snapshot files are: the log's own directory.
    let snapshotDirectory: String
    private(set) var failure: StorageError?
    private(set) var startSnapshot: EpochEndOffset?
    private(set) var latestSnapshot: EpochEndOffset?
    /// The voter set the start snapshot records (KIP-853).
    private(set) var startVoters: Set<BrokerID>?
    /// The voter set of the bootstrap snapshot (`00000000000000000000-0000000000.checkpoint`,
    /// written by `storage format --standalone` or `--initial-controllers`), if there is one.
    private(set) var bootstrapVoters: [QuorumVoter]?
    /// Every voter's endpoint this log has recorded, by id: where the quorum's peers are.
    private(set) var voterEndpoints: [BrokerID: QuorumVoter] = [:]

    /// The log over `log`, with its start made consistent with the snapshots in its directory.
    init(log: PartitionLog, localID: BrokerID, voters: Set<BrokerID>) throws {
        self.log = log
        self.localID = localID
        self.voters = voters.sorted()
        self.snapshotDirectory = log.directory
        let all = MetadataSnapshot.ids(in: snapshotDirectory).map(\.epochEndOffset)
        // The bootstrap snapshot at offset 0 only seeds the voter set; it never stands for
        // entries.
        let snapshots = all.filter { $0.endOffset > Offset(0) }
        if all.first?.endOffset == Offset(0) {
            bootstrapVoters = readVoters(of: all[0])
            for voter in bootstrapVoters ?? [] { voterEndpoints[voter.id] = voter }
        }
        latestSnapshot = snapshots.last
        if let latest = snapshots.last, !holds(latest) {
            // Installed from the leader, but the log was not yet replaced when the node stopped.
            try log.truncateFullyAndStart(at: latest.endOffset.rawValue)
            startSnapshot = latest
        } else if let start = snapshots.first(where: { $0.endOffset.rawValue >= log.logStartOffset && holds($0) }) {
            // After a restart the log starts at its oldest snapshot (the segments below it may
            // not all have gone, and the epochs they held did).
            try log.deleteRecordsBefore(start.endOffset.rawValue)
            startSnapshot = start
        } else if log.logStartOffset > 0 {
            throw QuorumError(
                "the metadata log in \(snapshotDirectory) starts at offset \(log.logStartOffset) but no snapshot there covers what comes before it")
        }
        startVoters = startSnapshot.flatMap(readVoters(of:)).map { Set($0.map(\.id)) }
    }

    /// The voter set snapshot `id` records, noting the voters' endpoints.
    private func readVoters(of id: EpochEndOffset) -> [QuorumVoter]? {
        guard let data = FileManager.default.contents(atPath: path(of: id)),
            let voters = MetadataSnapshot.voters(in: ByteBuffer(bytes: data))
        else { return nil }
        for voter in voters { voterEndpoints[voter.id] = voter }
        return voters
    }

    /// Whether the log's entries reach `snapshot`'s end in its epoch (so the snapshot is of this
    /// log).
    private func holds(_ snapshot: EpochEndOffset) -> Bool {
        guard snapshot.endOffset.rawValue <= log.logEndOffset else { return false }
        if snapshot.endOffset.rawValue == log.logStartOffset { return true }
        guard let found = log.endOffset(forEpoch: snapshot.epoch) else { return false }
        return found.epoch == snapshot.epoch && found.endOffset >= snapshot.endOffset
    }

    var endOffset: Offset { Offset(log.logEndOffset) }
    var durableEndOffset: Offset { Offset(min(log.durableOffset, log.logEndOffset)) }
    var lastEpoch: LeaderEpoch {
        log.logEndOffset > log.logStartOffset ? log.latestEpoch ?? startSnapshot?.epoch ?? .none : startSnapshot?.epoch ?? .none
    }

    func entries(from offset: Offset, below end: Offset, limit: Int) -> [RaftEntry] {
        var entries: [RaftEntry] = []
        // Below the start, the entries begin at the start (a snapshot holds the rest).
        var next = max(offset, startOffset).rawValue
        do {
            while next < end.rawValue, entries.count < limit {
                let result = try log.read(from: next, maxBytes: 1 << 20, upTo: end.rawValue)
                guard let region = result.region else { break }
                var reader = RecordBatchReader(try region.readBytes())
                let before = next
                while entries.count < limit, let batch = try reader.next() {
                    guard batch.baseOffset >= next, batch.nextOffset <= end.rawValue else { continue }
                    let voters = batch.isControlBatch ? QuorumVoterRecords.voters(in: batch) : nil
                    for voter in voters ?? [] { voterEndpoints[voter.id] = voter }
                    entries.append(RaftEntry(
                        epoch: LeaderEpoch(batch.partitionLeaderEpoch), payload: batch.bytes,
                        recordCount: Int(batch.nextOffset - batch.baseOffset), isControl: batch.isControlBatch,
                        voters: voters.map { Set($0.map(\.id)) }
                    ))
                    next = batch.nextOffset
                }
                if next == before { break }
            }
        } catch let error as StorageError {
            failure = failure ?? error
        } catch {
            failure = failure ?? .invalidBatch(reason: "\(error)")
        }
        return entries
    }

    func endOffset(forEpoch epoch: LeaderEpoch) -> EpochEndOffset {
        if let start = startSnapshot {
            guard epoch >= start.epoch else { return .unknown }
            let found = entriesEndOffset(forEpoch: epoch)
            return found.epoch >= start.epoch && found.endOffset > start.endOffset ? found : start
        }
        return entriesEndOffset(forEpoch: epoch)
    }

    private func entriesEndOffset(forEpoch epoch: LeaderEpoch) -> EpochEndOffset {
        if let found = log.endOffset(forEpoch: epoch), found.epoch >= LeaderEpoch(0) {
            return found
        }
        // Above the latest epoch: the whole log is at or below it.
        if let latest = log.latestEpoch, latest <= epoch, log.logEndOffset > log.logStartOffset {
            return EpochEndOffset(epoch: latest, endOffset: endOffset)
        }
        return .unknown
    }

    func append(_ entries: [RaftEntry]) {
        guard failure == nil else { return }
        var records = ByteBuffer()
        var next = log.logEndOffset
        do {
            for entry in entries {
                var payload = entry.isControl && entry.payload.readableBytes == 0
                    ? try leaderChangeBatch(epoch: entry.epoch) : entry.payload
                var batch = try RecordBatch(payload)
                if entry.voters != nil {
                    for voter in QuorumVoterRecords.voters(in: batch) ?? [] { voterEndpoints[voter.id] = voter }
                }
                batch.setBaseOffset(next)
                batch.setPartitionLeaderEpoch(entry.epoch.rawValue)
                payload = batch.bytes
                next = batch.nextOffset
                records.writeBuffer(&payload)
            }
            try log.appendAsFollower(records)
        } catch let error as StorageError {
            failure = error
        } catch {
            failure = .invalidBatch(reason: "\(error)")
        }
    }

    func truncate(to offset: Offset) {
        guard failure == nil, offset < endOffset else { return }
        do { try log.truncate(to: max(offset, startOffset).rawValue) } catch { failure = error }
    }

    // MARK: Snapshots

    private func path(of snapshot: EpochEndOffset) -> String {
        snapshotDirectory + "/" + MetadataSnapshot.Id(snapshot).fileName
    }

    func readSnapshot(_ id: EpochEndOffset, from position: Int64, maxBytes: Int) -> SnapshotChunk? {
        guard position >= 0, let file = FileHandle(forReadingAtPath: path(of: id)) else { return nil }
        defer { try? file.close() }
        do {
            let size = Int64(try file.seekToEnd())
            guard position <= size else { return nil }
            try file.seek(toOffset: UInt64(position))
            let data = try file.read(upToCount: Int(min(Int64(max(0, maxBytes)), size - position))) ?? Data()
            return SnapshotChunk(bytes: ByteBuffer(bytes: data), size: size)
        } catch {
            return nil
        }
    }

    /// Writes the leader's snapshot (synced, renamed into place), then replaces the log with it.
    /// A snapshot that does not read whole is refused, and the log stays as it was.
    func installSnapshot(_ id: EpochEndOffset, bytes: ByteBuffer) {
        guard failure == nil else { return }
        do {
            _ = try MetadataSnapshot.decode(bytes, onto: MetadataImage(clusterId: "", controllerId: -1, brokers: []), file: path(of: id))
        } catch {
            refusedSnapshot = "\(error)"
            return
        }
        do {
            try AtomicFileWriter(path: path(of: id)).write(Array(bytes.readableBytesView))
            try log.truncateFullyAndStart(at: id.endOffset.rawValue)
            startSnapshot = id
            latestSnapshot = id
            startVoters = readVoters(of: id).map { Set($0.map(\.id)) }
            removeUnneededSnapshots()
        } catch let error as StorageError {
            failure = error
        } catch {
            failure = .invalidBatch(reason: "cannot write snapshot \(path(of: id)): \(error)")
        }
    }

    /// Why the last snapshot fetched from the leader was refused, for the driver to log.
    var refusedSnapshot: String?

    /// A snapshot this node took of what it applied is now on disk.
    func noteSnapshot(_ id: EpochEndOffset) {
        if latestSnapshot.map({ ($0.endOffset, $0.epoch) < (id.endOffset, id.epoch) }) ?? true {
            latestSnapshot = id
        }
        removeUnneededSnapshots()
    }

    func deletePrefix(upTo snapshot: EpochEndOffset) {
        guard failure == nil, snapshot.endOffset > startOffset, snapshot.endOffset <= endOffset,
            FileManager.default.fileExists(atPath: path(of: snapshot))
        else { return }
        do {
            try log.deleteRecordsBefore(snapshot.endOffset.rawValue)
            startSnapshot = snapshot
            startVoters = readVoters(of: snapshot).map { Set($0.map(\.id)) }
            removeUnneededSnapshots()
        } catch {
            failure = error
        }
    }

    /// Whether the log has outgrown `bytes` (`metadata.max.retention.bytes`) or holds records
    /// older than `milliseconds` (`metadata.max.retention.ms`); -1 is no limit.
    func exceedsRetention(bytes: Int64, milliseconds: Int64) -> Bool {
        if bytes >= 0, log.sizeInBytes > bytes { return true }
        guard milliseconds >= 0, let oldest = (try? log.segmentSummaries())?.first?.firstBatchTimestamp else { return false }
        return SystemLogClock().nowMilliseconds() - oldest > milliseconds
    }

    /// Keeps the start snapshot (it stands for what the log no longer holds), the latest (the
    /// one sent to others) and, while the log starts at 0, the bootstrap snapshot; removes the
    /// rest.
    private func removeUnneededSnapshots() {
        for id in MetadataSnapshot.ids(in: snapshotDirectory).map(\.epochEndOffset)
        where id != startSnapshot && id != latestSnapshot && (startSnapshot != nil || id.endOffset > Offset(0)) {
            try? FileManager.default.removeItem(atPath: path(of: id))
        }
    }

    func flush() {
        guard failure == nil else { return }
        do { try log.flush() } catch { failure = error }
    }

    /// KRaft's epoch-start control batch: LeaderChangeMessage naming this replica and the voters.
    private func leaderChangeBatch(epoch: LeaderEpoch) throws -> ByteBuffer {
        let message = LeaderChangeMessage(
            version: 0, leaderId: localID.rawValue,
            voters: voters.map { LeaderChangeMessage.Voter(voterId: $0.rawValue) },
            grantingVoters: []
        )
        var value = ByteBuffer()
        try message.write(to: &value, version: 0)
        var configuration = RecordBatchBuilder.Configuration()
        configuration.isControlBatch = true
        configuration.partitionLeaderEpoch = epoch.rawValue
        var builder = RecordBatchBuilder(configuration: configuration)
        builder.append(timestamp: SystemLogClock().nowMilliseconds(), key: ControlRecordKey(type: .leaderChange).encoded(), value: value)
        return try builder.build()
    }
}
