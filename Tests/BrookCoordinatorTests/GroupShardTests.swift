@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import Logging
import NIOCore
import Synchronization
import Testing

/// An in-memory coordinator log.
final class MemoryCoordinatorLog: CoordinatorLog {
    let batches = Mutex<[ByteBuffer]>([])
    let failing = Atomic<Bool>(false)
    /// When set, appends are refused with this error, as the broker's log refuses them.
    let refusal = Mutex<CoordinatorLogError?>(nil)

    /// Appends to refuse, counted from 1 at the first append, with their error.
    let scheduledRefusals = Mutex<[Int: CoordinatorLogError]>([:])
    let appends = Atomic<Int>(0)

    /// Refuses the `nth` append from now (1 is the next one) with `error`; the others pass.
    func refuse(_ nth: Int = 1, with error: CoordinatorLogError) {
        let attempt = appends.load(ordering: .relaxed) + nth
        scheduledRefusals.withLock { $0[attempt] = error }
    }

    func append(_ batch: ByteBuffer) throws {
        let attempt = appends.add(1, ordering: .relaxed).newValue
        if let scheduled = scheduledRefusals.withLock({ $0.removeValue(forKey: attempt) }) { throw scheduled }
        if failing.load(ordering: .relaxed) { throw RecordBatchError.invalidInput(reason: "disk full") }
        if let refusal = refusal.withLock({ $0 }) { throw refusal }
        batches.withLock { $0.append(batch) }
    }

    /// Appends a transaction coordinator's COMMIT or ABORT marker, as WriteTxnMarkers does.
    func appendMarker(commit: Bool, producerId: Int64, producerEpoch: Int16 = 0) throws {
        let marker = try RecordBatchBuilder.endTransactionMarkerBatch(
            commit ? .commit : .abort, producerId: producerId, producerEpoch: producerEpoch, coordinatorEpoch: 0, timestamp: 0)
        batches.withLock { $0.append(marker) }
    }

    /// The stored batches, decoded.
    var stored: [RecordBatch] {
        get throws { try batches.withLock { $0 }.map { try RecordBatch($0) } }
    }

    func replay(_ visit: (RecordBatch) throws -> Void) throws {
        for bytes in batches.withLock({ $0 }) { try visit(try RecordBatch(bytes)) }
    }
}

final class ManualClock: Sendable {
    let now = Atomic<Int64>(1_000_000)
    func advance(by milliseconds: Int64) { now.add(milliseconds, ordering: .relaxed) }
}

func makeShard(log: MemoryCoordinatorLog, clock: ManualClock, configuration: GroupConfiguration = configuration) -> GroupShard {
    GroupShard(partition: 0, log: log, configuration: configuration, clock: { clock.now.load(ordering: .relaxed) },
               logger: Logger(label: "test"))
}

@Suite struct GroupShardTests {
    let tp0 = TopicPartition(topic: "t", partition: 0)
    let tp1 = TopicPartition(topic: "t", partition: 1)

