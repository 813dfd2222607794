import BrookModel

/// The server-side assignors of KIP-848 consumer groups.
public enum ConsumerAssignor: String, Sendable, CaseIterable {
    /// Spreads all subscribed partitions evenly over the members, keeping partitions where
    /// they are when the balance allows (sticky).
    case uniform
    /// Per topic, contiguous ranges of partitions to the subscribed members in member-id order,
    /// so that co-partitioned topics line up.
    case range

    /// The target assignment for `subscriptions` (member id → subscribed topics), given each
    /// topic's partition count and the members' current assignments.
    func assign(
        subscriptions: [String: Set<String>], partitionCounts: [String: Int32], current: [String: Set<TopicPartition>]
    ) -> [String: Set<TopicPartition>] {
        switch self {
        case .range: return Self.range(subscriptions: subscriptions, partitionCounts: partitionCounts)
        case .uniform: return Self.uniform(subscriptions: subscriptions, partitionCounts: partitionCounts, current: current)
        }
    }

    private static func range(subscriptions: [String: Set<String>], partitionCounts: [String: Int32]) -> [String: Set<TopicPartition>] {
        var result = Dictionary(uniqueKeysWithValues: subscriptions.keys.map { ($0, Set<TopicPartition>()) })
        for (topic, count) in partitionCounts.sorted(by: { $0.key < $1.key }) {
            let members = subscriptions.filter { $0.value.contains(topic) }.keys.sorted()
            guard !members.isEmpty else { continue }
            let share = Int(count) / members.count
            let extra = Int(count) % members.count
            var next: Int32 = 0
            for (index, member) in members.enumerated() {
                let size = share + (index < extra ? 1 : 0)
                for partition in next..<(next + Int32(size)) {
                    result[member, default: []].insert(TopicPartition(topic: topic, partition: partition))
                }
                next += Int32(size)
            }
        }
        return result
    }

    private static func uniform(
        subscriptions: [String: Set<String>], partitionCounts: [String: Int32], current: [String: Set<TopicPartition>]
    ) -> [String: Set<TopicPartition>] {
        var result = Dictionary(uniqueKeysWithValues: subscriptions.keys.map { ($0, Set<TopicPartition>()) })
        var all: [TopicPartition] = []
        for (topic, count) in partitionCounts.sorted(by: { $0.key < $1.key }) {
            for partition in 0..<count { all.append(TopicPartition(topic: topic, partition: partition)) }
        }
        let subscribers = Dictionary(grouping: subscriptions.flatMap { member, topics in topics.map { ($0, member) } }, by: \.0)
            .mapValues { $0.map(\.1).sorted() }
        let eligible = all.filter { subscribers[$0.topic] != nil }
        guard !subscriptions.isEmpty else { return result }
        let quota = (eligible.count + subscriptions.count - 1) / subscriptions.count
        var unassigned: [TopicPartition] = []
        // Keep what members already own, up to the quota.
        var owner: [TopicPartition: String] = [:]
        for (member, partitions) in current { for partition in partitions { owner[partition] = member } }
        for partition in eligible {
            if let member = owner[partition], subscriptions[member]?.contains(partition.topic) == true, result[member]!.count < quota {
                result[member]!.insert(partition)
            } else {
                unassigned.append(partition)
            }
        }
        // The rest to the least loaded subscriber.
        for partition in unassigned {
            guard let member = subscribers[partition.topic]?.min(by: { (result[$0]!.count, $0) < (result[$1]!.count, $1) }) else { continue }
            result[member]!.insert(partition)
        }
        return result
    }
}
