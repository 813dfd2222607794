@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import Logging
import NIOCore
import Synchronization
import Testing

// Group coordinator state the log refused is never reported as stored: the client gets the log's
// error as Kafka maps it (NOT_COORDINATOR for a storage error or a lost leadership,
// COORDINATOR_NOT_AVAILABLE for missing replicas, UNKNOWN_SERVER_ERROR for an oversized batch),
// the in-memory state stays where the log is, and the same request succeeds once the log
// accepts writes again.

private let storageError = CoordinatorLogError(code: .kafkaStorageError)
private let notLeader = CoordinatorLogError(code: .notLeaderOrFollower)
private let tooLarge = CoordinatorLogError(code: .messageTooLarge)

private let catalog = TopicCatalog(topics: [
    "orders": .init(id: Uuid(mostSignificantBits: 1, leastSignificantBits: 1), partitionCount: 4),
])

private func beat(_ memberId: String, epoch: Int32, topics: [String]? = nil, owned: Set<TopicPartition>? = nil) -> ConsumerHeartbeat {
    ConsumerHeartbeat(
        memberId: memberId, memberEpoch: epoch, instanceId: nil, rackId: nil, rebalanceTimeoutMs: epoch == 0 ? 30_000 : -1,
        subscribedTopicNames: topics, subscribedTopicRegex: nil, serverAssignor: nil, ownedPartitions: owned,
        clientId: "c", clientHost: "/127.0.0.1"
    )
}

private var noDelay: GroupConfiguration {
    var fast = configuration
    fast.initialRebalanceDelayMs = 0
    return fast
}

@Suite struct GroupWriteFailureTests {
    let log = MemoryCoordinatorLog()
    let clock = ManualClock()
    let tp0 = TopicPartition(topic: "t", partition: 0)
    let tp1 = TopicPartition(topic: "t", partition: 1)

    var storedBatches: Int { log.batches.withLock { $0.count } }

    @Test func aSyncGroupWhoseAssignmentCannotBeStoredFailsAndTheGroupRebalances() async throws {
        let shard = makeShard(log: log, clock: clock, configuration: noDelay)
        let joined = await shard.join(groupId: "g", joinParameters())
        #expect(joined.generationId == 1)
        let before = storedBatches
        log.refuse(with: storageError)
        let failed = await shard.sync(groupId: "g", memberId: joined.memberId, groupInstanceId: nil, generationId: 1,
                                      protocolType: "consumer", protocolName: "range",
                                      assignments: [joined.memberId: ByteBuffer(string: "mine")])
        #expect(failed.error == .notCoordinator)
        #expect(failed.assignment.readableBytes == 0)
        #expect(storedBatches == before)
        // Not Stable with an assignment nobody stored: the group rebalances.
        #expect(await shard.describe(groupId: "g").state == "PreparingRebalance")
        #expect(await shard.heartbeat(groupId: "g", memberId: joined.memberId, groupInstanceId: nil, generationId: 1) == .rebalanceInProgress)

        // The log is back: the member rejoins, and its next generation's assignment is stored.
        let rejoined = await shard.join(groupId: "g", joinParameters(joined.memberId))
        #expect(rejoined.error == .none)
        #expect(rejoined.generationId == 2)
        let synced = await shard.sync(groupId: "g", memberId: joined.memberId, groupInstanceId: nil, generationId: 2,
                                      protocolType: "consumer", protocolName: "range",
                                      assignments: [joined.memberId: ByteBuffer(string: "mine")])
        #expect(synced.error == .none)
        #expect(synced.assignment == ByteBuffer(string: "mine"))
        let reloaded = makeShard(log: log, clock: clock, configuration: noDelay)
        try reloaded.load(catalog: TopicCatalog(topics: [:]))
        #expect(await reloaded.describe(groupId: "g").state == "Stable")
        #expect(await reloaded.describe(groupId: "g").members.first?.assignment == ByteBuffer(string: "mine"))
    }

    @Test func aStaticMemberKeepsItsOldIdWhenItsReplacementCannotBeStored() async throws {
        let shard = makeShard(log: log, clock: clock, configuration: noDelay)
        let first = await shard.join(groupId: "g", joinParameters(instance: "i-1"))
        let synced = await shard.sync(groupId: "g", memberId: first.memberId, groupInstanceId: "i-1", generationId: first.generationId,
                                      protocolType: nil, protocolName: nil, assignments: [first.memberId: ByteBuffer(string: "p0")])
        #expect(synced.error == .none)

        log.refuse(with: notLeader)
        let restarted = await shard.join(groupId: "g", joinParameters(instance: "i-1"))
        #expect(restarted.error == .notCoordinator)
        // The old incarnation is still the member, with its assignment.
        #expect(await shard.heartbeat(groupId: "g", memberId: first.memberId, groupInstanceId: "i-1", generationId: first.generationId) == .none)
        #expect(await shard.describe(groupId: "g").members.map(\.memberId) == [first.memberId])

        let again = await shard.join(groupId: "g", joinParameters(instance: "i-1"))
        #expect(again.error == .none)
        #expect(again.memberId != first.memberId)
        #expect(await shard.heartbeat(groupId: "g", memberId: first.memberId, groupInstanceId: "i-1", generationId: first.generationId) == .fencedInstanceId)
        let reloaded = makeShard(log: log, clock: clock, configuration: noDelay)
        try reloaded.load(catalog: TopicCatalog(topics: [:]))
        #expect(await reloaded.describe(groupId: "g").members.map(\.memberId) == [again.memberId])
    }

