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
///
/// In a cluster the coordinator may live on another broker: it is asked with an
/// AddPartitionsToTxn v4 request that only verifies (`verifyOnly`), as Kafka's brokers do.
struct ProduceTransactionVerifier: Sendable {
    let transactions: TransactionCoordinatorHost
    /// In a cluster, connections to the other brokers' coordinators.
    var links: NodeLinks? = nil

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
        let topicPartition = partition.topicPartition
        let code: ErrorCode
        switch transactions.shard(for: transactionalId) {
        case .success(let shard):
            code = await shard.verifyPartitions(
                transactionalId: transactionalId, producerId: batch.producerId, epoch: batch.producerEpoch,
                partitions: [topicPartition])[topicPartition] ?? .invalidTxnState
        case .failure(let error) where error.code == .notCoordinator && links != nil:
            code = await verifyRemotely(transactionalId: transactionalId, batch: batch, partition: topicPartition)
        case .failure(let error):
            return error.code
        }
        switch code {
        case .none: return nil
        // Producers retry NOT_ENOUGH_REPLICAS; few retry CONCURRENT_TRANSACTIONS on Produce (as Kafka does).
        case .concurrentTransactions: return .notEnoughReplicas
        case .producerFenced: return .invalidProducerEpoch
        case .notCoordinator, .coordinatorNotAvailable: return .notEnoughReplicas
        default: return .invalidTxnState
        }
    }

    /// Asks the broker leading the transactional id's partition of `__transaction_state`
    /// whether `partition` is in the producer's open transaction.
    private func verifyRemotely(transactionalId: String, batch: RecordBatch, partition: TopicPartition) async -> ErrorCode {
        let image = transactions.metadata.image
        guard let links, let leader = image.coordinatorLeader(of: transactionalId, in: TransactionCoordinatorHost.topicName),
            let broker = image.broker(leader, on: links.listener)
        else { return .coordinatorNotAvailable }
        let request = AddPartitionsToTxnRequest(transactions: [.init(
            transactionalId: transactionalId, producerId: batch.producerId, producerEpoch: batch.producerEpoch, verifyOnly: true,
            topics: [.init(name: partition.topic, partitions: [partition.partition])])])
        guard let answer = try? await links.send(request, host: broker.host, port: Int(broker.port), version: 4, timeout: .seconds(10)) else {
            return .coordinatorNotAvailable
        }
        if answer.errorCode != 0 { return ErrorCode(rawValue: answer.errorCode) ?? .unknownServerError }
        let result = answer.resultsByTransaction.first { $0.transactionalId == transactionalId }?
            .topicResults.first { $0.name == partition.topic }?
            .resultsByPartition.first { $0.partitionIndex == partition.partition }
        return result.map { ErrorCode(rawValue: $0.partitionErrorCode) ?? .unknownServerError } ?? .invalidTxnState
    }
}
