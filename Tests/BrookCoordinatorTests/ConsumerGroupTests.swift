@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import Testing

private let catalog = TopicCatalog(topics: [
    "orders": .init(id: Uuid(mostSignificantBits: 1, leastSignificantBits: 1), partitionCount: 4),
    "audit": .init(id: Uuid(mostSignificantBits: 2, leastSignificantBits: 2), partitionCount: 2),
    "orders-eu": .init(id: Uuid(mostSignificantBits: 3, leastSignificantBits: 3), partitionCount: 2),
])

private func beat(
    _ memberId: String, epoch: Int32, topics: [String]? = nil, regex: String? = nil, owned: Set<TopicPartition>? = nil,
    instance: String? = nil, assignor: String? = nil
) -> ConsumerHeartbeat {
    ConsumerHeartbeat(
        memberId: memberId, memberEpoch: epoch, instanceId: instance, rackId: nil, rebalanceTimeoutMs: epoch == 0 ? 30_000 : -1,
        subscribedTopicNames: topics, subscribedTopicRegex: regex, serverAssignor: assignor, ownedPartitions: owned,
        clientId: "c", clientHost: "/127.0.0.1"
    )
}

private func orders(_ partitions: Int32...) -> Set<TopicPartition> {
    Set(partitions.map { TopicPartition(topic: "orders", partition: $0) })
}

@Suite struct ConsumerGroupTests {
    @Test func aFirstMemberGetsEveryPartitionAtTheNewEpoch() {
        var group = ConsumerGroup(groupId: "g")
        let result = group.heartbeat(beat("a", epoch: 0, topics: ["orders"]), catalog: catalog, configuration: configuration, now: 0, newMemberId: { "x" })
        #expect(result.error == .none)
        #expect(result.memberId == "a")
        #expect(result.memberEpoch == 1)
        #expect(result.assignment == orders(0, 1, 2, 3))
        #expect(group.stateName == "Stable")
        // Unchanged: no assignment in the answer.
        let again = group.heartbeat(beat("a", epoch: 1, owned: orders(0, 1, 2, 3)), catalog: catalog, configuration: configuration, now: 10, newMemberId: { "x" })
        #expect(again.memberEpoch == 1)
        #expect(again.assignment == nil)
    }

    @Test func aSecondMemberWaitsUntilTheFirstRevokes() {
        var group = ConsumerGroup(groupId: "g")
        _ = group.heartbeat(beat("a", epoch: 0, topics: ["orders"]), catalog: catalog, configuration: configuration, now: 0, newMemberId: { "x" })
        let joined = group.heartbeat(beat("b", epoch: 0, topics: ["orders"]), catalog: catalog, configuration: configuration, now: 1, newMemberId: { "x" })
        // b is at epoch 2 but its partitions are still a's.
        #expect(joined.memberEpoch == 2)
        #expect(joined.assignment == [])
        #expect(group.stateName == "Reconciling")
        // a is told to give up two partitions, keeping its epoch until it confirms.
        let revoking = group.heartbeat(beat("a", epoch: 1, owned: orders(0, 1, 2, 3)), catalog: catalog, configuration: configuration, now: 2, newMemberId: { "x" })
        #expect(revoking.memberEpoch == 1)
        let kept = revoking.assignment ?? []
        #expect(kept.count == 2)
        let confirmed = group.heartbeat(beat("a", epoch: 1, owned: kept), catalog: catalog, configuration: configuration, now: 3, newMemberId: { "x" })
        #expect(confirmed.memberEpoch == 2)
        // Now b receives the released partitions.
        let granted = group.heartbeat(beat("b", epoch: 2, owned: []), catalog: catalog, configuration: configuration, now: 4, newMemberId: { "x" })
        #expect(granted.assignment == orders(0, 1, 2, 3).subtracting(kept))
        #expect(group.stateName == "Stable")
    }

