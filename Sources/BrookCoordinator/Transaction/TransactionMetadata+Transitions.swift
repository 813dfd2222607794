import BrookModel
import BrookProtocol

/// The transaction state machine: each transition checks the caller's producer id and epoch
/// against the id's and either throws the Kafka error to answer or changes the value. The shard
/// writes the changed value to `__transaction_state` before it keeps it.
extension TransactionMetadata {
    /// A new transactional id, before its first epoch bump (InitProducerId makes it epoch 0).
    static func fresh(transactionalId: String, producerId: Int64, timeoutMs: Int32, now: Int64) -> TransactionMetadata {
        TransactionMetadata(
            transactionalId: transactionalId, producerId: producerId, producerEpoch: -1, timeoutMs: timeoutMs,
            state: .empty, lastUpdateTimestamp: now)
    }

    /// The caller must hold the current producer id and epoch: another id is
    /// INVALID_PRODUCER_ID_MAPPING, another epoch PRODUCER_FENCED (a newer producer has taken
    /// over, or the coordinator aborted the transaction and bumped the epoch).
    func check(producerId: Int64, epoch: Int16) throws(TransactionError) {
        guard producerId == self.producerId else { throw TransactionError(.invalidProducerIdMapping) }
        guard epoch == producerEpoch else { throw TransactionError(.producerFenced) }
    }

    /// InitProducerId on an idle id: bumps the epoch (a new producer id once the epoch is used up)
    /// and clears the transaction. With `expected` (KIP-360) the caller must hold the current id
    /// and epoch; a retry of the call that made the current epoch gets it again unchanged.
    /// Returns false when nothing changed (the retry case).
    mutating func initProducer(
        timeoutMs: Int32, expected: (producerId: Int64, epoch: Int16)?, now: Int64, newProducerId: () throws -> Int64
    ) throws -> Bool {
        precondition(state.isIdle, "InitProducerId bumps only idle transactions")
        if let expected, expected.producerId >= 0 {
            let sameProducer = expected.producerId == producerId
            if sameProducer && expected.epoch == lastProducerEpoch && lastProducerEpoch >= 0 && expected.epoch != producerEpoch {
                return false
            }
            guard sameProducer && expected.epoch == producerEpoch else { throw TransactionError(.producerFenced) }
        }
        if producerEpoch >= Self.lastUsableEpoch {
            previousProducerId = producerId
            producerId = try newProducerId()
            producerEpoch = 0
            lastProducerEpoch = -1
        } else {
            lastProducerEpoch = producerEpoch
            producerEpoch += 1
        }
        self.timeoutMs = timeoutMs
        state = .empty
        partitions = []
        startTimestamp = -1
        lastUpdateTimestamp = now
        return true
    }

    /// AddPartitionsToTxn / AddOffsetsToTxn: adds `added` to the open transaction, opening one
    /// when none is. Returns false when every partition was already in it.
    mutating func add(_ added: Set<TopicPartition>, producerId: Int64, epoch: Int16, now: Int64) throws(TransactionError) -> Bool {
        try check(producerId: producerId, epoch: epoch)
        if state.isPreparing { throw TransactionError(.concurrentTransactions) }
        guard state != .dead else { throw TransactionError(.concurrentTransactions) }
        if state == .ongoing && added.isSubset(of: partitions) { return false }
        if state != .ongoing {
            partitions = []
            startTimestamp = now
        }
        state = .ongoing
        partitions.formUnion(added)
        lastUpdateTimestamp = now
        return true
    }

    /// What EndTxn asks of the current state.
    enum EndDecision: Equatable {
        /// Write PrepareCommit/PrepareAbort, then the markers.
        case prepare
        /// A retry of an EndTxn that has completed: answer success.
        case alreadyDone
    }

    /// EndTxn: checks that `commit` fits the transaction's state, and moves an Ongoing
    /// transaction to PrepareCommit or PrepareAbort.
    mutating func prepareEnd(commit: Bool, producerId: Int64, epoch: Int16, now: Int64) throws(TransactionError) -> EndDecision {
        try check(producerId: producerId, epoch: epoch)
        switch state {
        case .ongoing:
            state = commit ? .prepareCommit : .prepareAbort
            lastUpdateTimestamp = now
            return .prepare
        case .completeCommit where commit, .completeAbort where !commit:
            return .alreadyDone
        case .prepareCommit where commit, .prepareAbort where !commit:
            throw TransactionError(.concurrentTransactions)
        case .prepareEpochFence, .dead:
            throw TransactionError(.concurrentTransactions)
        default:
            throw TransactionError(.invalidTxnState)
        }
    }

    /// Fences the producer of an open transaction (a new producer took the id, or the transaction
    /// timed out): bumps the epoch so the old producer's requests are refused, and prepares the
    /// abort, whose markers carry the new epoch.
    mutating func fenceAndPrepareAbort(now: Int64) {
        precondition(state == .ongoing, "only an open transaction is fenced")
        if producerEpoch < Self.lastUsableEpoch {
            lastProducerEpoch = producerEpoch
            producerEpoch += 1
        }
        state = .prepareAbort
        lastUpdateTimestamp = now
    }

    /// Once every marker is written: CompleteCommit or CompleteAbort, with no partitions.
    mutating func complete(now: Int64) {
        precondition(state == .prepareCommit || state == .prepareAbort, "only a prepared transaction completes")
        state = state == .prepareCommit ? .completeCommit : .completeAbort
        partitions = []
        lastUpdateTimestamp = now
    }
}

/// A transaction request refused with a Kafka error code.
public struct TransactionError: Error, Equatable, Sendable {
    public var code: ErrorCode

    public init(_ code: ErrorCode) {
        self.code = code
    }
}
