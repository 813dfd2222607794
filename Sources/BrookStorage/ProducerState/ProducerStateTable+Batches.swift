extension ProducerStateTable {
    /// What a leader append may do, according to the producer state.
    enum Admission: Equatable {
        /// Write the batches; the markers among them close these transactions.
        case append(completed: [CompletedTransaction])
        /// A producer's retry of a batch already in the log: write nothing, answer with it.
        case duplicate(BatchRecord)
    }

    /// Checks and records a leader append's batches in order (offsets already assigned).
    /// Returns ``Admission/duplicate(_:)`` for the retry of a batch — then nothing must be
    /// written. Throws for sequence gaps, fenced producer epochs, fenced coordinator epochs and
    /// non-transactional batches of a producer with an open transaction, leaving the table as it
    /// was.
    ///
    /// As in Kafka, sequences are checked (and retries found) only for ``AppendOrigin/client``
    /// appends: a coordinator's own batches (the group coordinator's transactional offset
    /// commits) carry no sequence (-1), so for them only the producer epoch is checked.
    mutating func admit(_ batches: [AppendBatches.Batch], origin: AppendOrigin = .client) throws(StorageError) -> Admission {
        var updated = self
        var completed: [CompletedTransaction] = []
        for batch in batches where batch.producerId >= 0 {
            if let marker = batch.marker {
                try updated.checkMarker(producerId: batch.producerId, epoch: batch.producerEpoch, coordinatorEpoch: marker.coordinatorEpoch)
                completed.append(updated.record(marker, of: batch))
                continue
            }
            guard !batch.isControl else { continue }
            if origin == .client {
                switch try updated.check(producerId: batch.producerId, epoch: batch.producerEpoch,
                                         firstSequence: batch.baseSequence, lastSequence: batch.lastSequence) {
                case .duplicate(let original):
                    guard batches.count == 1 else {
                        throw .invalidBatch(reason: "a retried batch of producer \(batch.producerId) came with other batches")
                    }
                    return .duplicate(original)
                case .append:
                    break
                }
            } else {
                try updated.checkEpoch(producerId: batch.producerId, epoch: batch.producerEpoch)
            }
            if !batch.isTransactional && updated.entries[batch.producerId]?.currentTxnFirstOffset != nil {
                throw .invalidTransactionState(producerId: batch.producerId)
            }
            updated.record(batch)
        }
        self = updated
        return .append(completed: completed)
    }

    /// Records batches appended without checks (replication, recovery) and returns the
    /// transactions their markers close.
    @discardableResult
    mutating func record(_ batches: [AppendBatches.Batch]) -> [CompletedTransaction] {
        var completed: [CompletedTransaction] = []
        for batch in batches where batch.producerId >= 0 {
            if let marker = batch.marker {
                completed.append(record(marker, of: batch))
            } else if !batch.isControl {
                record(batch)
            }
        }
        return completed
    }

    private mutating func record(_ batch: AppendBatches.Batch) {
        record(
            producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence,
            lastSequence: batch.lastSequence, firstOffset: batch.baseOffset,
            lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp, isTransactional: batch.isTransactional)
    }

    private mutating func record(_ marker: TransactionMarker, of batch: AppendBatches.Batch) -> CompletedTransaction {
        endTransaction(
            producerId: batch.producerId, epoch: batch.producerEpoch, coordinatorEpoch: marker.coordinatorEpoch,
            offset: batch.baseOffset, isAbort: marker.isAbort, timestamp: batch.maxTimestamp)
    }
}
