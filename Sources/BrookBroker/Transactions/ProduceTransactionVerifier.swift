import BrookCoordinator
import BrookModel
import BrookStorage
import BrookProtocol
import BrookRecords
import NIOCore

/// KIP-890 verification of transactional Produce requests
/// (`transaction.partition.verification.enable`): before the first transactional batch of a
/// producer's transaction is written to a partition, the coordinator must confirm that the
/// partition was added to that open transaction. A late write from a producer whose transaction
/// has already ended (which would otherwise open a transaction no coordinator knows, holding the
/// last stable offset forever) is refused.
struct ProduceTransactionVerifier: Sendable {
    let transactions: TransactionCoordinatorHost

    /// The error to refuse `records` with on `partition`, nil to write them: only transactional
    /// batches of a producer with no transaction open on the partition are checked.
    func refusal(of records: ByteBuffer, transactionalId: String?, partition: Partition, produceVersion: Int16) -> ErrorCode? {
        guard let transactionalId, produceVersion >= 3,
              let batch = try? RecordBatch(records), batch.magic == 2, batch.isTransactional, batch.producerId >= 0,
              partition.log.producerState.entries[batch.producerId]?.currentTxnFirstOffset == nil else { return nil }
        let shard: TransactionShard
        switch transactions.shard(for: transactionalId) {
        case .success(let found): shard = found
        case .failure(let error): return error.code
        }
        let topicPartition = partition.topicPartition
        let code = shard.verifyPartitions(
            transactionalId: transactionalId, producerId: batch.producerId, epoch: batch.producerEpoch,
            partitions: [topicPartition])[topicPartition] ?? .invalidTxnState
        switch code {
        case .none: return nil
        // Producers retry NOT_ENOUGH_REPLICAS; few retry CONCURRENT_TRANSACTIONS on Produce (as Kafka does).
        case .concurrentTransactions: return .notEnoughReplicas
        case .producerFenced: return .invalidProducerEpoch
        case .notCoordinator, .coordinatorNotAvailable: return .notEnoughReplicas
        default: return .invalidTxnState
        }
    }
}
