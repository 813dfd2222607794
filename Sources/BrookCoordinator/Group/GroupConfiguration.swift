/// The broker settings that govern groups (Kafka's `group.*` and `offsets.*` keys).
public struct GroupConfiguration: Sendable, Equatable {
    /// `group.min.session.timeout.ms`.
    public var minSessionTimeoutMs: Int32 = 6_000
    /// `group.max.session.timeout.ms`.
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    /// `group.initial.rebalance.delay.ms`: how long a new group waits for more members before its
    /// first rebalance completes.
    public var initialRebalanceDelayMs: Int64 = 3_000
    /// `group.max.size`.
    public var maxSize: Int = Int(Int32.max)
    /// `offsets.retention.minutes`, in milliseconds: how long an empty group's offsets are kept.
    public var offsetsRetentionMs: Int64 = 7 * 24 * 60 * 60 * 1_000
    /// `offset.metadata.max.bytes`.
    public var offsetMetadataMaxBytes: Int = 4_096
    /// `group.consumer.session.timeout.ms` (KIP-848 groups).
    public var consumerSessionTimeoutMs: Int32 = 45_000
    /// `group.consumer.heartbeat.interval.ms` (KIP-848 groups).
    public var consumerHeartbeatIntervalMs: Int32 = 5_000
    /// `offsets.topic.num.partitions`.
    public var offsetsTopicPartitions: Int32 = 50

    public init() {}
}
