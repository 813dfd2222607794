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

    /// A partition of a Produce request, by its place in the request.
    struct Place: Hashable {
        var topic: Int
        var partition: Int
    }

    /// The partitions of `request` to refuse, with their errors: only transactional batches of a
    /// producer with no transaction open on the partition are checked. Asking the coordinator
    /// waits (suspended, holding no thread) while its shard is busy appending to its log.
    func refusals(of request: ProduceRequest, partitions: PartitionTable, produceVersion: Int16) async -> [Place: ErrorCode] {
        guard let transactionalId = request.transactionalId, produceVersion >= 3 else { return [:] }
        var checks: [(Place, Partition, RecordBatch)] = []
        for (topicIndex, topic) in request.topicData.enumerated() {
            for (index, data) in topic.partitionData.enumerated() {
                guard let records = data.records,
                      let partition = partitions.partition(TopicPartition(topic: topic.name, partition: data.index)),
                      let batch = try? RecordBatch(records), batch.magic == 2, batch.isTransactional, batch.producerId >= 0,
                      partition.log.producerState.entries[batch.producerId]?.currentTxnFirstOffset == nil else { continue }
                checks.append((Place(topic: topicIndex, partition: index), partition, batch))
            }
        }
        var refused: [Place: ErrorCode] = [:]
        for (place, partition, batch) in checks {
            refused[place] = await refusal(of: batch, transactionalId: transactionalId, partition: partition)
        }
        return refused
    }

    /// The error to refuse `batch` with on `partition`, nil to write it.
    private func refusal(of batch: RecordBatch, transactionalId: String, partition: Partition) async -> ErrorCode? {
        let shard: TransactionShard
        switch transactions.shard(for: transactionalId) {
        case .success(let found): shard = found
        case .failure(let error): return error.code
        }
        let topicPartition = partition.topicPartition
        let code = await shard.verifyPartitions(
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
