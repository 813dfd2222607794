import BrookModel

/// The `range` assignor (the Java client's RangeAssignor without racks): topic by topic, the
/// members subscribed to it, in member order, take consecutive ranges of its partitions; the
/// first `partitions % members` of them take one more.
///
/// Members subscribed to the same topics get the same partition numbers of each, which is what
/// joins over co-partitioned topics need.
public struct RangeAssignor: PartitionAssignor {
    public init() {}

    public var name: String { "range" }
    public var supportedProtocols: Set<RebalanceProtocol> { [.eager] }

    public func assign(members: [AssignorMember], partitionCounts: [String: Int32]) -> [String: [TopicPartition]] {
        var result = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, [TopicPartition]()) })
        let ordered = members.sorted(by: AssignorMember.precedes)
        for topic in partitionCounts.keys.sorted() {
            let count = Int(partitionCounts[topic]!)
            let subscribers = ordered.filter { $0.topics.contains(topic) }
            guard !subscribers.isEmpty, count > 0 else { continue }
            let each = count / subscribers.count
            let extra = count % subscribers.count
            for (index, member) in subscribers.enumerated() {
                let start = each * index + min(index, extra)
                let length = each + (index < extra ? 1 : 0)
                result[member.memberId]! += (start..<start + length).map { TopicPartition(topic: topic, partition: Int32($0)) }
            }
        }
        return result
    }
}
