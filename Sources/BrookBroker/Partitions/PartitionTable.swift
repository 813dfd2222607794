import Atomics
import BrookModel
import BrookProtocol
import Synchronization

/// The partitions this broker hosts, readable without locks.
///
/// Readers (every produce and fetch) load an immutable snapshot with one atomic load; the rare
/// writers (topic creation and deletion) build a new snapshot under a mutex and publish it.
final class PartitionTable: Sendable {
    final class Snapshot: AtomicReference, Sendable {
        let partitions: [TopicPartition: Partition]

        init(_ partitions: [TopicPartition: Partition]) {
            self.partitions = partitions
        }
    }

    private let current = ManagedAtomic(Snapshot([:]))
    private let writers = Mutex(())

    /// The partition, if this broker hosts it.
    func partition(_ topicPartition: TopicPartition) -> Partition? {
        current.load(ordering: .acquiring).partitions[topicPartition]
    }

    /// The partition, if this broker hosts it and leads it: only a leader serves producers and
    /// consumers (a follower answers NOT_LEADER_OR_FOLLOWER).
    func leader(_ topicPartition: TopicPartition) -> Partition? {
        guard let partition = partition(topicPartition), partition.isLeader else { return nil }
        return partition
    }

    /// Why ``leader(_:)`` found nothing: NOT_LEADER_OR_FOLLOWER for a partition this broker
    /// follows, UNKNOWN_TOPIC_OR_PARTITION for one it does not host.
    func notLeaderError(_ topicPartition: TopicPartition) -> ErrorCode {
        partition(topicPartition) == nil ? .unknownTopicOrPartition : .notLeaderOrFollower
    }

    /// Every hosted partition.
    var all: [Partition] { Array(current.load(ordering: .acquiring).partitions.values) }

    /// Applies a change to the set of partitions and publishes it.
    func update(_ change: (inout [TopicPartition: Partition]) -> Void) {
        writers.withLock { _ in
            var partitions = current.load(ordering: .acquiring).partitions
            change(&partitions)
            current.store(Snapshot(partitions), ordering: .releasing)
        }
    }
}
