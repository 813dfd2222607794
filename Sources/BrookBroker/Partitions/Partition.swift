import BrookModel
import BrookProtocol
import BrookStorage
import NIOCore
import Synchronization

/// One partition this broker hosts, as leader or follower: its log, its replication state and
/// the requests waiting on it (fetches for data, acks=all produces for the high watermark).
///
/// The log serialises its own appends. The replication state (``ReplicaState``) sits under a
/// lock of its own, held only to read or change that value, never across I/O: appends check the
/// role under it, then write. A leader alone in its ISR has its log end as high watermark (one
/// node, or a topic with one replica); otherwise the high watermark is the lowest log end of the
/// ISR, learnt from the followers' fetches.
///
/// The topic's configuration lives in the log (``PartitionLog/config``, swapped by
/// ``PartitionManager/reconfigure(_:)``): `min.insync.replicas`, `cleanup.policy` and
/// `compression.type` are read from there at each append.
final class Partition: Sendable {
    let topicPartition: TopicPartition
    let topicId: Uuid
    let log: PartitionLog
    /// Fetches waiting for records (woken by appends and by the high watermark moving).
    let waiters = PartitionWaiters()
    /// acks=all produces waiting for the high watermark (woken when it moves or the role changes).
    let replicationWaiters = PartitionWaiters()
    /// Group commit for acks=all when the records must be fsynced before the answer.
    let durability: DurableAcknowledger
    let replication: Mutex<ReplicaState>

    init(topicPartition: TopicPartition, topicId: Uuid, log: PartitionLog, state: ReplicaState) {
        self.topicPartition = topicPartition
        self.topicId = topicId
        self.log = log
        self.durability = DurableAcknowledger(log: log)
        self.replication = Mutex(state)
    }

    /// A partition led by `localId` alone (one node; tests).
    convenience init(topicPartition: TopicPartition, topicId: Uuid, log: PartitionLog, leaderEpoch: Int32, localId: Int32 = 1) {
        var state = ReplicaState(localId: localId)
        _ = state.apply(
            leader: localId, leaderEpoch: leaderEpoch, partitionEpoch: leaderEpoch, replicas: [localId], isr: [localId],
            logEndOffset: log.logEndOffset, now: 0)
        self.init(topicPartition: topicPartition, topicId: topicId, log: log, state: state)
    }

    var state: ReplicaState { replication.withLock { $0 } }
    var leaderEpoch: Int32 { replication.withLock { $0.leaderEpoch } }
    var isLeader: Bool { replication.withLock { $0.isLeader } }
    /// Whether this broker leads, and the leader epoch, read together.
    var role: (isLeader: Bool, leaderEpoch: Int32) { replication.withLock { ($0.isLeader, $0.leaderEpoch) } }
    /// The in-sync replicas the controller committed.
    var inSyncReplicas: [Int32] { replication.withLock { $0.isr } }
    /// The replicas the controller assigned.
    var replicas: [Int32] { replication.withLock { $0.replicas } }
    /// Whether this broker leads with no other in-sync replica (its log end is the high watermark).
    var leadsAlone: Bool { replication.withLock { $0.leadsAlone } }

    /// Whether acks=all must wait for an fsync: no other in-sync replica holds the records
    /// and the topic does not allow `write.caching`.
    var acksAllWaitsForFsync: Bool {
        leadsAlone && !log.config.writeCaching
    }

    /// What consumers may read below: every in-sync replica has it.
    var highWatermark: Int64 {
        let (alone, stored) = replication.withLock { ($0.leadsAlone, $0.highWatermark) }
        let end = log.logEndOffset
        return alone ? end : min(stored, end)
    }

    /// Appends a producer's records and wakes the fetches waiting on this partition.
    ///
    /// In Kafka's order: a broker that does not lead refuses (NOT_LEADER_OR_FOLLOWER); acks=-1
    /// is refused while the in-sync replicas are fewer than `min.insync.replicas` (acks 0 and 1
    /// are not); then the records go through ``ProducedRecords/prepare(_:format:config:partition:)``
    /// (legacy conversion, keys on compacted topics, the topic's codec) and the log's own checks.
    /// Any refusal writes nothing. The broker's own coordinators append with `origin`
    /// ``AppendOrigin/coordinator``.
    func appendAsLeader(
        _ records: ByteBuffer, format: ProducedRecords.Format = .recordBatches, requiredAcks: Int16,
        origin: AppendOrigin = .client
    ) throws(LeaderAppendError) -> AppendInfo {
        let config = log.config
        let (isLeader, epoch, isr) = replication.withLock { ($0.isLeader, $0.leaderEpoch, $0.isr) }
        guard isLeader else { throw .notLeader(partition: topicPartition) }
        if requiredAcks == -1 && isr.count < config.minInSyncReplicas {
            throw .notEnoughReplicas(partition: topicPartition, inSyncReplicas: isr, minInSyncReplicas: config.minInSyncReplicas)
        }
        let batches = try ProducedRecords.prepare(records, format: format, config: config, partition: topicPartition)
        let info: AppendInfo
        do {
            info = try log.append(batches, leaderEpoch: LeaderEpoch(epoch), origin: origin)
        } catch {
            throw .storage(error)
        }
        if info.batchCount > 0 { appended() }
        return info
    }

    /// After an append: fetches waiting for data wake, and a leader alone in its ISR has a new
    /// high watermark for the acks=all produces waiting on it.
    func appended() {
        waiters.notifyAll()
    }
}
