import BrookModel

/// The `roundrobin` assignor (the Java client's RoundRobinAssignor): every subscribed partition,
/// by topic then partition, goes to the next member in member order that subscribes to its
/// topic, cycling through the members.
public struct RoundRobinAssignor: PartitionAssignor {
    public init() {}

    public var name: String { "roundrobin" }
    public var supportedProtocols: Set<RebalanceProtocol> { [.eager] }

    public func assign(members: [AssignorMember], partitionCounts: [String: Int32]) -> [String: [TopicPartition]] {
        var result = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, [TopicPartition]()) })
        let ordered = members.sorted(by: AssignorMember.precedes)
        guard !ordered.isEmpty else { return result }
        let subscribed = Set(ordered.flatMap(\.topics))
        var next = 0
        for topic in partitionCounts.keys.sorted() where subscribed.contains(topic) {
            for partition in 0..<partitionCounts[topic]! {
                while !ordered[next % ordered.count].topics.contains(topic) { next += 1 }
                result[ordered[next % ordered.count].memberId]!.append(TopicPartition(topic: topic, partition: partition))
                next += 1
            }
        }
        return result
    }
}
