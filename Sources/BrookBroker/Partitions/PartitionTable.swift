import Atomics
import BrookModel
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
