import BrookModel
import BrookProtocol

/// A KIP-227 incremental fetch session: the partitions a client fetches and what it was last told
/// about each, so that a follow-up request may name only what changed and a response may carry
/// only partitions with news.
struct FetchSession: Sendable {
    /// What the session remembers about one partition.
    struct PartitionState: Sendable, Equatable {
        var topicId: Uuid
        var fetchOffset: Int64
        var partitionMaxBytes: Int32
        var currentLeaderEpoch: Int32
        /// Last values sent to the client; a partition is resent when one of them changes.
        var lastHighWatermark: Int64 = -1
        var lastLogStartOffset: Int64 = -1
        var lastStableOffset: Int64 = -1
    }

    let id: Int32
    /// The epoch the next request must carry.
    var nextEpoch: Int32
    /// Partitions in the order the client first named them.
    private(set) var order: [TopicPartition] = []
    private(set) var partitions: [TopicPartition: PartitionState] = [:]

    init(id: Int32) {
        self.id = id
        self.nextEpoch = 1
    }

    mutating func upsert(_ partition: TopicPartition, _ state: PartitionState) {
        if var existing = partitions[partition] {
            existing.topicId = state.topicId
            existing.fetchOffset = state.fetchOffset
            existing.partitionMaxBytes = state.partitionMaxBytes
            existing.currentLeaderEpoch = state.currentLeaderEpoch
            partitions[partition] = existing
        } else {
            partitions[partition] = state
            order.append(partition)
        }
    }

    mutating func remove(_ partition: TopicPartition) {
        guard partitions.removeValue(forKey: partition) != nil else { return }
        order.removeAll { $0 == partition }
    }

    /// Records what was sent, and says whether an incremental response must include the partition.
    mutating func noteSent(_ partition: TopicPartition, highWatermark: Int64, logStartOffset: Int64, lastStableOffset: Int64) -> Bool {
        guard var state = partitions[partition] else { return true }
        let changed = state.lastHighWatermark != highWatermark || state.lastLogStartOffset != logStartOffset
            || state.lastStableOffset != lastStableOffset
        state.lastHighWatermark = highWatermark
        state.lastLogStartOffset = logStartOffset
        state.lastStableOffset = lastStableOffset
        partitions[partition] = state
        return changed
    }

    /// Moves a partition's fetch offset after records were returned.
    mutating func advance(_ partition: TopicPartition, to offset: Int64) {
        partitions[partition]?.fetchOffset = offset
    }
}