    @Test func aLeaveThatEmptiesTheGroupFailsWhenTheGroupCannotBeStored() async {
        let shard = makeShard(log: log, clock: clock, configuration: noDelay)
        let joined = await shard.join(groupId: "g", joinParameters())
        _ = await shard.sync(groupId: "g", memberId: joined.memberId, groupInstanceId: nil, generationId: joined.generationId,
                             protocolType: nil, protocolName: nil, assignments: [:])
        log.refuse(with: storageError)
        let (error, members) = await shard.leave(groupId: "g", members: [(joined.memberId, nil)])
        // As in Kafka, the LeaveGroup fails with the write; the member is gone all the same.
        #expect(error == .notCoordinator)
        #expect(members.isEmpty)
        #expect(await shard.describe(groupId: "g").state == "Empty")
    }

    @Test func aConsumerHeartbeatThatCannotBeStoredChangesNothing() async throws {
        let shard = makeShard(log: log, clock: clock)
        let a = await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: 0, topics: ["orders"]), catalog: catalog)
        #expect(a.error == .none)
        let epoch = try #require(await shard.describeConsumerGroup("g")).groupEpoch

        log.refuse(with: storageError)
        #expect(await shard.consumerHeartbeat(groupId: "g", beat("b", epoch: 0, topics: ["orders"]), catalog: catalog).error == .notCoordinator)
        log.refuse(with: tooLarge)
        #expect(await shard.consumerHeartbeat(groupId: "g", beat("b", epoch: 0, topics: ["orders"]), catalog: catalog).error == .unknownServerError)
        let unchanged = try #require(await shard.describeConsumerGroup("g"))
        #expect(unchanged.groupEpoch == epoch)
        #expect(unchanged.members.map(\.member.memberId) == ["a"])

        let b = await shard.consumerHeartbeat(groupId: "g", beat("b", epoch: 0, topics: ["orders"]), catalog: catalog)
        #expect(b.error == .none)
        #expect(try #require(await shard.describeConsumerGroup("g")).members.count == 2)
    }

    @Test func aConsumerGroupThatCannotBeRemovedStaysWhenAClassicMemberJoins() async throws {
        let shard = makeShard(log: log, clock: clock, configuration: noDelay)
        let a = await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: 0, topics: ["orders"]), catalog: catalog)
        _ = await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: -1), catalog: catalog)
        #expect(a.error == .none)
        log.refuse(with: storageError)
        #expect(await shard.join(groupId: "g", joinParameters()).error == .notCoordinator)
        #expect(await shard.list().map(\.groupType) == ["consumer"])
        #expect(await shard.join(groupId: "g", joinParameters()).error == .none)
        #expect(await shard.list().map(\.groupType) == ["classic"])
    }

    @Test func anOffsetCommitThatCannotBeStoredIsNotKeptNorCreatesItsGroup() async {
        let shard = makeShard(log: log, clock: clock)
        let commit = { await shard.commitOffsets(groupId: "g", memberId: "", groupInstanceId: nil, generationId: -1,
                                           offsets: [(self.tp0, CommittedOffset(offset: 7, commitTimestamp: 1))]) }
        log.refuse(with: storageError)
        #expect(await commit() == [tp0: .notCoordinator])
        log.refuse(with: CoordinatorLogError(code: .notEnoughReplicas))
        #expect(await commit() == [tp0: .coordinatorNotAvailable])
        log.refuse(with: CoordinatorLogError(code: .recordListTooLarge))
        #expect(await commit() == [tp0: .unknownServerError])
        #expect(await shard.fetchOffsets(groupId: "g", partitions: nil).1.isEmpty)
        #expect(await shard.list().isEmpty)
        #expect(await shard.describe(groupId: "g").state == "Dead")

        #expect(await commit() == [tp0: .none])
        #expect(await shard.fetchOffsets(groupId: "g", partitions: nil).1[tp0]?.offset == 7)
        #expect(await shard.list().map(\.groupId) == ["g"])
    }

    @Test func aTransactionalOffsetCommitThatCannotBeStoredLeavesNothingBehind() async {
        let shard = makeShard(log: log, clock: clock)
        let commit = {
            await shard.commitTransactionalOffsets(
                groupId: "g", transactionalId: "tx", producerId: 5, producerEpoch: 0, memberId: "", groupInstanceId: nil,
                generationId: -1, offsets: [(self.tp0, CommittedOffset(offset: 3, commitTimestamp: 1))])
        }
        log.refuse(with: storageError)
        #expect(await commit() == [tp0: .notCoordinator])
        #expect(await shard.list().isEmpty)
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0], requireStable: true).unstable.isEmpty)

        #expect(await commit() == [tp0: .none])
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0], requireStable: true).unstable == [tp0])
    }

    @Test func aGroupOrOffsetsWhoseDeletionCannotBeStoredStay() async {
        let shard = makeShard(log: log, clock: clock)
        _ = await shard.commitOffsets(groupId: "g", memberId: "", groupInstanceId: nil, generationId: -1, offsets: [
            (tp0, CommittedOffset(offset: 1, commitTimestamp: 1)), (tp1, CommittedOffset(offset: 2, commitTimestamp: 1)),
        ])
        log.refuse(with: storageError)
        #expect(await shard.deleteOffsets(groupId: "g", partitions: [tp0]).0 == .notCoordinator)
        #expect(await shard.fetchOffsets(groupId: "g", partitions: nil).1.count == 2)
        log.refuse(with: notLeader)
        #expect(await shard.deleteGroup("g") == .notCoordinator)
        #expect(await shard.describe(groupId: "g").state == "Empty")
        #expect(await shard.fetchOffsets(groupId: "g", partitions: nil).1.count == 2)

        #expect(await shard.deleteOffsets(groupId: "g", partitions: [tp0]).1 == [tp0: .none])
        #expect(await shard.deleteGroup("g") == .none)
        #expect(await shard.describe(groupId: "g").state == "Dead")
        #expect(await shard.fetchOffsets(groupId: "g", partitions: nil).1.isEmpty)
    }

    @Test func consumerMembersWhoseExpiryCannotBeStoredStayUntilItIs() async throws {
        let shard = makeShard(log: log, clock: clock)
        _ = await shard.consumerHeartbeat(groupId: "g", beat("a", epoch: 0, topics: ["orders"]), catalog: catalog)
        clock.advance(by: Int64(configuration.consumerSessionTimeoutMs))
        log.refuse(with: storageError)
        await shard.expireSessions()
        #expect(try #require(await shard.describeConsumerGroup("g")).members.count == 1)
        await shard.expireSessions()
        #expect(try #require(await shard.describeConsumerGroup("g")).members.isEmpty)
        let reloaded = makeShard(log: log, clock: clock)
        try reloaded.load(catalog: catalog)
        #expect(try #require(await reloaded.describeConsumerGroup("g")).members.isEmpty)
    }

    @Test func offsetsWhoseTombstonesCannotBeStoredStayAndExpireAtTheNextPass() async throws {
        var short = configuration
        short.offsetsRetentionMs = 60_000
        let shard = makeShard(log: log, clock: clock, configuration: short)
        let now = clock.now.load(ordering: .relaxed)
        for group in ["a", "b"] {
            _ = await shard.commitOffsets(groupId: group, memberId: "", groupInstanceId: nil, generationId: -1, offsets: [
                (tp0, CommittedOffset(offset: 1, commitTimestamp: now)), (tp1, CommittedOffset(offset: 2, commitTimestamp: now)),
            ])
        }
        clock.advance(by: 60_000)
        // One group's tombstones are refused: that group keeps its offsets, the other expires.
        log.refuse(with: storageError)
        let failedPass = await shard.expireOffsets()
        var kept: [String] = []
        for group in ["a", "b"] where !(await shard.fetchOffsets(groupId: group, partitions: nil).1.isEmpty) { kept.append(group) }
        #expect(kept.count == 1)
        #expect(await shard.list().map(\.groupId) == kept)
        for group in kept { #expect(await shard.fetchOffsets(groupId: group, partitions: nil).1.count == 2) }
        #expect(failedPass.failedOffsets == 2)
        #expect(failedPass.failedGroups == 1)
        #expect(failedPass.expiredOffsets == 2)
        #expect(failedPass.removedGroups == 1)

        let retried = await shard.expireOffsets()
        #expect(retried.expiredOffsets == 2 && retried.failedOffsets == 0)
        #expect(await shard.list().isEmpty)
        let reloaded = makeShard(log: log, clock: clock, configuration: short)
        try reloaded.load(catalog: TopicCatalog(topics: [:]))
        #expect(await reloaded.list().isEmpty)
        #expect(await reloaded.fetchOffsets(groupId: "a", partitions: nil).1.isEmpty)
        #expect(await reloaded.fetchOffsets(groupId: "b", partitions: nil).1.isEmpty)
    }
}
