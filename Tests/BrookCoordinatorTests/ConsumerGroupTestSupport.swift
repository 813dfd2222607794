@testable import BrookCoordinator
import BrookModel
import BrookProtocol

/// A KIP-848 group under test: heartbeats as clients send them, against a fixed catalog
/// (`audit` and `orders-eu` with 2 partitions, `orders` with 4), on a clock the test moves.
struct ConsumerGroupUnderTest {
    static let catalog = TopicCatalog(topics: [
        "orders": .init(id: Uuid(mostSignificantBits: 1, leastSignificantBits: 1), partitionCount: 4),
        "audit": .init(id: Uuid(mostSignificantBits: 2, leastSignificantBits: 2), partitionCount: 2),
        "orders-eu": .init(id: Uuid(mostSignificantBits: 3, leastSignificantBits: 3), partitionCount: 2),
    ])

    var group = ConsumerGroup(groupId: "g")
    var now: Int64 = 0

    /// One heartbeat. A join (epoch 0) is a full request: it names the topics (`topics` or
    /// none), the rebalance timeout and the owned partitions (none unless `owned` says).
    @discardableResult
    mutating func beat(
        _ memberId: String, epoch: Int32, topics: [String]? = nil, owned: Set<TopicPartition>? = nil, instance: String? = nil
    ) -> ConsumerHeartbeatResult {
        now += 10
        let request = ConsumerHeartbeat(
            memberId: memberId, memberEpoch: epoch, instanceId: instance, rackId: nil,
            rebalanceTimeoutMs: epoch == 0 ? 30_000 : -1, subscribedTopicNames: epoch == 0 ? topics ?? [] : topics,
            subscribedTopicRegex: nil, serverAssignor: nil, ownedPartitions: epoch == 0 ? owned ?? [] : owned,
            clientId: "c", clientHost: "/127.0.0.1"
        )
        return group.heartbeat(request, catalog: Self.catalog, configuration: configuration, now: now, newMemberId: { "unexpected" })
    }

    /// The member, which the test expects to be in the group.
    func member(_ memberId: String) -> ConsumerMember {
        group.members[memberId] ?? ConsumerMember(memberId: "missing \(memberId)", instanceId: nil, rackId: nil, clientId: "", clientHost: "", rebalanceTimeoutMs: 0)
    }
}

/// Partitions of one topic.
func topicPartitions(_ topic: String, _ numbers: Int32...) -> Set<TopicPartition> {
    Set(numbers.map { TopicPartition(topic: topic, partition: $0) })
}
