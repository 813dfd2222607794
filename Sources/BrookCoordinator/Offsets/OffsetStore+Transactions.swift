import BrookModel

extension OffsetStore {
    /// Records an offset committed inside producer `producerId`'s transaction (TxnOffsetCommit):
    /// it stays pending, invisible to OffsetFetch, until ``completeTransaction(producerId:commit:)``.
    /// A later one for the same partition in the same transaction replaces it.
    public mutating func stage(_ offset: CommittedOffset, producerId: Int64, group: String, partition: TopicPartition) {
        pending[producerId, default: [:]][group, default: [:]][partition] = Entry(offset: offset, position: takePosition())
    }

    /// Applies producer `producerId`'s COMMIT (`commit` true) or ABORT marker. On commit each of
    /// its pending offsets becomes the committed one unless a commit written after it is already
    /// there; on abort they are dropped. A marker with nothing pending does nothing.
    public mutating func completeTransaction(producerId: Int64, commit: Bool) {
        guard let staged = pending.removeValue(forKey: producerId), commit else { return }
        for (group, partitions) in staged {
            for (partition, entry) in partitions {
                if let current = groups[group]?[partition], current.position > entry.position { continue }
                groups[group, default: [:]][partition] = entry
            }
        }
    }

    /// Whether a transaction has an offset for `partition` of `group` that is neither committed
    /// nor aborted yet (OffsetFetch with `require_stable` answers UNSTABLE_OFFSET_COMMIT for it).
    public func hasPendingOffset(group: String, partition: TopicPartition) -> Bool {
        pending.values.contains { $0[group]?[partition] != nil }
    }

    /// Whether any open transaction holds offsets of `group`.
    public func hasPendingOffsets(_ group: String) -> Bool {
        pending.values.contains { !($0[group]?.isEmpty ?? true) }
    }

    /// The partitions of `group` with pending transactional offsets.
    public func pendingPartitions(of group: String) -> Set<TopicPartition> {
        Set(pending.values.flatMap { ($0[group] ?? [:]).keys })
    }

    /// The producers with pending transactional offsets.
    public var pendingProducerIds: Set<Int64> { Set(pending.keys) }
}
