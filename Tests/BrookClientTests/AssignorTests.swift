import BrookClient
import BrookModel
import NIOCore
import Testing

/// The classic protocol's client-side assignors, as pure functions of the members'
/// subscriptions and the partition counts (the examples of the Java client's documentation).
@Suite struct AssignorTests {
    static func partitions(_ topic: String, _ indexes: Int32...) -> [TopicPartition] {
        indexes.map { TopicPartition(topic: topic, partition: $0) }
    }

    static func member(_ id: String, _ topics: Set<String>, owned: [TopicPartition] = [], generation: Int32 = -1, instance: String? = nil) -> AssignorMember {
        AssignorMember(memberId: id, instanceId: instance, topics: topics, ownedPartitions: owned, generation: generation)
    }

    @Test func rangeGivesConsecutiveRangesTopicByTopic() {
        let assignment = RangeAssignor().assign(
            members: [Self.member("c1", ["t0", "t1"]), Self.member("c0", ["t0", "t1"])],
            partitionCounts: ["t0": 3, "t1": 3])
        #expect(assignment["c0"] == Self.partitions("t0", 0, 1) + Self.partitions("t1", 0, 1))
        #expect(assignment["c1"] == Self.partitions("t0", 2) + Self.partitions("t1", 2))
    }

    @Test func rangeOrdersStaticMembersFirstAndSkipsUnsubscribedTopics() {
        let assignment = RangeAssignor().assign(
            members: [Self.member("a", ["t"]), Self.member("z", ["t"], instance: "i-1"), Self.member("b", ["u"])],
            partitionCounts: ["t": 5, "u": 1, "unused": 4])
        #expect(assignment["z"] == Self.partitions("t", 0, 1, 2))
        #expect(assignment["a"] == Self.partitions("t", 3, 4))
        #expect(assignment["b"] == Self.partitions("u", 0))
    }

    @Test func roundRobinDealsPartitionsInTurn() {
        let assignment = RoundRobinAssignor().assign(
            members: [Self.member("c0", ["t0", "t1"]), Self.member("c1", ["t0", "t1"])],
            partitionCounts: ["t0": 3, "t1": 3])
        #expect(assignment["c0"] == Self.partitions("t0", 0, 2) + Self.partitions("t1", 1))
        #expect(assignment["c1"] == Self.partitions("t0", 1) + Self.partitions("t1", 0, 2))
    }

    @Test func roundRobinSkipsMembersNotSubscribedToATopic() {
        let assignment = RoundRobinAssignor().assign(
            members: [Self.member("c0", ["t0"]), Self.member("c1", ["t0", "t1"]), Self.member("c2", ["t0", "t1", "t2"])],
            partitionCounts: ["t0": 1, "t1": 2, "t2": 3])
        #expect(assignment["c0"] == Self.partitions("t0", 0))
        #expect(assignment["c1"] == Self.partitions("t1", 0))
        #expect(assignment["c2"] == Self.partitions("t1", 1) + Self.partitions("t2", 0, 1, 2))
    }

    @Test func cooperativeStickyBalancesANewGroup() {
        let assignment = CooperativeStickyAssignor().assign(
            members: ["a", "b", "c"].map { Self.member($0, ["t"]) }, partitionCounts: ["t": 7])
        #expect(assignment.values.map(\.count).sorted() == [2, 2, 3])
        #expect(Set(assignment.values.joined()) == Set(Self.partitions("t", 0, 1, 2, 3, 4, 5, 6)))
    }

    /// A new member's partitions are first revoked from their owner, and assigned to it in the
    /// follow-up rebalance; the owner keeps the others.
    @Test func cooperativeStickyMovesPartitionsInTwoRebalances() {
        let assignor = CooperativeStickyAssignor()
        let all = Self.partitions("t", 0, 1, 2, 3, 4, 5)
        let first = assignor.assign(
            members: [Self.member("a", ["t"], owned: all, generation: 1), Self.member("b", ["t"])], partitionCounts: ["t": 6])
        #expect(first["a"]!.count == 3)
        #expect(first["b"] == [], "the partitions a still owns are held back")

        let second = assignor.assign(
            members: [Self.member("a", ["t"], owned: first["a"]!, generation: 2), Self.member("b", ["t"], generation: 2)],
            partitionCounts: ["t": 6])
        #expect(second["a"] == first["a"], "sticky: a keeps what it kept")
        #expect(Set(second["b"]!) == Set(all).subtracting(first["a"]!))
    }

    @Test func cooperativeStickyHandsALeaversPartitionsOutAtOnce() {
        let assignment = CooperativeStickyAssignor().assign(
            members: [Self.member("a", ["t"], owned: Self.partitions("t", 0, 1), generation: 3),
                      Self.member("b", ["t"], owned: Self.partitions("t", 2, 3), generation: 3)],
            partitionCounts: ["t": 6])
        #expect(Set(assignment["a"]!).isSuperset(of: Self.partitions("t", 0, 1)))
        #expect(Set(assignment["b"]!).isSuperset(of: Self.partitions("t", 2, 3)))
        #expect(assignment["a"]!.count == 3 && assignment["b"]!.count == 3)
    }

    @Test func cooperativeStickyTrustsTheNewestGenerationAndNoDoubleClaims() {
        let assignment = CooperativeStickyAssignor().assign(
            members: [Self.member("old", ["t"], owned: Self.partitions("t", 0, 1), generation: 4),
                      Self.member("new", ["t"], owned: Self.partitions("t", 1, 2), generation: 5),
                      Self.member("twin", ["t"], owned: Self.partitions("t", 3), generation: 5),
                      Self.member("twin2", ["t"], owned: Self.partitions("t", 3), generation: 5)],
            partitionCounts: ["t": 4])
        #expect(assignment["new"]!.contains(TopicPartition(topic: "t", partition: 1)), "the newer claim wins")
        #expect(!assignment["old"]!.contains(TopicPartition(topic: "t", partition: 1)))
        #expect(!assignment.values.joined().contains(TopicPartition(topic: "t", partition: 3)), "claimed twice in one generation: held back")
        let assigned = Array(assignment.values.joined())
        #expect(assigned.count == Set(assigned).count)
    }

    @Test func cooperativeStickyBalancesUnequalSubscriptionsAndDropsUnsubscribedClaims() {
        let assignment = CooperativeStickyAssignor().assign(
            members: [Self.member("a", ["t"], owned: Self.partitions("t", 0, 1, 2, 3) + Self.partitions("u", 0), generation: 1),
                      Self.member("b", ["t", "u"], generation: 1)],
            partitionCounts: ["t": 4, "u": 2])
        #expect(!assignment["a"]!.contains { $0.topic == "u" })
        #expect(Set(assignment["b"]!).isSuperset(of: Self.partitions("u", 1)))
        // a gives up one partition of t to balance 3/3; it is held back in this round.
        #expect(assignment["a"]!.count == 3)
    }

    @Test func strategiesKnowTheirNamesAndProtocols() {
        #expect(AssignmentStrategy.allCases.map { $0.assignor.name } == ["range", "roundrobin", "cooperative-sticky"])
        #expect(CooperativeStickyAssignor().supportedProtocols.contains(.cooperative))
        #expect(!RangeAssignor().supportedProtocols.contains(.cooperative))
        #expect(CooperativeStickyAssignor().userData(generation: 7)?.getInteger(at: 0, as: Int32.self) == 7)
    }
}
