import BrookModel
import BrookProtocol
import Synchronization

/// Where a transactional producer is.
struct TransactionProgress {
    enum Phase: Equatable {
        case uninitialized
        case ready
        case inTransaction
        /// A transactional call failed in a way only an abort recovers from.
        case abortable(String)
        /// Fenced or otherwise unusable: the producer must be closed.
        case fatal(String)
    }

    var phase: Phase = .uninitialized
    var partitions: Set<TopicPartition> = []
    /// AddOffsetsToTxn succeeded: the transaction has a group's offsets to end too.
    var hasOffsets = false

    /// Whether the coordinator knows of anything in the transaction (else EndTxn is not sent).
    var isEmpty: Bool { partitions.isEmpty && !hasOffsets }
}

extension Producer {
    /// Gets a producer id and epoch: a fresh id for an idempotent producer (also after the
    /// broker lost its sequence), the transactional id's for a transactional one (fencing older
    /// producers of the id and aborting their open transaction).
    func renewProducerId() async throws {
        let request = InitProducerIdRequest(
            transactionalId: configuration.transactionalId, transactionTimeoutMs: configuration.transactionTimeoutMs)
        let response = try await withCoordinatorRetries { connection in
            let response = try await connection.send(request)
            return (response.errorCode, response)
        }
        identity.withLock { identity in
            identity.producerId = response.producerId
            identity.epoch = response.producerEpoch
            identity.nextSequence = [:]
        }
    }

    /// InitProducerId for the `transactional.id`; call once before the first transaction.
    public func initTransactions() async throws {
        guard configuration.transactionalId != nil else { throw ProducerError.transactionState("initTransactions needs a transactional.id") }
        try await renewProducerId()
        transaction.withLock { $0.phase = .ready }
    }

    /// Begins a transaction: records sent until ``commitTransaction()`` or ``abortTransaction()``
    /// become visible to read_committed consumers together, or not at all.
    public func beginTransaction() throws {
        try transaction.withLock { progress in
            guard progress.phase == .ready else { throw ProducerError.transactionState("beginTransaction in state \(progress.phase)") }
            progress.phase = .inTransaction
            progress.partitions = []
            progress.hasOffsets = false
        }
    }

