@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import Synchronization
import Testing

@Suite struct TransactionalOffsetTests {
    let tp0 = TopicPartition(topic: "t", partition: 0)
    let tp1 = TopicPartition(topic: "t", partition: 1)

    private func offset(_ value: Int64, metadata: String = "") -> CommittedOffset {
        CommittedOffset(offset: value, metadata: metadata, commitTimestamp: 7)
    }

    /// TxnOffsetCommit without member information (what most transactional producers send).
    private func commitInTransaction(
        _ shard: GroupShard, producerId: Int64 = 1, epoch: Int16 = 0, group: String = "g",
        memberId: String = "", generationId: Int32 = -1, _ offsets: [(TopicPartition, CommittedOffset)]
    ) async -> [TopicPartition: ErrorCode] {
        await shard.commitTransactionalOffsets(
            groupId: group, transactionalId: "txn-\(producerId)", producerId: producerId, producerEpoch: epoch,
            memberId: memberId, groupInstanceId: nil, generationId: generationId, offsets: offsets)
    }

    private func commit(_ shard: GroupShard, _ offsets: [(TopicPartition, CommittedOffset)]) async {
        _ = await shard.commitOffsets(groupId: "g", memberId: "", groupInstanceId: nil, generationId: -1, offsets: offsets)
    }

    private func visible(_ shard: GroupShard) async -> [TopicPartition: Int64] {
        await shard.fetchOffsets(groupId: "g", partitions: nil).1.mapValues(\.offset)
    }