    @Test func staleEpochsAreFencedAndUnknownMembersRefused() {
        var group = ConsumerGroup(groupId: "g")
        _ = group.heartbeat(beat("a", epoch: 0, topics: ["orders"]), catalog: catalog, configuration: configuration, now: 0, newMemberId: { "x" })
        #expect(group.heartbeat(beat("a", epoch: 5), catalog: catalog, configuration: configuration, now: 1, newMemberId: { "x" }).error == .fencedMemberEpoch)
        #expect(group.heartbeat(beat("zz", epoch: 1), catalog: catalog, configuration: configuration, now: 1, newMemberId: { "x" }).error == .unknownMemberId)
        #expect(group.heartbeat(beat("b", epoch: 0), catalog: catalog, configuration: configuration, now: 1, newMemberId: { "x" }).error == .invalidRequest)
        #expect(group.heartbeat(beat("b", epoch: 0, topics: ["orders"], assignor: "magic"), catalog: catalog, configuration: configuration,
                                now: 1, newMemberId: { "x" }).error == .unsupportedAssignor)
    }

    @Test func leavingFreesPartitionsAtOnce() {
        var group = ConsumerGroup(groupId: "g")
        _ = group.heartbeat(beat("a", epoch: 0, topics: ["orders"]), catalog: catalog, configuration: configuration, now: 0, newMemberId: { "x" })
        _ = group.heartbeat(beat("b", epoch: 0, topics: ["orders"]), catalog: catalog, configuration: configuration, now: 1, newMemberId: { "x" })
        let left = group.heartbeat(beat("a", epoch: -1), catalog: catalog, configuration: configuration, now: 2, newMemberId: { "x" })
        #expect(left.memberEpoch == -1)
        let all = group.heartbeat(beat("b", epoch: 2, owned: []), catalog: catalog, configuration: configuration, now: 3, newMemberId: { "x" })
        #expect(all.assignment == orders(0, 1, 2, 3))
        #expect(all.memberEpoch == 3)
    }

    @Test func expiredSessionsLeaveTheGroup() {
        var group = ConsumerGroup(groupId: "g")
        _ = group.heartbeat(beat("a", epoch: 0, topics: ["orders"]), catalog: catalog, configuration: configuration, now: 0, newMemberId: { "x" })
        group.expire(now: Int64(configuration.consumerSessionTimeoutMs) - 1)
        #expect(group.members.count == 1)
        group.expire(now: Int64(configuration.consumerSessionTimeoutMs))
        #expect(group.members.isEmpty)
        #expect(group.stateName == "Empty")
    }

    @Test(arguments: ["orders(", "[z-a]", "(?=orders)", "a**"])
    func anInvalidRegexIsRefusedWithInvalidRegularExpression(pattern: String) {
        var group = ConsumerGroup(groupId: "g")
        let joining = group.heartbeat(beat("a", epoch: 0, regex: pattern), catalog: catalog, configuration: configuration, now: 0, newMemberId: { "x" })
        #expect(joining.error == .invalidRegularExpression)
        #expect(joining.errorMessage?.contains(pattern) == true)
        #expect(group.members.isEmpty)
        _ = group.heartbeat(beat("a", epoch: 0, topics: ["orders"]), catalog: catalog, configuration: configuration, now: 0, newMemberId: { "x" })
        let changing = group.heartbeat(beat("a", epoch: 1, regex: pattern), catalog: catalog, configuration: configuration, now: 1, newMemberId: { "x" })
        #expect(changing.error == .invalidRegularExpression)
        #expect(group.members["a"]?.subscribedTopicRegex == nil)
    }

    @Test func regexSubscriptionsFollowTheCatalog() {
        var group = ConsumerGroup(groupId: "g")
        let result = group.heartbeat(beat("a", epoch: 0, regex: "orders.*"), catalog: catalog, configuration: configuration, now: 0, newMemberId: { "x" })
        #expect(Set(result.assignment?.map(\.topic) ?? []) == ["orders", "orders-eu"])
        #expect(result.assignment?.count == 6)
        // A topic growing bumps the epoch and hands out the new partitions.
        var grown = catalog.topics
        grown["orders-eu"]?.partitionCount = 3
        let next = group.heartbeat(beat("a", epoch: 1, owned: result.assignment), catalog: TopicCatalog(topics: grown),
                                   configuration: configuration, now: 1, newMemberId: { "x" })
        #expect(next.memberEpoch == 2)
        #expect(next.assignment?.count == 7)
    }

    @Test func theRangeAssignorLinesUpCoPartitionedTopics() {
        let target = ConsumerAssignor.range.assign(
            subscriptions: ["m1": ["orders", "audit"], "m2": ["orders", "audit"]],
            partitionCounts: ["orders": 4, "audit": 2], current: [:]
        )
        #expect(target["m1"] == orders(0, 1).union([TopicPartition(topic: "audit", partition: 0)]))
        #expect(target["m2"] == orders(2, 3).union([TopicPartition(topic: "audit", partition: 1)]))
    }

    @Test func theUniformAssignorBalancesAndKeepsPartitionsInPlace() {
        let first = ConsumerAssignor.uniform.assign(
            subscriptions: ["m1": ["orders"], "m2": ["orders"]], partitionCounts: ["orders": 4], current: ["m1": orders(0, 1, 2, 3)]
        )
        #expect(first["m1"]?.count == 2)
        #expect(first["m2"]?.count == 2)
        #expect(first["m1"]!.isSubset(of: orders(0, 1, 2, 3)))
        let sticky = ConsumerAssignor.uniform.assign(
            subscriptions: ["m1": ["orders"], "m2": ["orders"]], partitionCounts: ["orders": 4], current: ["m1": orders(1, 3), "m2": orders(0, 2)]
        )
        #expect(sticky == ["m1": orders(1, 3), "m2": orders(0, 2)])
    }

    @Test func aGroupIdIsEitherClassicOrConsumer() async {
        var fast = configuration
        fast.initialRebalanceDelayMs = 0
        let shard = makeShard(log: MemoryCoordinatorLog(), clock: ManualClock(), configuration: fast)
        let classic = await shard.join(groupId: "g", joinParameters())
        #expect(classic.error == .none)
        #expect(await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: 0, topics: ["orders"]), catalog: catalog).error == .groupIdNotFound)
        _ = await shard.leave(groupId: "g", members: [(classic.memberId, nil)])
        // Empty now: the id may become a consumer group, after which classic joins are refused.
        #expect(await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: 0, topics: ["orders"]), catalog: catalog).error == .none)
        #expect(await shard.join(groupId: "g", joinParameters()).error == .inconsistentGroupProtocol)
        #expect(await shard.list().map(\.groupType) == ["consumer"])
        #expect(await shard.commitOffsets(groupId: "g", memberId: "a", groupInstanceId: nil, generationId: 0,
                                    offsets: [(TopicPartition(topic: "orders", partition: 0), CommittedOffset(offset: 1, commitTimestamp: 0))])
                == [TopicPartition(topic: "orders", partition: 0): .staleMemberEpoch])
    }
}

