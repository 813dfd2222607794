import BrookModel
import BrookProtocol
import BrookStorage
import NIOCore

/// One partition this broker leads: its log and the fetches waiting for it to grow.
///
/// The log serialises its own appends; this type adds no lock. On one node the high watermark is
/// the log end offset (every replica — this one — has every record).
///
/// The topic's configuration lives in the log (``PartitionLog/config``, swapped by
/// ``PartitionManager/reconfigure(_:)``): `min.insync.replicas`, `cleanup.policy` and
/// `compression.type` are read from there at each append.
final class Partition: Sendable {
    let topicPartition: TopicPartition
    let topicId: Uuid
    let log: PartitionLog
    let waiters = PartitionWaiters()
    let leaderEpoch: Int32
    /// The in-sync replicas as the metadata names them (this node alone on one node).
    let inSyncReplicas: [Int32]
    /// Group commit for acks=all when the records must be fsynced before the answer.
    let durability: DurableAcknowledger

    init(topicPartition: TopicPartition, topicId: Uuid, log: PartitionLog, leaderEpoch: Int32, inSyncReplicas: [Int32]) {
        self.topicPartition = topicPartition
        self.topicId = topicId
        self.log = log
        self.leaderEpoch = leaderEpoch
        self.inSyncReplicas = inSyncReplicas
        self.durability = DurableAcknowledger(log: log)
    }

    /// Whether acks=all must wait for an fsync: no other in-sync replica holds the records
    /// and the topic does not allow `write.caching`.
    var acksAllWaitsForFsync: Bool {
        inSyncReplicas.count <= 1 && !log.config.writeCaching
    }

    var highWatermark: Int64 { log.logEndOffset }

    /// Appends a producer's records and wakes the fetches waiting on this partition.
    ///
    /// In Kafka's order: acks=-1 is refused while the in-sync replicas are fewer than
    /// `min.insync.replicas` (acks 0 and 1 are not); then the records go through
    /// ``ProducedRecords/prepare(_:format:config:partition:)`` (legacy conversion, keys on
    /// compacted topics, the topic's codec) and the log's own checks. Any refusal writes nothing.
    /// The broker's own coordinators append with `origin` ``AppendOrigin/coordinator``.
    func appendAsLeader(
        _ records: ByteBuffer, format: ProducedRecords.Format = .recordBatches, requiredAcks: Int16,
        origin: AppendOrigin = .client
    ) throws(LeaderAppendError) -> AppendInfo {
        let config = log.config
        if requiredAcks == -1 && inSyncReplicas.count < config.minInSyncReplicas {
            throw .notEnoughReplicas(
                partition: topicPartition, inSyncReplicas: inSyncReplicas, minInSyncReplicas: config.minInSyncReplicas)
        }
        let batches = try ProducedRecords.prepare(records, format: format, config: config, partition: topicPartition)
        let info: AppendInfo
        do {
            info = try log.append(batches, leaderEpoch: LeaderEpoch(leaderEpoch), origin: origin)
        } catch {
            throw .storage(error)
        }
        if info.batchCount > 0 { waiters.notifyAll() }
        return info
    }
}
