import BrookCoordinator
import BrookModel
import BrookProtocol

/// AddPartitionsToTxn (v0–5): adds partitions to a producer's open transaction, beginning one if
/// none is open. v0–3 (clients) carry one transaction; v4+ (brokers, KIP-890) a batch of them,
/// each either added or, with VerifyOnly, only checked. When any partition is unknown, those get
/// UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, and nothing is added.
struct AddPartitionsToTxnHandler: RequestHandler {
    typealias Request = AddPartitionsToTxnRequest
    let versions: ClosedRange<Int16> = 0...5
    let transactions: TransactionCoordinatorHost
    let metadata: MetadataStore

    func handle(_ request: AddPartitionsToTxnRequest, context: RequestContext) async throws -> AddPartitionsToTxnResponse? {
        let version = context.apiVersion
        if version < 4 {
            // A client's request; with ACLs, WRITE on the transactional id and on each topic.
            let topics = request.v3AndBelowTopics
            let results: [TopicPartition: ErrorCode]
            if !context.authorized(.write, .transactionalId, request.v3AndBelowTransactionalId) {
                results = Self.every(topics, .transactionalIdAuthorizationFailed)
            } else if case let refused = Set(topics.map(\.name).filter({ !context.authorized(.write, .topic, $0) })), !refused.isEmpty {
                results = Self.every(topics) { refused.contains($0.topic) ? .topicAuthorizationFailed : .operationNotAttempted }
            } else {
                results = await add(
                    transactionalId: request.v3AndBelowTransactionalId, producerId: request.v3AndBelowProducerId,
                    epoch: request.v3AndBelowProducerEpoch, topics: topics, verifyOnly: false, version: version)
            }
            return AddPartitionsToTxnResponse(throttleTimeMs: 0, resultsByTopicV3AndBelow: Self.topicResults(results))
        }
        // v4+ comes from brokers (KIP-890's verification): CLUSTER_ACTION with ACLs.
        guard context.authorizedOnCluster(.clusterAction) else {
            return AddPartitionsToTxnResponse(throttleTimeMs: 0, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue)
        }
        let results = await request.transactions.asyncMap { transaction in
            AddPartitionsToTxnResponse.AddPartitionsToTxnResult(
                transactionalId: transaction.transactionalId,
                topicResults: Self.topicResults(await add(
                    transactionalId: transaction.transactionalId, producerId: transaction.producerId,
                    epoch: transaction.producerEpoch, topics: transaction.topics, verifyOnly: transaction.verifyOnly, version: version)))
        }
        return AddPartitionsToTxnResponse(throttleTimeMs: 0, errorCode: 0, resultsByTransaction: results)
    }

    /// `code` (or what `code` says) for every partition of `topics`.
    private static func every(
        _ topics: [AddPartitionsToTxnRequest.AddPartitionsToTxnTopic], _ code: (TopicPartition) -> ErrorCode
    ) -> [TopicPartition: ErrorCode] {
        Dictionary(topics.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.name, partition: $0) } }.map { ($0, code($0)) },
                   uniquingKeysWith: { first, _ in first })
    }

    private static func every(_ topics: [AddPartitionsToTxnRequest.AddPartitionsToTxnTopic], _ code: ErrorCode) -> [TopicPartition: ErrorCode] {
        every(topics) { _ in code }
    }

    private func add(
        transactionalId: String, producerId: Int64, epoch: Int16,
        topics: [AddPartitionsToTxnRequest.AddPartitionsToTxnTopic], verifyOnly: Bool, version: Int16
    ) async -> [TopicPartition: ErrorCode] {
        let partitions = topics.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.name, partition: $0) } }
        func all(_ code: ErrorCode) -> [TopicPartition: ErrorCode] {
            Dictionary(partitions.map { ($0, code) }, uniquingKeysWith: { first, _ in first })
        }
        let image = metadata.image
        let unknown = Set(partitions.filter { partition in
            !(image.topics[partition.topic]?.partitions.contains { $0.index == partition.partition } ?? false)
        })
        if !unknown.isEmpty {
            return Dictionary(partitions.map { ($0, unknown.contains($0) ? .unknownTopicOrPartition : .operationNotAttempted) },
                              uniquingKeysWith: { first, _ in first })
        }
        let shard: TransactionShard
        switch transactions.shard(for: transactionalId) {
        case .success(let found): shard = found
        case .failure(let error): return all(error.code)
        }
        if verifyOnly {
            return await shard.verifyPartitions(transactionalId: transactionalId, producerId: producerId, epoch: epoch, partitions: partitions)
        }
        let result = await shard.addPartitions(transactionalId: transactionalId, producerId: producerId, epoch: epoch, partitions: Set(partitions))
        return all(result.errorCode(version: version, fencedSince: 2))
    }

    static func topicResults(_ results: [TopicPartition: ErrorCode]) -> [AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult] {
        Dictionary(grouping: results, by: \.key.topic).sorted { $0.key < $1.key }.map { topic, entries in
            AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult(
                name: topic,
                resultsByPartition: entries.sorted { $0.key.partition < $1.key.partition }.map {
                    AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult(partitionIndex: $0.key.partition, partitionErrorCode: $0.value.rawValue)
                })
        }
    }
}
