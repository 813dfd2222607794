@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import Testing

/// Static members (`group.instance.id`) of KIP-848 groups, as Kafka 4's coordinator treats them.
@Suite struct ConsumerGroupStaticMemberTests {
    private let orders = topicPartitions("orders", 0, 1, 2, 3)

    @Test func aSecondMemberWithALiveMembersInstanceIdIsRefusedAndTheFirstKeepsItsPartitions() {
        var test = ConsumerGroupUnderTest()
        let first = test.beat("a", epoch: 0, topics: ["orders"], instance: "worker-1")
        #expect(first.assignment == orders)
        let groupEpoch = test.group.groupEpoch
        let before = test.member("a")

        let second = test.beat("b", epoch: 0, topics: ["orders"], instance: "worker-1")
        #expect(second.error == .unreleasedInstanceId)
        #expect(second.errorMessage?.contains("worker-1") == true)
        #expect(test.group.members.keys.sorted() == ["a"])
        #expect(test.member("a") == before)
        #expect(test.group.groupEpoch == groupEpoch)
        // The member in place carries on undisturbed.
        let next = test.beat("a", epoch: first.memberEpoch, owned: orders)
        #expect(next.error == .none && next.memberEpoch == first.memberEpoch)
        #expect(test.member("a").assigned == orders)
        // The refused one cannot make it leave either.
        #expect(test.beat("b", epoch: ConsumerMember.temporaryLeaveEpoch, instance: "worker-1").error == .fencedInstanceId)
        #expect(test.beat("b", epoch: ConsumerMember.leaveEpoch, instance: "worker-1").error == .fencedInstanceId)
        #expect(test.member("a") == test.group.members["a"] && test.member("a").epoch == first.memberEpoch)
    }

    @Test func aStaticMemberThatLeavesForNowIsTakenOverByItsRestartWithoutARebalance() {
        var test = ConsumerGroupUnderTest()
        let a = test.beat("a", epoch: 0, topics: ["orders"], instance: "worker-1")
        let b = test.beat("b", epoch: 0, topics: ["orders"], instance: "worker-2")
        _ = test.beat("a", epoch: a.memberEpoch, owned: orders)
        let kept = test.member("a").assigned
        _ = test.beat("a", epoch: test.member("a").epoch, owned: kept)
        _ = test.beat("b", epoch: b.memberEpoch, owned: [])
        #expect(test.group.stateName == "Stable")
        let groupEpoch = test.group.groupEpoch

        // worker-1 closes: it leaves for now and keeps its partitions, which nobody else gets.
        let left = test.beat("a", epoch: ConsumerMember.temporaryLeaveEpoch, instance: "worker-1")
        #expect(left.error == .none && left.memberEpoch == ConsumerMember.temporaryLeaveEpoch)
        #expect(test.member("a").epoch == ConsumerMember.temporaryLeaveEpoch)
        #expect(test.group.groupEpoch == groupEpoch)
        #expect(test.beat("b", epoch: test.member("b").epoch).assignment == nil)
        #expect(test.member("b").assigned == orders.subtracting(kept))

        // Its restart (a new member id) takes over the same partitions in the same group epoch.
        let restarted = test.beat("a2", epoch: 0, topics: ["orders"], instance: "worker-1")
        #expect(restarted.error == .none)
        #expect(restarted.assignment == kept)
        #expect(restarted.memberEpoch == groupEpoch)
        #expect(test.group.groupEpoch == groupEpoch)
        #expect(test.group.members.keys.sorted() == ["a2", "b"])
        #expect(test.group.target["a2"] == kept && test.group.target["a"] == nil)
        #expect(test.group.stateName == "Stable")
    }

    @Test func aStaticMemberThatLeftForNowExpiresWithItsSession() {
        var test = ConsumerGroupUnderTest()
        _ = test.beat("a", epoch: 0, topics: ["orders"], instance: "worker-1")
        let b = test.beat("b", epoch: 0, topics: ["orders"])
        _ = test.beat("a", epoch: ConsumerMember.temporaryLeaveEpoch, instance: "worker-1")
        test.now += Int64(configuration.consumerSessionTimeoutMs)
        _ = test.beat("b", epoch: b.memberEpoch, owned: [])
        test.group.expire(now: test.now)
        #expect(test.group.members.keys.sorted() == ["b"])
        // b gets everything; the instance id is free again.
        let all = test.beat("b", epoch: test.member("b").epoch, owned: [])
        #expect(all.assignment == orders)
        #expect(test.beat("c", epoch: 0, topics: ["orders"], instance: "worker-1").error == .none)
    }

    @Test func aStaticMemberThatLeftForNowIsReloadedAsSuch() async throws {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        let shard = makeShard(log: log, clock: clock)
        let catalog = ConsumerGroupUnderTest.catalog
        func beat(_ memberId: String, _ epoch: Int32, topics: [String]? = nil, owned: Set<TopicPartition>? = nil) async -> ConsumerHeartbeatResult {
            await shard.consumerHeartbeat(groupId: "g", ConsumerHeartbeat(
                memberId: memberId, memberEpoch: epoch, instanceId: "worker-1", rackId: nil, rebalanceTimeoutMs: epoch == 0 ? 30_000 : -1,
                subscribedTopicNames: topics, subscribedTopicRegex: nil, serverAssignor: nil, ownedPartitions: owned,
                clientId: "c", clientHost: "/127.0.0.1"), catalog: catalog)
        }
        let joined = await beat("a", 0, topics: ["orders"], owned: [])
        #expect(await beat("a", ConsumerMember.temporaryLeaveEpoch).error == .none)

        let reloaded = makeShard(log: log, clock: clock)
        try reloaded.load(catalog: catalog)
        let member = try #require(await reloaded.describeConsumerGroup("g")?.members.first?.member)
        #expect(member.epoch == ConsumerMember.temporaryLeaveEpoch)
        #expect(member.assigned == orders)
        let restarted = await reloaded.consumerHeartbeat(groupId: "g", ConsumerHeartbeat(
            memberId: "a2", memberEpoch: 0, instanceId: "worker-1", rackId: nil, rebalanceTimeoutMs: 30_000,
            subscribedTopicNames: ["orders"], subscribedTopicRegex: nil, serverAssignor: nil, ownedPartitions: [],
            clientId: "c", clientHost: "/127.0.0.1"), catalog: catalog)
        #expect(restarted.error == .none && restarted.assignment == orders && restarted.memberEpoch == joined.memberEpoch)

        // The restart's takeover is stored too: reloaded, a2 has the target and carries on.
        let again = makeShard(log: log, clock: clock)
        try again.load(catalog: catalog)
        let taken = try #require(await again.describeConsumerGroup("g")?.members.first)
        #expect(taken.member.memberId == "a2" && taken.member.assigned == orders && taken.target == orders)
        let next = await again.consumerHeartbeat(groupId: "g", ConsumerHeartbeat(
            memberId: "a2", memberEpoch: restarted.memberEpoch, instanceId: nil, rackId: nil, rebalanceTimeoutMs: -1,
            subscribedTopicNames: nil, subscribedTopicRegex: nil, serverAssignor: nil, ownedPartitions: orders,
            clientId: "c", clientHost: "/127.0.0.1"), catalog: catalog)
        let assigned = await again.describeConsumerGroup("g")?.members.first?.member.assigned
        #expect(next.error == .none && next.memberEpoch == restarted.memberEpoch && assigned == orders)
    }
}
