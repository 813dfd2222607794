@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import Logging
import NIOCore
import Synchronization
import Testing

/// Records the markers the coordinator writes; can be told to fail them.
final class RecordingMarkerWriter: TransactionMarkerWriter {
    let written = Mutex<[TransactionMarkers]>([])
    let failing = Atomic<Bool>(false)
    /// Partitions that answer this error instead of writing the marker.
    let refusing = Mutex<[TopicPartition: ErrorCode]>([:])
    let attempts = Atomic<Int>(0)

    func write(_ markers: TransactionMarkers) async -> [TopicPartition: ErrorCode] {
        attempts.add(1, ordering: .relaxed)
        if failing.load(ordering: .relaxed) {
            return Dictionary(uniqueKeysWithValues: markers.partitions.map { ($0, ErrorCode.kafkaStorageError) })
        }
        let refused = refusing.withLock { $0 }
        if !refused.isEmpty {
            return Dictionary(uniqueKeysWithValues: markers.partitions.map { ($0, refused[$0] ?? ErrorCode.none) })
        }
        written.withLock { $0.append(markers) }
        return Dictionary(uniqueKeysWithValues: markers.partitions.map { ($0, ErrorCode.none) })
    }

    var all: [TransactionMarkers] { written.withLock { $0 } }
}

/// Producer ids 1000, 1001, ...
final class ProducerIdSequence: Sendable {
    let next = Atomic<Int64>(1_000)
    func make() -> Int64 { next.add(1, ordering: .relaxed).oldValue }
}

@Suite struct TransactionShardTests {
    let log = MemoryCoordinatorLog()
    let clock = ManualClock()
    let markers = RecordingMarkerWriter()
    let ids = ProducerIdSequence()
    let tp0 = TopicPartition(topic: "t", partition: 0)
    let tp1 = TopicPartition(topic: "t", partition: 1)

    func makeShard(_ configuration: TransactionConfiguration = TransactionConfiguration()) -> TransactionShard {
        TransactionShard(
            partition: 0, log: log, configuration: configuration, markers: markers, newProducerId: { [ids] in ids.make() },
            coordinatorEpoch: 3, clock: { [clock] in clock.now.load(ordering: .relaxed) }, logger: Logger(label: "test"))
    }

    func initialise(_ shard: TransactionShard, _ id: String = "tx", timeoutMs: Int32 = 60_000) async throws -> (producerId: Int64, epoch: Int16) {
        try await shard.initProducerId(transactionalId: id, timeoutMs: timeoutMs, expected: nil).get()
    }

    @Test func initProducerIdBumpsTheEpochOfAKnownId() async throws {
        let shard = makeShard()
        let first = try await initialise(shard)
        #expect(first == (1_000, 0))
        let second = try await initialise(shard)
        #expect(second == (1_000, 1))
        #expect(await shard.transaction("tx")?.state == .empty)
        #expect(await shard.initProducerId(transactionalId: "tx", timeoutMs: 0, expected: nil).failureCode == .invalidTransactionTimeout)
        #expect(await shard.initProducerId(transactionalId: "tx", timeoutMs: 900_001, expected: nil).failureCode == .invalidTransactionTimeout)
    }

