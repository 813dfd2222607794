extension ProducerStateTable {
    /// A transaction closed by a COMMIT or ABORT marker.
    public struct CompletedTransaction: Sendable, Equatable {
        public var producerId: Int64
        /// The transaction's first offset (the marker's own offset when no data was seen).
        public var firstOffset: Int64
        /// The marker's offset.
        public var lastOffset: Int64
        public var isAborted: Bool
        /// The last stable offset once this transaction is closed: the first offset of the
        /// earliest transaction still open, or the offset after the marker when none is.
        public var lastStableOffset: Int64
    }

    /// The first offset of the earliest open transaction, nil when none is open. The last stable
    /// offset is the smaller of this and the high watermark.
    public var firstUnstableOffset: Int64? { ongoingTransactions.values.min() }

    /// Checks a COMMIT or ABORT marker of `producerId` before it is written (leader appends): a
    /// producer epoch older than the table's is fenced, and so is a coordinator epoch older than
    /// the one that wrote the producer's previous marker.
    public func checkMarker(producerId: Int64, epoch: Int16, coordinatorEpoch: Int32) throws(StorageError) {
        guard let entry = entries[producerId] else { return }
        if epoch < entry.epoch {
            throw .invalidProducerEpoch(producerId: producerId, epoch: epoch, current: entry.epoch)
        }
        if coordinatorEpoch < entry.coordinatorEpoch {
            throw .transactionCoordinatorFenced(producerId: producerId, coordinatorEpoch: coordinatorEpoch, current: entry.coordinatorEpoch)
        }
    }

    /// Records a COMMIT or ABORT marker written at `offset` (no checks) and returns the
    /// transaction it closes. A marker for a producer without an open transaction closes an
    /// empty one starting at the marker, as in Kafka.
    @discardableResult
    public mutating func endTransaction(
        producerId: Int64, epoch: Int16, coordinatorEpoch: Int32, offset: Int64, isAbort: Bool, timestamp: Int64
    ) -> CompletedTransaction {
        var entry = entries[producerId] ?? Entry(producerId: producerId, epoch: epoch, batches: [], lastTimestamp: timestamp)
        if epoch != entry.epoch {
            entry.epoch = epoch
            entry.batches = []
        }
        let firstOffset = entry.currentTxnFirstOffset ?? offset
        entry.currentTxnFirstOffset = nil
        entry.coordinatorEpoch = coordinatorEpoch
        entry.lastTimestamp = max(entry.lastTimestamp, timestamp)
        update(entry)
        return CompletedTransaction(
            producerId: producerId, firstOffset: firstOffset, lastOffset: offset, isAborted: isAbort,
            lastStableOffset: firstUnstableOffset ?? offset + 1)
    }
}