    @Test func pendingOffsetsAreInvisibleUntilTheCommitMarker() async throws {
        let log = MemoryCoordinatorLog()
        let shard = makeShard(log: log, clock: ManualClock())
        #expect(await commitInTransaction(shard, producerId: 5, epoch: 3, [(tp0, offset(10)), (tp1, offset(11))]) == [tp0: .none, tp1: .none])
        let batch = try #require(try log.stored.last)
        #expect(batch.isTransactional && !batch.isControlBatch)
        #expect(batch.producerId == 5 && batch.producerEpoch == 3 && batch.baseSequence == -1 && batch.recordCount == 2)

        #expect(await visible(shard).isEmpty)
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0], requireStable: true) == FetchedOffsets(unstable: [tp0]))
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0], requireStable: false) == FetchedOffsets())
        #expect(await shard.describe(groupId: "g").state == "Empty")

        await shard.completeTransaction(producerId: 6, commit: true)
        #expect(await visible(shard).isEmpty)
        await shard.completeTransaction(producerId: 5, commit: true)
        #expect(await visible(shard) == [tp0: 10, tp1: 11])
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0, tp1], requireStable: true).unstable.isEmpty)
        await shard.completeTransaction(producerId: 5, commit: false)
        #expect(await visible(shard) == [tp0: 10, tp1: 11])
    }

    @Test func anAbortDropsThePendingOffsetsAndKeepsTheCommittedOnes() async {
        let shard = makeShard(log: MemoryCoordinatorLog(), clock: ManualClock())
        await commit(shard, [(tp0, offset(5))])
        _ = await commitInTransaction(shard, [(tp0, offset(10)), (tp1, offset(11))])
        let stable = await shard.fetchOffsets(groupId: "g", partitions: nil, requireStable: true)
        #expect(stable.unstable == [tp0] && stable.offsets.isEmpty)
        #expect(await visible(shard) == [tp0: 5])
        await shard.completeTransaction(producerId: 1, commit: false)
        #expect(await visible(shard) == [tp0: 5])
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0, tp1], requireStable: true) == FetchedOffsets(offsets: [tp0: offset(5)]))
    }

    @Test func aPlainCommitWrittenAfterTheTransactionalOneWins() async {
        let shard = makeShard(log: MemoryCoordinatorLog(), clock: ManualClock())
        await commit(shard, [(tp1, offset(1))])
        _ = await commitInTransaction(shard, [(tp0, offset(10)), (tp1, offset(11))])
        await commit(shard, [(tp0, offset(20))])
        await shard.completeTransaction(producerId: 1, commit: true)
        #expect(await visible(shard) == [tp0: 20, tp1: 11])
    }

    @Test func transactionsOfDifferentProducersAreSettledApart() async {
        let shard = makeShard(log: MemoryCoordinatorLog(), clock: ManualClock())
        _ = await commitInTransaction(shard, producerId: 1, [(tp0, offset(10))])
        _ = await commitInTransaction(shard, producerId: 2, [(tp1, offset(20))])
        await shard.completeTransaction(producerId: 2, commit: true)
        #expect(await visible(shard) == [tp1: 20])
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0, tp1], requireStable: true).unstable == [tp0])
        await shard.completeTransaction(producerId: 1, commit: false)
        #expect(await visible(shard) == [tp1: 20])
    }

    @Test func reloadingAppliesTheMarkersAndKeepsOpenTransactionsPending() async throws {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        let shard = makeShard(log: log, clock: clock)
        await commit(shard, [(tp0, offset(1)), (tp1, offset(1))])
        _ = await commitInTransaction(shard, producerId: 1, [(tp0, offset(10))])
        _ = await commitInTransaction(shard, producerId: 2, [(tp1, offset(20))])
        _ = await commitInTransaction(shard, producerId: 3, group: "other", [(tp0, offset(30))])
        _ = await commitInTransaction(shard, producerId: 4, [(tp1, offset(40))])
        await commit(shard, [(tp1, offset(50))])
        try log.appendMarker(commit: true, producerId: 1)
        try log.appendMarker(commit: false, producerId: 2)
        try log.appendMarker(commit: true, producerId: 4)

        let reloaded = makeShard(log: log, clock: clock)
        try reloaded.load(catalog: TopicCatalog(topics: [:]))
        // 1 committed; 2 aborted; 4 committed before the plain commit of 50 that followed it.
        #expect(await visible(reloaded) == [tp0: 10, tp1: 50])
        #expect(await reloaded.fetchOffsets(groupId: "g", partitions: [tp0, tp1], requireStable: true).unstable.isEmpty)
        // 3 has no marker yet: still pending, and its group exists.
        #expect(await reloaded.fetchOffsets(groupId: "other", partitions: nil).1.isEmpty)
        #expect(await reloaded.fetchOffsets(groupId: "other", partitions: [tp0], requireStable: true).unstable == [tp0])
        #expect(await Set(reloaded.list().map(\.groupId)) == ["g", "other"])
        await reloaded.completeTransaction(producerId: 3, commit: true)
        #expect(await reloaded.fetchOffsets(groupId: "other", partitions: nil).1.mapValues(\.offset) == [tp0: 30])
    }

    @Test func theCommitterIsCheckedOnlyWhenItNamesItself() async {
        let shard = makeShard(log: MemoryCoordinatorLog(), clock: ManualClock())
        #expect(await commitInTransaction(shard, group: "unknown", generationId: 1, [(tp0, offset(1))]) == [tp0: .illegalGeneration])
        #expect(await commitInTransaction(shard, group: "simple", [(tp0, offset(1))]) == [tp0: .none])
        #expect(await shard.describe(groupId: "simple").state == "Empty")

        var group = stableGroup(count: 2)
        shard.state.withLock { $0.groups["g"] = group }
        #expect(await commitInTransaction(shard, [(tp0, offset(1))]) == [tp0: .none])
        #expect(await commitInTransaction(shard, memberId: "m1", generationId: 1, [(tp0, offset(2))]) == [tp0: .none])
        #expect(await commitInTransaction(shard, memberId: "m1", generationId: 2, [(tp0, offset(3))]) == [tp0: .illegalGeneration])
        #expect(await commitInTransaction(shard, memberId: "nobody", generationId: 1, [(tp0, offset(3))]) == [tp0: .unknownMemberId])
        #expect(await commitInTransaction(shard, memberId: "", generationId: 1, [(tp0, offset(3))]) == [tp0: .unknownMemberId])
        // A rebalance alone does not refuse a transactional commit of the current generation.
        _ = group.join(joinParameters(), configuration: configuration, now: 0, newMemberId: { "m3" })
        shard.state.withLock { $0.groups["g"] = group }
        #expect(await commitInTransaction(shard, memberId: "m2", generationId: 1, [(tp0, offset(4))]) == [tp0: .none])
    }

    @Test func consumerGroupMembersCommitInTheirEpoch() {
        var group = ConsumerGroup(groupId: "g")
        let catalog = TopicCatalog(topics: ["t": .init(id: Uuid(mostSignificantBits: 1, leastSignificantBits: 1), partitionCount: 2)])
        let joined = group.heartbeat(
            ConsumerHeartbeat(memberId: "a", memberEpoch: 0, instanceId: nil, rackId: nil, rebalanceTimeoutMs: 30_000,
                              subscribedTopicNames: ["t"], subscribedTopicRegex: nil, serverAssignor: nil, ownedPartitions: nil,
                              clientId: "c", clientHost: "/127.0.0.1"),
            catalog: catalog, configuration: configuration, now: 0, newMemberId: { "a" })
        #expect(group.txnOffsetCommitError(memberId: "", groupInstanceId: nil, memberEpoch: -1) == nil)
        #expect(group.txnOffsetCommitError(memberId: "a", groupInstanceId: nil, memberEpoch: joined.memberEpoch) == nil)
        #expect(group.txnOffsetCommitError(memberId: "a", groupInstanceId: nil, memberEpoch: joined.memberEpoch + 1) == .illegalGeneration)
        #expect(group.txnOffsetCommitError(memberId: "b", groupInstanceId: nil, memberEpoch: 1) == .unknownMemberId)
    }

    @Test func oversizedMetadataAndFencedProducersArePerPartitionErrors() async {
        let log = MemoryCoordinatorLog()
        let shard = makeShard(log: log, clock: ManualClock())
        let big = String(repeating: "x", count: configuration.offsetMetadataMaxBytes + 1)
        #expect(await commitInTransaction(shard, [(tp0, offset(1, metadata: big)), (tp1, offset(1))]) == [tp0: .offsetMetadataTooLarge, tp1: .none])
        log.refusal.withLock { $0 = CoordinatorLogError(code: .invalidProducerEpoch) }
        #expect(await commitInTransaction(shard, producerId: 2, [(tp0, offset(2))]) == [tp0: .invalidProducerEpoch])
        log.refusal.withLock { $0 = CoordinatorLogError(code: .notLeaderOrFollower) }
        #expect(await commitInTransaction(shard, producerId: 2, [(tp0, offset(2))]) == [tp0: .notCoordinator])
        await shard.completeTransaction(producerId: 2, commit: true)
        #expect(await visible(shard).isEmpty)
    }

    @Test func deletingTheGroupOrItsOffsetsDropsPendingOffsets() async throws {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        let shard = makeShard(log: log, clock: clock)
        _ = await commitInTransaction(shard, producerId: 1, [(tp0, offset(10)), (tp1, offset(11))])
        #expect(await shard.deleteOffsets(groupId: "g", partitions: [tp1]).0 == .none)
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0, tp1], requireStable: true).unstable == [tp0])
        #expect(await shard.deleteGroup("g") == .none)
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0], requireStable: true).unstable.isEmpty)
        await shard.completeTransaction(producerId: 1, commit: true)
        #expect(await visible(shard).isEmpty)

        try log.appendMarker(commit: true, producerId: 1)
        let reloaded = makeShard(log: log, clock: clock)
        try reloaded.load(catalog: TopicCatalog(topics: [:]))
        #expect(await visible(reloaded).isEmpty)
        #expect(await reloaded.list().isEmpty)
    }

    @Test func openTransactionsKeepOffsetsAndGroupsFromExpiring() async {
        let clock = ManualClock()
        var short = configuration
        short.offsetsRetentionMs = 60_000
        let shard = makeShard(log: MemoryCoordinatorLog(), clock: clock, configuration: short)
        await commit(shard, [(tp0, offset(1))])
        _ = await commitInTransaction(shard, [(tp0, offset(2))])
        clock.advance(by: 120_000)
        await shard.expireOffsets()
        #expect(await visible(shard) == [tp0: 1])
        await shard.completeTransaction(producerId: 1, commit: true)
        #expect(await visible(shard) == [tp0: 2])

        _ = await commitInTransaction(shard, group: "pending-only", [(tp1, offset(3))])
        clock.advance(by: 120_000)
        await shard.expireOffsets()
        #expect(await shard.list().map(\.groupId) == ["pending-only"])
        await shard.completeTransaction(producerId: 1, commit: true)
        #expect(await shard.fetchOffsets(groupId: "pending-only", partitions: nil).1.mapValues(\.offset) == [tp1: 3])
    }
}