    @Test func committedOffsetsSurviveAReload() async throws {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        let shard = makeShard(log: log, clock: clock)
        let errors = await shard.commitOffsets(groupId: "g", memberId: "", groupInstanceId: nil, generationId: -1, offsets: [
            (tp0, CommittedOffset(offset: 42, leaderEpoch: 3, metadata: "m", commitTimestamp: 7)),
            (tp1, CommittedOffset(offset: 9, commitTimestamp: 7)),
        ])
        #expect(errors == [tp0: .none, tp1: .none])
        _ = await shard.commitOffsets(groupId: "g", memberId: "", groupInstanceId: nil, generationId: -1, offsets: [
            (tp1, CommittedOffset(offset: 10, commitTimestamp: 8)),
        ])
        let reloaded = makeShard(log: log, clock: clock)
        try reloaded.load(catalog: TopicCatalog(topics: [:]))
        let (error, offsets) = await reloaded.fetchOffsets(groupId: "g", partitions: nil)
        #expect(error == .none)
        #expect(offsets == [tp0: CommittedOffset(offset: 42, leaderEpoch: 3, metadata: "m", commitTimestamp: 7),
                            tp1: CommittedOffset(offset: 10, commitTimestamp: 8)])
        #expect(await reloaded.list().map(\.groupId) == ["g"])
        #expect(await reloaded.describe(groupId: "g").state == "Empty")
    }

    @Test func aFailedWriteIsReportedAndNotRemembered() async {
        let log = MemoryCoordinatorLog()
        let shard = makeShard(log: log, clock: ManualClock())
        log.failing.store(true, ordering: .relaxed)
        let errors = await shard.commitOffsets(groupId: "g", memberId: "", groupInstanceId: nil, generationId: -1, offsets: [
            (tp0, CommittedOffset(offset: 1, commitTimestamp: 1)),
        ])
        #expect(errors == [tp0: .coordinatorNotAvailable])
        #expect(await shard.fetchOffsets(groupId: "g", partitions: [tp0]).1.isEmpty)
    }

    @Test func oversizedMetadataIsRefusedPerPartition() async {
        let shard = makeShard(log: MemoryCoordinatorLog(), clock: ManualClock())
        let errors = await shard.commitOffsets(groupId: "g", memberId: "", groupInstanceId: nil, generationId: -1, offsets: [
            (tp0, CommittedOffset(offset: 1, metadata: String(repeating: "x", count: 5_000), commitTimestamp: 1)),
            (tp1, CommittedOffset(offset: 1, commitTimestamp: 1)),
        ])
        #expect(errors == [tp0: .offsetMetadataTooLarge, tp1: .none])
    }

    @Test func aJoinedGroupIsRestoredStableWithItsAssignment() async throws {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        var fast = configuration
        fast.initialRebalanceDelayMs = 0
        let shard = makeShard(log: log, clock: clock, configuration: fast)
        let joined = await shard.join(groupId: "g", joinParameters())
        #expect(joined.error == .none)
        #expect(joined.generationId == 1)
        let synced = await shard.sync(groupId: "g", memberId: joined.memberId, groupInstanceId: nil, generationId: 1,
                                      protocolType: "consumer", protocolName: "range",
                                      assignments: [joined.memberId: ByteBuffer(string: "mine")])
        #expect(synced.assignment == ByteBuffer(string: "mine"))

        let reloaded = makeShard(log: log, clock: clock, configuration: fast)
        try reloaded.load(catalog: TopicCatalog(topics: [:]))
        let description = await reloaded.describe(groupId: "g")
        #expect(description.state == "Stable")
        #expect(description.members.map(\.memberId) == [joined.memberId])
        #expect(description.members.first?.assignment == ByteBuffer(string: "mine"))
        #expect(await reloaded.heartbeat(groupId: "g", memberId: joined.memberId, groupInstanceId: nil, generationId: 1) == .none)
    }

    @Test func parkedJoinsAreAnsweredOnShutdown() async {
        let shard = makeShard(log: MemoryCoordinatorLog(), clock: ManualClock())
        async let parked = shard.join(groupId: "g", joinParameters())
        // The join is parked behind the initial rebalance delay until the shard shuts down.
        while shard.state.withLock({ $0.joinWaiters.isEmpty }) { await Task.yield() }
        shard.shutdown()
        #expect(await parked.error == .notCoordinator)
        #expect(await shard.heartbeat(groupId: "g", memberId: "x", groupInstanceId: nil, generationId: 1) == .notCoordinator)
    }

    @Test func onlyEmptyGroupsCanBeDeletedAndTheirOffsetsGoToo() async throws {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        var fast = configuration
        fast.initialRebalanceDelayMs = 0
        let shard = makeShard(log: log, clock: clock, configuration: fast)
        let joined = await shard.join(groupId: "busy", joinParameters())
        _ = await shard.sync(groupId: "busy", memberId: joined.memberId, groupInstanceId: nil, generationId: joined.generationId,
                             protocolType: nil, protocolName: nil, assignments: [:])
        #expect(await shard.deleteGroup("busy") == .nonEmptyGroup)
        #expect(await shard.deleteGroup("missing") == .groupIdNotFound)
        _ = await shard.commitOffsets(groupId: "idle", memberId: "", groupInstanceId: nil, generationId: -1,
                                offsets: [(tp0, CommittedOffset(offset: 5, commitTimestamp: 1))])
        #expect(await shard.deleteGroup("idle") == .none)
        #expect(await shard.fetchOffsets(groupId: "idle", partitions: nil).1.isEmpty)
        let reloaded = makeShard(log: log, clock: clock, configuration: fast)
        try reloaded.load(catalog: TopicCatalog(topics: [:]))
        #expect(await reloaded.list().map(\.groupId) == ["busy"])
        #expect(joined.error == .none)
    }

    @Test func emptyGroupsLoseTheirOffsetsAfterTheRetention() async {
        let log = MemoryCoordinatorLog()
        let clock = ManualClock()
        var short = configuration
        short.offsetsRetentionMs = 60_000
        let shard = makeShard(log: log, clock: clock, configuration: short)
        let now = clock.now.load(ordering: .relaxed)
        _ = await shard.commitOffsets(groupId: "g", memberId: "", groupInstanceId: nil, generationId: -1,
                                offsets: [(tp0, CommittedOffset(offset: 5, commitTimestamp: now))])
        clock.advance(by: 59_999)
        await shard.expireOffsets()
        #expect(await shard.fetchOffsets(groupId: "g", partitions: nil).1.count == 1)
        clock.advance(by: 1)
        await shard.expireOffsets()
        #expect(await shard.fetchOffsets(groupId: "g", partitions: nil).1.isEmpty)
        #expect(await shard.list().isEmpty)
    }

    @Test func groupsHashToPartitionsAsInKafka() {
        // Java: "hello".hashCode() == 99162322; 99162322 % 50 == 22.
        #expect(GroupCoordinator.partition(for: "hello", partitions: 50) == 22)
        #expect(GroupCoordinator.partition(for: "", partitions: 50) == 0)
        // "polygenelubricants".hashCode() == Int.MIN_VALUE, which Kafka's abs maps to 0.
        #expect(GroupCoordinator.partition(for: "polygenelubricants", partitions: 50) == 0)
    }

    @Test func recordsRoundTripInKafkasFormat() throws {
        let records: [CoordinatorRecord] = [
            .offsetCommit(group: "g", partition: tp0, CommittedOffset(offset: 1, leaderEpoch: 2, metadata: "x", commitTimestamp: 3)),
            .offsetCommit(group: "g", partition: tp0, CommittedOffset(offset: 1, metadata: "", commitTimestamp: 3, expireTimestamp: 9)),
            .offsetCommit(group: "g", partition: tp1, nil),
            .groupMetadata(group: "g", stableGroup(count: 2).snapshot()),
            .groupMetadata(group: "g", nil),
        ]
        for record in records {
            let (key, value) = try record.encode()
            #expect(try CoordinatorRecord.decode(key: key, value: value) == record)
        }
        let (key, _) = try records[0].encode()
        #expect(key.getInteger(at: key.readerIndex, as: Int16.self) == 1)
    }
}
