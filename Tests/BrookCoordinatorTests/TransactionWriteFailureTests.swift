@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import Logging
import Synchronization
import Testing

// A transaction state record the log refused fails the client's request with the log's error as
// Kafka's TransactionStateManager maps it, and the transaction stays as it was.

private let storageError = CoordinatorLogError(code: .kafkaStorageError)
private let notLeader = CoordinatorLogError(code: .notLeaderOrFollower)
private let tooLarge = CoordinatorLogError(code: .messageTooLarge)

@Suite struct TransactionWriteFailureTests {
    let log = MemoryCoordinatorLog()
    let clock = ManualClock()
    let markers = RecordingMarkerWriter()
    let ids = ProducerIdSequence()
    let tp0 = TopicPartition(topic: "t", partition: 0)

    func makeShard() -> TransactionShard {
        TransactionShard(
            partition: 0, log: log, configuration: TransactionConfiguration(), markers: markers, newProducerId: { [ids] in ids.make() },
            coordinatorEpoch: 3, clock: { [clock] in clock.now.load(ordering: .relaxed) }, logger: Logger(label: "test"))
    }

    @Test func anInitProducerIdThatCannotBeStoredKeepsTheEpoch() async throws {
        let shard = makeShard()
        let first = try await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: nil).get()
        log.refuse(with: storageError)
        #expect(await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: nil).failureCode == .notCoordinator)
        #expect(await shard.transaction("tx")?.producerEpoch == first.epoch)
        log.refuse(with: storageError)
        #expect(await shard.initProducerId(transactionalId: "new", timeoutMs: 60_000, expected: nil).failureCode == .notCoordinator)
        #expect(await shard.transaction("new") == nil)

        let second = try await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: nil).get()
        #expect(second.epoch == first.epoch + 1)
    }

    @Test func partitionsAndEndTxnThatCannotBeStoredLeaveTheTransactionAsItWas() async throws {
        let shard = makeShard()
        let producer = try await shard.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: nil).get()
        let add = { await shard.addPartitions(transactionalId: "tx", producerId: producer.producerId, epoch: producer.epoch, partitions: [self.tp0]) }
        log.refuse(with: notLeader)
        #expect(await add().failureCode == .notCoordinator)
        #expect(await shard.transaction("tx")?.state == .empty)
        #expect(await shard.transaction("tx")?.partitions.isEmpty == true)
        #expect(await add().failureCode == nil)
        #expect(await shard.transaction("tx")?.state == .ongoing)

        log.refuse(with: tooLarge)
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producer.producerId, epoch: producer.epoch, commit: true)
                == .unknownServerError)
        #expect(await shard.transaction("tx")?.state == .ongoing)
        #expect(markers.all.isEmpty)
        #expect(await shard.endTransaction(transactionalId: "tx", producerId: producer.producerId, epoch: producer.epoch, commit: true) == .none)
        #expect(await shard.transaction("tx")?.state == .completeCommit)
        #expect(markers.all.count == 1)
    }
}
