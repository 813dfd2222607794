import BrookModel
import BrookProtocol
import BrookRaft
import BrookRecords
import BrookStorage
import NIOCore

/// The quorum's log on disk: `__cluster_metadata-0` as a `PartitionLog`, each Raft entry one
/// record batch whose partition leader epoch is the entry's epoch.
///
/// Entries keep the offsets the leader gave them: every append, the leader's too, goes through
/// `appendAsFollower` after the batch's base offset and epoch are set, so the leader epoch cache
/// and the CRC checks are the partition log's own. The leader's epoch-start entry becomes a
/// control batch holding KRaft's LeaderChangeMessage.
///
/// `RaftLog`'s operations cannot fail; a storage error is kept in `failure`, leaves the log as it
/// was (so what the replica reports stays true), and the driver stops the quorum on seeing it,
/// as Kafka halts on a metadata log failure. Not thread-safe: the driver is its only user.
final class PartitionRaftLog: RaftLog {
    let log: PartitionLog
    let localID: BrokerID
    let voters: [BrokerID]
    private(set) var failure: StorageError?

    init(log: PartitionLog, localID: BrokerID, voters: Set<BrokerID>) {
        self.log = log
        self.localID = localID
        self.voters = voters.sorted()
    }

    var endOffset: Offset { Offset(log.logEndOffset) }
    var durableEndOffset: Offset { Offset(min(log.durableOffset, log.logEndOffset)) }
    var lastEpoch: LeaderEpoch { log.logEndOffset > log.logStartOffset ? log.latestEpoch ?? .none : .none }

    func entries(from offset: Offset, below end: Offset, limit: Int) -> [RaftEntry] {
        var entries: [RaftEntry] = []
        var next = offset.rawValue
        do {
            while next < end.rawValue, entries.count < limit {
                let result = try log.read(from: next, maxBytes: 1 << 20, upTo: end.rawValue)
                guard let region = result.region else { break }
                var reader = RecordBatchReader(try region.readBytes())
                let before = next
                while entries.count < limit, let batch = try reader.next() {
                    guard batch.baseOffset >= next, batch.nextOffset <= end.rawValue else { continue }
                    entries.append(RaftEntry(
                        epoch: LeaderEpoch(batch.partitionLeaderEpoch), payload: batch.bytes,
                        recordCount: Int(batch.nextOffset - batch.baseOffset), isControl: batch.isControlBatch
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
        do { try log.truncate(to: offset.rawValue) } catch { failure = error }
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
