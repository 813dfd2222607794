import BrookModel

/// A ``Consumer``'s settings, named after the Java client's configs.
public struct ConsumerConfiguration: Sendable {
    /// Where to start a partition that has no committed offset (`auto.offset.reset`).
    public enum OffsetReset: String, Sendable {
        case earliest, latest, none
    }

    /// `group.protocol`: how a subscribed consumer takes part in its group.
    public enum GroupProtocol: String, Sendable {
        /// JoinGroup/SyncGroup/Heartbeat; the group leader assigns partitions with
        /// ``ConsumerConfiguration/partitionAssignmentStrategy``.
        case classic
        /// KIP-848's ConsumerGroupHeartbeat; the broker assigns partitions.
        case consumer
    }

    /// Called with the partitions of a rebalance: `(consumer, partitions)`.
    public typealias RebalanceCallback = @Sendable (Consumer, [TopicPartition]) async -> Void

    /// `bootstrap.servers`.
    public var bootstrapServers: String
    /// `client.id`.
    public var clientId = "brook-consumer"
    /// How connections are secured (`security.protocol`, `ssl.*`, `sasl.*`).
    public var security: ClientSecurity = .plaintext
    /// `group.id`: needed for committed offsets (and for subscribing).
    public var groupId: String? = nil
    /// `auto.offset.reset`.
    public var autoOffsetReset: OffsetReset = .latest
    /// `isolation.level`: false reads everything up to the high watermark (read_uncommitted),
    /// true only committed transactional records, up to the last stable offset.
    public var readCommitted = false
    /// `fetch.min.bytes`.
    public var fetchMinBytes: Int32 = 1
    /// `fetch.max.wait.ms`.
    public var fetchMaxWaitMs: Int32 = 500
    /// `fetch.max.bytes`.
    public var fetchMaxBytes: Int32 = 52_428_800
    /// `max.partition.fetch.bytes`.
    public var maxPartitionFetchBytes: Int32 = 1_048_576
    /// `max.poll.records`.
    public var maxPollRecords = 500

    // MARK: Group membership (subscribe)

    /// `group.protocol`.
    public var groupProtocol: GroupProtocol = .classic
    /// `group.instance.id`: a static member (KIP-345), which keeps its partitions across a
    /// restart within the session timeout and does not leave the group on close.
    public var groupInstanceId: String? = nil
    /// `session.timeout.ms` (classic groups; KIP-848 groups use the broker's setting).
    public var sessionTimeoutMs: Int32 = 45_000
    /// `heartbeat.interval.ms` (classic groups; KIP-848 groups use the interval the broker asks for).
    public var heartbeatIntervalMs: Int32 = 3_000
    /// `max.poll.interval.ms`: a member that does not poll for this long leaves its group (and
    /// rejoins at its next poll). Also the rebalance timeout it announces.
    public var maxPollIntervalMs: Int32 = 300_000
    /// `partition.assignment.strategy` (classic groups): the assignors offered in JoinGroup, most
    /// preferred first. The member rebalances cooperatively only when all of them support it
    /// (as in the Java client), so `[CooperativeStickyAssignor()]` alone for KIP-429.
    public var partitionAssignmentStrategy: [any PartitionAssignor] = [RangeAssignor(), CooperativeStickyAssignor()]
    /// `group.remote.assignor` (KIP-848 groups): the broker's assignor to use, nil for its default.
    public var groupRemoteAssignor: String? = nil
    /// `enable.auto.commit`: a subscribed consumer commits its positions every
    /// `autoCommitIntervalMs`, before partitions are revoked, and on close. (Manually assigned
    /// consumers commit only when asked.)
    public var enableAutoCommit = true
    /// `auto.commit.interval.ms`.
    public var autoCommitIntervalMs = 5_000
    /// `metadata.max.age.ms`: how often a subscription reads the metadata again, to find new
    /// topics matching its pattern and (as the group leader) changed partition counts.
    public var metadataMaxAgeMs = 300_000
    /// `retry.backoff.ms`: the pause after a failed group request.
    public var retryBackoffMs = 100
    /// `exclude.internal.topics`: patterns never match internal topics.
    public var excludeInternalTopics = true
    /// Called after a rebalance with the partitions newly assigned (maybe none), before any of
    /// their records is fetched: a `seek` here decides where they start.
    public var onPartitionsAssigned: RebalanceCallback? = nil
    /// Called with partitions the consumer gives up in a rebalance or on close, after their
    /// positions were committed (with auto-commit); no more of their records are handed out.
    public var onPartitionsRevoked: RebalanceCallback? = nil
    /// Called with partitions that already belong to another member (the consumer was fenced or
    /// its session expired): nothing is committed. Defaults to ``onPartitionsRevoked``.
    public var onPartitionsLost: RebalanceCallback? = nil

    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    /// The rebalance protocol of a classic member: cooperative when every assignor supports it.
    var rebalanceProtocol: RebalanceProtocol {
        partitionAssignmentStrategy.allSatisfy { $0.supportedProtocols.contains(.cooperative) } && !partitionAssignmentStrategy.isEmpty
            ? .cooperative : .eager
    }
}