    @Test func initProducerIdWithTheCurrentEpochBumpsItAndARetryGetsTheSameAnswer() async throws {
        let shard = makeShard()
        _ = try await initialise(shard)
        let bumped = try await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: (1_000, 0)).get()
        #expect(bumped == (1_000, 1))
        // The same request again (its answer was lost): the same epoch, not a second bump.
        let retried = try await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: (1_000, 0)).get()
        #expect(retried == (1_000, 1))
        #expect(await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: (1_000, 7)).failureCode == .producerFenced)
        #expect(await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: (5, 1)).failureCode == .producerFenced)
    }

    @Test func anExhaustedEpochMovesToANewProducerId() async throws {
        let shard = makeShard()
        _ = try await initialise(shard)
        shard.state.withLock { $0.transactions["tx"]!.producerEpoch = Int16.max - 1 }
        let next = try await initialise(shard)
        #expect(next == (1_001, 0))
        #expect(await shard.transaction("tx")?.previousProducerId == 1_000)
    }

    @Test func commitWritesCommitMarkersToEveryPartitionThenCompletes() async throws {
        let shard = makeShard()
        let (producerId, epoch) = try await initialise(shard)
        await #expect(throws: Never.self) { try await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0]).get() }
        await #expect(throws: Never.self) { try await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp1]).get() }
        #expect(await shard.transaction("tx")?.state == .ongoing)
        #expect(await shard.transaction("tx")?.partitions == [tp0, tp1])

        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: true) == .none)
        #expect(markers.all == [TransactionMarkers(
            transactionalId: "tx", producerId: producerId, producerEpoch: epoch, coordinatorEpoch: 3, commit: true, partitions: [tp0, tp1])])
        #expect(await shard.transaction("tx")?.state == .completeCommit)
        #expect(await shard.transaction("tx")?.partitions == [])
        // A retried EndTxn gets success; the opposite outcome is refused.
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: true) == .none)
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: false) == .invalidTxnState)
        #expect(markers.all.count == 1)
        // The next transaction starts from CompleteCommit.
        await #expect(throws: Never.self) { try await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp1]).get() }
        #expect(await shard.transaction("tx")?.partitions == [tp1])
    }

    @Test func requestsWithoutATransactionOrWithTheWrongProducerAreRefused() async throws {
        let shard = makeShard()
        #expect(await shard.addPartitions(transactionalId: "nope", producerId: 1, epoch: 0, partitions: [tp0]).failureCode == .invalidProducerIdMapping)
        let (producerId, epoch) = try await initialise(shard)
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: true) == .invalidTxnState)
        #expect(await shard.addPartitions(transactionalId: "tx", producerId: producerId + 1, epoch: epoch, partitions: [tp0]).failureCode == .invalidProducerIdMapping)
        #expect(await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch + 1, partitions: [tp0]).failureCode == .producerFenced)
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch - 1, commit: false) == .producerFenced)
    }

    @Test func aNewProducerAbortsTheOpenTransactionAndFencesTheOldOne() async throws {
        let shard = makeShard()
        let (producerId, epoch) = try await initialise(shard)
        _ = await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0])
        let next = try await initialise(shard)
        // The abort carries the fencing epoch; the new producer gets the one after it.
        #expect(markers.all.map(\.commit) == [false])
        #expect(markers.all.first?.producerEpoch == epoch + 1)
        #expect(next == (producerId, epoch + 2))
        #expect(await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0]).failureCode == .producerFenced)
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: true) == .producerFenced)
    }

    @Test func aTransactionOpenPastItsTimeoutIsAbortedWithABumpedEpoch() async throws {
        let shard = makeShard()
        let (producerId, epoch) = try await initialise(shard, timeoutMs: 1_000)
        _ = await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0])
        clock.advance(by: 999)
        await shard.abortTimedOutTransactions()
        #expect(markers.all.isEmpty)
        clock.advance(by: 1)
        await shard.abortTimedOutTransactions()
        #expect(markers.all.map(\.commit) == [false])
        #expect(markers.all.first?.producerEpoch == epoch + 1)
        #expect(await shard.transaction("tx")?.state == .completeAbort)
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: true) == .producerFenced)
    }

    @Test func failedMarkersLeaveTheTransactionPreparedUntilTheyAreWritten() async throws {
        let shard = makeShard()
        let (producerId, epoch) = try await initialise(shard)
        _ = await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0])
        markers.failing.store(true, ordering: .relaxed)
        // The outcome is decided once PrepareCommit is in the log.
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: true) == .none)
        #expect(await shard.transaction("tx")?.state == .prepareCommit)
        #expect(await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp1]).failureCode == .concurrentTransactions)
        #expect(await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: nil).failureCode == .concurrentTransactions)
        markers.failing.store(false, ordering: .relaxed)
        await shard.completePreparedTransactions()
        #expect(await shard.transaction("tx")?.state == .completeCommit)
        #expect(markers.all.map(\.commit) == [true])
    }

    @Test(arguments: [ErrorCode.transactionCoordinatorFenced, .invalidProducerEpoch])
    func aMarkerRefusedForGoodIsNotRetriedAndTheTransactionCompletes(refusal: ErrorCode) async throws {
        let shard = makeShard()
        let (producerId, epoch) = try await initialise(shard)
        _ = await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0, tp1])
        markers.refusing.withLock { $0 = [tp0: refusal] }
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: true) == .none)
        #expect(await shard.transaction("tx")?.state == .completeCommit)
        await shard.completePreparedTransactions()
        #expect(markers.attempts.load(ordering: .relaxed) == 1)
        // The producer goes on with its next transaction.
        await #expect(throws: Never.self) { try await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0]).get() }
    }

    @Test func aReloadRestoresIdsAndFinishesPreparedTransactions() async throws {
        let shard = makeShard()
        let (producerId, epoch) = try await initialise(shard)
        _ = try await initialise(shard, "other")
        _ = await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0, tp1])
        markers.failing.store(true, ordering: .relaxed)
        _ = await shard.endTransaction(transactionalId: "tx", producerId: producerId, epoch: epoch, commit: false)
        markers.failing.store(false, ordering: .relaxed)

        let reloaded = makeShard()
        try reloaded.load()
        var expected = await shard.transaction("tx")!
        expected.lastProducerEpoch = -1  // in memory only
        #expect(await reloaded.transaction("tx") == expected)
        #expect(await reloaded.transaction("tx")?.state == .prepareAbort)
        #expect(await reloaded.transaction("other")?.producerId == 1_001)
        await reloaded.completePreparedTransactions()
        #expect(markers.all.map(\.partitions) == [[tp0, tp1]])
        #expect(await reloaded.transaction("tx")?.state == .completeAbort)
    }

    @Test func aLogFailureAnswersCoordinatorNotAvailableAndChangesNothing() async throws {
        let shard = makeShard()
        let (producerId, epoch) = try await initialise(shard)
        log.failing.store(true, ordering: .relaxed)
        #expect(await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0]).failureCode == .coordinatorNotAvailable)
        #expect(await shard.transaction("tx")?.state == .empty)
        #expect(await shard.initProducerId(transactionalId: "new", timeoutMs: 1_000, expected: nil).failureCode == .coordinatorNotAvailable)
        #expect(await shard.transaction("new") == nil)
    }

    @Test func verifyOnlyReportsWhetherEachPartitionIsInTheOpenTransaction() async throws {
        let shard = makeShard()
        let (producerId, epoch) = try await initialise(shard)
        _ = await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0])
        #expect(await shard.verifyPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0, tp1])
            == [tp0: .none, tp1: .invalidTxnState])
        #expect(await shard.verifyPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch + 1, partitions: [tp0])
            == [tp0: .producerFenced])
        #expect(await shard.verifyPartitions(transactionalId: "nope", producerId: producerId, epoch: epoch, partitions: [tp0])
            == [tp0: .invalidProducerIdMapping])
    }

    @Test func idleIdsExpireAfterTheirExpirationTime() async throws {
        var configuration = TransactionConfiguration()
        configuration.transactionalIdExpirationMs = 10_000
        let shard = makeShard(configuration)
        let (producerId, epoch) = try await initialise(shard)
        _ = try await initialise(shard, "open")
        let open = await shard.transaction("open")!
        _ = await shard.addPartitions(transactionalId: "open", producerId: open.producerId, epoch: open.producerEpoch, partitions: [tp0])
        clock.advance(by: 10_000)
        await shard.expireTransactionalIds()
        #expect(await shard.transaction("tx") == nil)
        #expect(await shard.transaction("open") != nil)
        #expect(await shard.addPartitions(transactionalId: "tx", producerId: producerId, epoch: epoch, partitions: [tp0]).failureCode == .invalidProducerIdMapping)
        let reloaded = makeShard(configuration)
        try reloaded.load()
        #expect(await reloaded.transaction("tx") == nil)
        #expect(await reloaded.transaction("open")?.state == .ongoing)
    }

    @Test func recordsRoundTripInKafkasFormat() throws {
        var metadata = TransactionMetadata(
            transactionalId: "tx", producerId: 42, producerEpoch: 7, timeoutMs: 60_000, state: .ongoing, lastUpdateTimestamp: 5)
        metadata.partitions = [tp0, tp1, TopicPartition(topic: "a", partition: 3)]
        metadata.startTimestamp = 4
        metadata.previousProducerId = 41
        let (key, value) = try TransactionRecord.encode(transactionalId: "tx", metadata)
        // Key: version 0, then the id as an int16-length string.
        #expect(Array(key.readableBytesView) == [0, 0, 0, 2, 0x74, 0x78])
        let decoded = try #require(try TransactionRecord.decode(key: key, value: value))
        #expect(decoded.0 == "tx")
        #expect(decoded.1 == metadata)
        let tombstone = try TransactionRecord.encode(transactionalId: "tx", nil)
        #expect(tombstone.value == nil)
        #expect(try TransactionRecord.decode(key: tombstone.key, value: nil)?.1 == nil)
    }
}

extension Result {
    /// The Kafka error of a failed transaction request, nil on success.
    var failureCode: ErrorCode? {
        guard case .failure(let error) = self else { return nil }
        return (error as? TransactionError)?.code
    }
}