@Suite struct ConsumerGroupPersistenceTests {
    @Test func aConsumerGroupIsRebuiltFromItsRecords() async throws {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        let shard = makeShard(log: log, clock: clock)
        let a = await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: 0, topics: ["orders"], instance: "i-a"), catalog: catalog)
        let b = await shard.consumerHeartbeat(groupId: "g", beat("b", epoch: 0, topics: ["orders", "audit"]), catalog: catalog)
        let revoking = await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: a.memberEpoch, owned: a.assignment), catalog: catalog)
        #expect(b.error == .none && revoking.error == .none)

        let reloaded = makeShard(log: log, clock: clock)
        try reloaded.load(catalog: catalog)
        let before = try #require(await shard.describeConsumerGroup("g"))
        let after = try #require(await reloaded.describeConsumerGroup("g"))
        #expect(after.groupEpoch == before.groupEpoch)
        #expect(after.assignmentEpoch == before.assignmentEpoch)
        #expect(after.state == before.state)
        #expect(after.members.map(\.member.memberId) == before.members.map(\.member.memberId))
        #expect(after.members.map(\.member.assigned) == before.members.map(\.member.assigned))
        #expect(after.members.map(\.member.pendingRevocation) == before.members.map(\.member.pendingRevocation))
        #expect(after.members.map(\.target) == before.members.map(\.target))
        #expect(after.members.map(\.member.subscribedTopicNames) == before.members.map(\.member.subscribedTopicNames))
        #expect(after.members.first?.member.instanceId == "i-a")
        // The reloaded member carries on in its epoch.
        let next = await reloaded.consumerHeartbeat(groupId: "g", beat("a", epoch: revoking.memberEpoch, owned: revoking.assignment), catalog: catalog)
        #expect(next.error == .none)
    }

    @Test func leftMembersAndDeletedGroupsStayGone() async throws {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        let shard = makeShard(log: log, clock: clock)
        _ = await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: 0, topics: ["orders"]), catalog: catalog)
        _ = await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: -1), catalog: catalog)
        let reloaded = makeShard(log: log, clock: clock)
        try reloaded.load(catalog: catalog)
        #expect(await reloaded.describeConsumerGroup("g")?.members.isEmpty == true)
        #expect(await reloaded.deleteGroup("g") == .none)
        let again = makeShard(log: log, clock: clock)
        try again.load(catalog: catalog)
        #expect(await again.describeConsumerGroup("g") == nil)
        #expect(await again.list().isEmpty)
    }
}
