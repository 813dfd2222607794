import BrookModel

/// The committed offsets of every group owned by one coordinator shard, and the transactional
/// offsets still waiting for their transaction's COMMIT or ABORT marker
/// (`OffsetStore+Transactions.swift`).
///
/// Every offset remembers its *position*: the order in which its record reached the shard's log
/// (records are applied in log order, on load and live, so a counter is enough; Kafka keeps the
/// record's log offset for the same purpose). When a transaction commits, its offsets replace
/// only committed offsets written *before* them: a plain OffsetCommit written after a
/// transactional one wins, whatever the order of the marker.
public struct OffsetStore: Sendable {
    /// An offset and the position of its record.
    struct Entry: Sendable, Equatable {
        var offset: CommittedOffset
        var position: Int64
    }

    var groups: [String: [TopicPartition: Entry]] = [:]
    /// Transactional offsets by producer id, then group and partition.
    var pending: [Int64: [String: [TopicPartition: Entry]]] = [:]
    /// The position the next record gets.
    private(set) var nextPosition: Int64 = 0

    public init() {}

    public func offsets(of group: String) -> [TopicPartition: CommittedOffset] {
        (groups[group] ?? [:]).mapValues(\.offset)
    }

    /// Whether `group` has committed offsets (pending transactional ones do not count).
    public func hasOffsets(_ group: String) -> Bool {
        !(groups[group]?.isEmpty ?? true)
    }

    /// Records a plain (non-transactional) commit.
    public mutating func commit(_ offset: CommittedOffset, group: String, partition: TopicPartition) {
        groups[group, default: [:]][partition] = Entry(offset: offset, position: takePosition())
    }

    /// Removes a committed offset and the pending transactional offsets of the same partition
    /// (an offset tombstone deletes both, as in Kafka).
    public mutating func remove(group: String, partition: TopicPartition) {
        groups[group]?[partition] = nil
        if groups[group]?.isEmpty == true { groups[group] = nil }
        for producerId in pending.keys {
            pending[producerId]?[group]?[partition] = nil
            if pending[producerId]?[group]?.isEmpty == true { pending[producerId]?[group] = nil }
        }
        pending = pending.filter { !$0.value.isEmpty }
    }

    /// Removes every committed and pending offset of `group`.
    public mutating func removeAll(group: String) {
        groups[group] = nil
        for producerId in pending.keys { pending[producerId]?[group] = nil }
        pending = pending.filter { !$0.value.isEmpty }
    }

    /// The offsets of `group` past their retention: an explicit expiry time when the commit
    /// carried one, else the commit time plus `retentionMs`. A partition with a pending
    /// transactional offset does not expire yet. The commit time may be any number a v1 client
    /// sent (and was persisted as sent), so the sum saturates.
    public func expired(group: String, retentionMs: Int64, now: Int64) -> [TopicPartition] {
        (groups[group] ?? [:]).compactMap { partition, entry in
            let expiry = entry.offset.expireTimestamp ?? entry.offset.commitTimestamp.saturatingAdd(retentionMs)
            return expiry <= now && !hasPendingOffset(group: group, partition: partition) ? partition : nil
        }
    }

    /// Every group with committed or pending offsets.
    public var groupIds: Set<String> {
        Set(groups.keys).union(pending.values.flatMap(\.keys))
    }

    mutating func takePosition() -> Int64 {
        defer { nextPosition += 1 }
        return nextPosition
    }
}
