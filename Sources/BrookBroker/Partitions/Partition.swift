import BrookModel
import BrookProtocol
import BrookStorage
import NIOCore

/// One partition this broker leads: its log and the fetches waiting for it to grow.
///
/// The log serialises its own appends; this type adds no lock. On one node the high watermark is
/// the log end offset (every replica — this one — has every record).
final class Partition: Sendable {
    let topicPartition: TopicPartition
    let topicId: Uuid
    let log: PartitionLog
    let waiters = PartitionWaiters()
    let leaderEpoch: Int32

    init(topicPartition: TopicPartition, topicId: Uuid, log: PartitionLog, leaderEpoch: Int32) {
        self.topicPartition = topicPartition
        self.topicId = topicId
        self.log = log
        self.leaderEpoch = leaderEpoch
    }

    var highWatermark: Int64 { log.logEndOffset }

    /// Appends a producer's records and wakes the fetches waiting on this partition.
    func appendAsLeader(_ records: ByteBuffer) throws(StorageError) -> AppendInfo {
        let info = try log.append(records, leaderEpoch: LeaderEpoch(leaderEpoch))
        if info.batchCount > 0 { waiters.notifyAll() }
        return info
    }
}
