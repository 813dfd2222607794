import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookStorage

/// Writes a transaction's markers to the partitions this broker leads, exactly as a
/// WriteTxnMarkers request would: the control batch is appended to each partition, and a marker
/// on `__consumer_offsets` also commits or drops the transaction's pending offsets in the group
/// coordinator. A partition not hosted here answers UNKNOWN_TOPIC_OR_PARTITION (on one node it
/// has been deleted).
struct LocalMarkerWriter: TransactionMarkerWriter {
    let partitions: PartitionTable
    let groups: GroupCoordinatorHost

    func write(_ markers: TransactionMarkers) async -> [TopicPartition: ErrorCode] {
        var results: [TopicPartition: ErrorCode] = [:]
        for partition in markers.partitions {
            results[partition] = await write(
                commit: markers.commit, producerId: markers.producerId, producerEpoch: markers.producerEpoch,
                coordinatorEpoch: markers.coordinatorEpoch, to: partition)
        }
        return results
    }

    /// Appends one marker, waits until the in-sync replicas hold it (Kafka appends markers with
    /// acks=all: a marker only the leader had would be lost with it, and a later marker of the
    /// same producer would close the transaction the other way), then tells the group
    /// coordinator when it closes transactional offsets. A marker below the high watermark is
    /// held by every in-sync replica, so a shrunken ISR does not refuse it.
    func write(commit: Bool, producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32, to topicPartition: TopicPartition) async -> ErrorCode {
        guard let partition = partitions.leader(topicPartition) else { return partitions.notLeaderError(topicPartition) }
        let epoch = partition.leaderEpoch
        let appended: AppendInfo
        do throws(StorageError) {
            appended = try partition.appendTransactionMarker(
                commit: commit, producerId: producerId, producerEpoch: producerEpoch, coordinatorEpoch: coordinatorEpoch)
        } catch {
            return error.errorCode
        }
        let outcome = await partition.waitForReplication(
            below: appended.lastOffset + 1, epoch: epoch, deadline: .now + Self.replicationTimeout)
        guard outcome == .none || outcome == .notEnoughReplicasAfterAppend else { return outcome }
        await groups.transactionCompleted(partition: topicPartition, producerId: producerId, commit: commit)
        return .none
    }

    /// How long a marker waits for the in-sync replicas (Kafka's `request.timeout.ms` default).
    static let replicationTimeout: Duration = .seconds(30)
}
