import Synchronization
import BrookModel
import BrookProtocol

/// How a group membership changes the consumer's assignment: partitions join and leave it
/// around the configured rebalance callbacks.
extension Consumer {
    /// Adds `partitions` to the assignment. They stay out of fetching and polling until
    /// `onPartitionsAssigned` returned, so that a seek in the callback decides where they start;
    /// then they start at the committed offset (or per `auto.offset.reset`).
    func assignForRebalance(_ partitions: [TopicPartition]) async {
        state.withLock { state in
            for partition in partitions where state.partitions[partition] == nil {
                var entry = PartitionState()
                entry.rebalancing = true
                // Unlike any earlier assignment of the partition, so that a fetch still in flight
                // from then is seen as stale.
                entry.generation = Int.random(in: 1..<Int.max)
                state.partitions[partition] = entry
            }
        }
        await configuration.onPartitionsAssigned?(self, partitions)
        state.withLock { state in
            for partition in partitions { state.partitions[partition]?.rebalancing = false }
        }
        wake()
    }

    /// Gives up `partitions`: no more of their records are handed out, their positions are
    /// committed (with auto-commit; a failure is not fatal, as in the Java client), then
    /// `onPartitionsRevoked` runs and they leave the assignment.
    func revokeForRebalance(_ partitions: [TopicPartition]) async {
        guard !partitions.isEmpty else { return }
        let positions = state.withLock { state -> [TopicPartition: Int64] in
            var positions: [TopicPartition: Int64] = [:]
            for partition in partitions {
                state.partitions[partition]?.rebalancing = true
                if let position = state.partitions[partition]?.position { positions[partition] = position }
            }
            return positions
        }
        if configuration.enableAutoCommit && !positions.isEmpty { try? await commit(positions) }
        await configuration.onPartitionsRevoked?(self, partitions)
        state.withLock { state in
            for partition in partitions { state.partitions[partition] = nil }
        }
    }

    /// Drops `partitions` that another member may already own: nothing is committed.
    func loseForRebalance(_ partitions: [TopicPartition]) async {
        guard !partitions.isEmpty else { return }
        state.withLock { state in
            for partition in partitions { state.partitions[partition] = nil }
        }
        await (configuration.onPartitionsLost ?? configuration.onPartitionsRevoked)?(self, partitions)
    }

    /// The membership offsets are committed under: generation (or member epoch) and member id.
    func setGroupIdentity(generation: Int32, memberId: String) {
        state.withLock { state in
            state.generationId = generation
            state.memberId = memberId
            state.groupInstanceId = configuration.groupInstanceId
        }
    }

    /// The group refused the member for good: the next poll throws `error`.
    func failMembership(_ error: any Error) {
        state.withLock { state in
            if !state.isClosed { state.failure = state.failure ?? error }
        }
        wake()
    }

    /// Commits the positions that moved since `last` (auto-commit); errors are ignored, the
    /// next round tries again. Returns what is committed now.
    func commitMovedPositions(since last: [TopicPartition: Int64]) async -> [TopicPartition: Int64] {
        let positions = state.withLock { state in
            state.partitions.filter { !$0.value.rebalancing }.compactMapValues(\.position)
        }
        let moved = positions.filter { last[$0.key] != $0.value }
        guard !moved.isEmpty else { return last }
        do {
            try await commit(moved)
            return last.merging(moved) { _, new in new }
        } catch {
            return last
        }
    }
}
