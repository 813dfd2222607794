extension ProducerStateTable {
    /// Checks and records a leader append's batches in order (offsets already assigned).
    /// Returns the original of a retried batch — then nothing must be written — or nil when
    /// every batch is new. Throws for sequence gaps and fenced epochs, leaving the table as it
    /// was.
    mutating func admit(_ batches: [AppendBatches.Batch]) throws(StorageError) -> BatchRecord? {
        var updated = self
        for batch in batches where batch.producerId >= 0 && !batch.isControl {
            let lastSequence = batch.baseSequence &+ batch.lastOffsetDelta
            switch try updated.check(producerId: batch.producerId, epoch: batch.producerEpoch,
                                     firstSequence: batch.baseSequence, lastSequence: lastSequence) {
            case .duplicate(let original):
                guard batches.count == 1 else {
                    throw .invalidBatch(reason: "a retried batch of producer \(batch.producerId) came with other batches")
                }
                return original
            case .append:
                updated.record(
                    producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence,
                    lastSequence: lastSequence, firstOffset: batch.baseOffset, lastOffset: batch.lastOffset,
                    maxTimestamp: batch.maxTimestamp
                )
            }
        }
        self = updated
        return nil
    }

    /// Records batches appended without checks (replication).
    mutating func record(_ batches: [AppendBatches.Batch]) {
        for batch in batches where batch.producerId >= 0 && !batch.isControl {
            record(
                producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence,
                lastSequence: batch.baseSequence &+ batch.lastOffsetDelta, firstOffset: batch.baseOffset,
                lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp
            )
        }
    }
}
