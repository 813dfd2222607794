import BrookModel

/// The committed offsets of every group owned by one coordinator shard.
public struct OffsetStore: Sendable {
    private(set) var groups: [String: [TopicPartition: CommittedOffset]] = [:]

    public init() {}

    public func offsets(of group: String) -> [TopicPartition: CommittedOffset] {
        groups[group] ?? [:]
    }

    public func hasOffsets(_ group: String) -> Bool {
        !(groups[group]?.isEmpty ?? true)
    }

    public mutating func commit(_ offset: CommittedOffset, group: String, partition: TopicPartition) {
        groups[group, default: [:]][partition] = offset
    }

    public mutating func remove(group: String, partition: TopicPartition) {
        groups[group]?[partition] = nil
        if groups[group]?.isEmpty == true { groups[group] = nil }
    }

    public mutating func removeAll(group: String) {
        groups[group] = nil
    }

    /// The offsets of `group` past their retention: an explicit expiry time when the commit
    /// carried one, else the commit time plus `retentionMs`.
    public func expired(group: String, retentionMs: Int64, now: Int64) -> [TopicPartition] {
        (groups[group] ?? [:]).compactMap { partition, offset in
            let expiry = offset.expireTimestamp ?? (offset.commitTimestamp + retentionMs)
            return expiry <= now ? partition : nil
        }
    }

    /// Every group with offsets.
    public var groupIds: Dictionary<String, [TopicPartition: CommittedOffset]>.Keys { groups.keys }
}
