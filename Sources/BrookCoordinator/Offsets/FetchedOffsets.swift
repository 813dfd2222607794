import BrookModel
import BrookProtocol

/// One group's OffsetFetch answer from its shard.
public struct FetchedOffsets: Sendable, Equatable {
    /// A group-level error (NOT_COORDINATOR once the shard has shut down), else NONE.
    public var error: ErrorCode
    /// The committed offsets; a partition without one is absent.
    public var offsets: [TopicPartition: CommittedOffset]
    /// Partitions with a transactional offset not yet committed or aborted, reported only when
    /// the fetch requires stable offsets: they are answered with UNSTABLE_OFFSET_COMMIT and no
    /// offset, and are absent from ``offsets``.
    public var unstable: Set<TopicPartition>

    public init(error: ErrorCode = .none, offsets: [TopicPartition: CommittedOffset] = [:], unstable: Set<TopicPartition> = []) {
        self.error = error
        self.offsets = offsets
        self.unstable = unstable
    }
}
