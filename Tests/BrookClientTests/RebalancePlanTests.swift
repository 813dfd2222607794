import BrookClient
import BrookModel
import Testing

/// `brook cluster rebalance`'s plan: replicas and preferred leaders even out over the brokers
/// with as few moves as it takes, racks kept apart, brokers that are gone emptied.
@Suite struct RebalancePlanTests {
    static func key(_ index: Int32) -> TopicPartition { TopicPartition(topic: "t", partition: index) }

    static func counts(_ assignment: [TopicPartition: [Int32]]) -> (replicas: [Int32: Int], leaders: [Int32: Int]) {
        var replicas: [Int32: Int] = [:]
        var leaders: [Int32: Int] = [:]
        for list in assignment.values {
            for id in list { replicas[id, default: 0] += 1 }
            leaders[list[0], default: 0] += 1
        }
        return (replicas, leaders)
    }

    @Test func aNewBrokerTakesItsShareOfReplicasAndLeaders() {
        // Six partitions with two replicas each on brokers 1-3; broker 4 just joined.
        let current: [TopicPartition: [Int32]] = [
            Self.key(0): [1, 2], Self.key(1): [2, 3], Self.key(2): [3, 1],
            Self.key(3): [1, 2], Self.key(4): [2, 3], Self.key(5): [3, 1],
        ]
        let plan = RebalancePlan.compute(brokers: [1, 2, 3, 4].map { .init(id: $0) }, partitions: current)
        var after = current
        for (key, replicas) in plan.moves { after[key] = replicas }
        let (replicas, leaders) = Self.counts(after)
        #expect(replicas.values.max()! - replicas.values.min()! <= 1 && replicas[4]! == 3)
        #expect(leaders.values.max()! - (leaders[4] ?? 0) <= 1 && leaders[4]! >= 1)
        for list in after.values { #expect(Set(list).count == list.count, "a replica twice in \(list)") }
        #expect(plan.moves.count <= 5, "few moves: \(plan.moves)")
        #expect(RebalancePlan.compute(brokers: [1, 2, 3, 4].map { .init(id: $0) }, partitions: after).moves.isEmpty,
                "a balanced cluster needs nothing")
    }

    @Test func replicasLeaveABrokerThatIsGoneAndRacksStayApart() {
        let current: [TopicPartition: [Int32]] = [Self.key(0): [1, 9], Self.key(1): [9, 2]]
        let brokers: [RebalancePlan.Broker] = [.init(id: 1, rack: "a"), .init(id: 2, rack: "b"), .init(id: 3, rack: "a")]
        let plan = RebalancePlan.compute(brokers: brokers, partitions: current)
        var after = current
        for (key, replicas) in plan.moves { after[key] = replicas }
        #expect(!after.values.contains { $0.contains(9) })
        // Partition 0 keeps 1 (rack a), so its other replica goes to rack b (broker 2), not 3.
        #expect(Set(after[Self.key(0)]!) == [1, 2])
    }
}
