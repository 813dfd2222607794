import BrookClient
import BrookModel
import Testing

/// What `brook reassign-partitions --execute --throttle` throttles: the current replicas of each
/// moving partition as leaders, the replicas it gains as followers, on every broker involved.
@Suite struct ReplicationThrottleTests {
    static func key(_ topic: String, _ partition: Int32) -> TopicPartition { TopicPartition(topic: topic, partition: partition) }

    @Test func onlyMovingPartitionsAreListedAndTheirBrokersThrottled() {
        let current = [Self.key("a", 0): [1, 2], Self.key("a", 1): [2, 3], Self.key("b", 0): [3, 1]] as [TopicPartition: [Int32]]
        let target = [Self.key("a", 0): [1, 4], Self.key("a", 1): [2, 3], Self.key("b", 0): [1, 3]] as [TopicPartition: [Int32]]
        let lists = ReplicationThrottle.replicaLists(current: current, target: target)
        #expect(lists["a"] == .init(leader: "0:1,0:2", follower: "0:4"))
        #expect(lists["b"] == .init(leader: "0:3,0:1", follower: ""), "a reordering gains no replica")
        #expect(ReplicationThrottle.brokers(current: current, target: target) == [1, 2, 3, 4])
        #expect(ReplicationThrottle.replicaLists(current: current, target: current).isEmpty)
    }
}