    /// Commits consumed offsets of `groupId` as part of the transaction (consume-transform-produce).
    /// `offsets` are the next offsets to consume. Pass the consumer's generation, member id and
    /// instance id so that a zombie consumer is fenced (KIP-447).
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: Int64], groupId: String, generationId: Int32 = -1, memberId: String = "",
        groupInstanceId: String? = nil
    ) async throws {
        try requirePhase(.inTransaction, for: "sendOffsetsToTransaction")
        let (producerId, epoch) = identity.withLock { ($0.producerId, $0.epoch) }
        let transactionalId = configuration.transactionalId!
        _ = try await withCoordinatorRetries { connection in
            let response = try await connection.send(AddOffsetsToTxnRequest(
                transactionalId: transactionalId, producerId: producerId, producerEpoch: epoch, groupId: groupId))
            return (response.errorCode, response)
        }
        transaction.withLock { $0.hasOffsets = true }
        let byTopic = Dictionary(grouping: offsets, by: \.key.topic)
        var attempts = 0
        while true {
            let coordinator = try await cluster.groupCoordinator(groupId)
            let response = try await coordinator.send(TxnOffsetCommitRequest(
                transactionalId: transactionalId, groupId: groupId, producerId: producerId, producerEpoch: epoch,
                generationId: generationId, memberId: memberId, groupInstanceId: groupInstanceId,
                topics: byTopic.map { topic, entries in
                    .init(name: topic, partitions: entries.map { .init(partitionIndex: $0.key.partition, committedOffset: $0.value, committedMetadata: "") })
                }))
            let codes = response.topics.flatMap { $0.partitions.map { ErrorCode(rawValue: $0.errorCode) ?? .unknownServerError } }
            guard let failure = codes.first(where: { $0 != .none }) else { return }
            attempts += 1
            guard failure.isRetriable, attempts < 20 else {
                abortable("TxnOffsetCommit failed: \(failure.kafkaName)")
                throw ClientError.broker(failure, "TxnOffsetCommit for group \(groupId)")
            }
            try await Task.sleep(for: .milliseconds(configuration.retryBackoffMs))
        }
    }

    /// Sends every buffered record of the transaction, then commits it.
    public func commitTransaction() async throws {
        try requirePhase(.inTransaction, for: "commitTransaction")
        await flush()
        if case .abortable(let reason) = transaction.withLock({ $0.phase }) {
            throw ProducerError.transactionState("the transaction must be aborted: \(reason)")
        }
        try await endTransaction(commit: true)
    }

    /// Drops the records not yet sent, waits for those in flight, then aborts the transaction.
    public func abortTransaction() async throws {
        let phase = transaction.withLock { $0.phase }
        switch phase {
        case .inTransaction, .abortable: break
        default: throw ProducerError.transactionState("abortTransaction in state \(phase)")
        }
        for batch in accumulator.drainUnsent() { batch.fail(ProducerError.transactionAborted) }
        await flush()
        try await endTransaction(commit: false)
    }

    private func endTransaction(commit: Bool) async throws {
        let (producerId, epoch) = identity.withLock { ($0.producerId, $0.epoch) }
        if !transaction.withLock({ $0.isEmpty }) {
            let transactionalId = configuration.transactionalId!
            _ = try await withCoordinatorRetries { connection in
                let response = try await connection.send(EndTxnRequest(
                    transactionalId: transactionalId, producerId: producerId, producerEpoch: epoch, committed: commit))
                return (response.errorCode, response)
            }
        }
        transaction.withLock { progress in
            progress.phase = .ready
            progress.partitions = []
            progress.hasOffsets = false
        }
    }

    /// Records may be sent only inside a transaction (transactional producers).
    func checkTransactionalSend() throws {
        guard configuration.transactionalId != nil else { return }
        try requirePhase(.inTransaction, for: "send")
    }

    /// AddPartitionsToTxn for the partitions not yet in the transaction.
    func addToTransaction(_ partitions: Set<TopicPartition>) async throws {
        let added = transaction.withLock { partitions.subtracting($0.partitions) }
        guard !added.isEmpty else { return }
        let (producerId, epoch) = identity.withLock { ($0.producerId, $0.epoch) }
        let transactionalId = configuration.transactionalId!
        let byTopic = Dictionary(grouping: added, by: \.topic)
        let request = AddPartitionsToTxnRequest(
            v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: producerId, v3AndBelowProducerEpoch: epoch,
            v3AndBelowTopics: byTopic.map { .init(name: $0.key, partitions: $0.value.map(\.partition)) })
        do {
            _ = try await withCoordinatorRetries { connection in
                // v4+ is the brokers' batched form; clients speak v3 at most.
                let version = min(try connection.negotiatedVersion(of: AddPartitionsToTxnRequest.self), 3)
                let response = try await connection.send(request, version: version)
                let codes = response.resultsByTopicV3AndBelow.flatMap { $0.resultsByPartition.map(\.partitionErrorCode) }
                return (codes.first { $0 != 0 } ?? 0, response)
            }
        } catch {
            abortable("AddPartitionsToTxn failed: \(error)")
            throw error
        }
        transaction.withLock { $0.partitions.formUnion(added) }
    }

    private func requirePhase(_ phase: TransactionProgress.Phase, for call: String) throws {
        let current = transaction.withLock { $0.phase }
        if case .abortable(let reason) = current, phase == .inTransaction, call == "send" || call == "sendOffsetsToTransaction" {
            throw ProducerError.transactionState("\(call): the transaction must be aborted: \(reason)")
        }
        guard current == phase || (phase == .inTransaction && current.isAbortable) else {
            throw ProducerError.transactionState("\(call) in state \(current)")
        }
    }

    private func abortable(_ reason: String) {
        transaction.withLock { progress in
            if progress.phase == .inTransaction { progress.phase = .abortable(reason) }
        }
    }

    /// Runs a request against the transaction coordinator (or, without a transactional id, any
    /// broker), retrying retriable errors (CONCURRENT_TRANSACTIONS, NOT_COORDINATOR, ...) with
    /// backoff; a fenced producer becomes fatal.
    func withCoordinatorRetries<Response>(
        _ call: (BrokerConnection) async throws -> (Int16, Response)
    ) async throws -> Response {
        let deadline = ContinuousClock.now + .milliseconds(configuration.maxBlockMs)
        while true {
            let connection: BrokerConnection
            if let transactionalId = configuration.transactionalId {
                connection = try await cluster.transactionCoordinator(transactionalId)
            } else {
                connection = try await cluster.connection(to: try await anyBroker())
            }
            let (code, response) = try await call(connection)
            let error = ErrorCode(rawValue: code) ?? .unknownServerError
            if error == .none { return response }
            if error == .producerFenced || error == .invalidProducerEpoch || error == .transactionalIdAuthorizationFailed {
                transaction.withLock { $0.phase = .fatal(error.kafkaName) }
                throw ClientError.broker(error, "the producer was fenced")
            }
            guard error.isRetriable, ContinuousClock.now < deadline else { throw ClientError.broker(error, nil) }
            try await Task.sleep(for: .milliseconds(min(configuration.retryBackoffMs, 100)))
        }
    }

    private func anyBroker() async throws -> Int32 {
        guard let broker = try await cluster.metadata(topics: []).brokers.first?.nodeId else {
            throw ClientError.notFound("the cluster has no brokers")
        }
        return broker
    }
}

extension TransactionProgress.Phase {
    var isAbortable: Bool {
        if case .abortable = self { return true }
        return false
    }
}
