import BrookRecords

extension OffsetMap {
    /// How far ``insertKeys(of:startOffset:)`` got through a batch.
    public enum BatchInsertion: Sendable, Equatable {
        /// Every record was considered; the map is ready for the next batch.
        case complete
        /// The map filled up: records up to ``OffsetMap/latestOffset`` were recorded, the rest of
        /// the batch was not. The cleaner cleans up to `latestOffset + 1` and starts the next
        /// round there.
        case mapFull
    }

    /// Records the key of every keyed data record of `batch` at or above `startOffset`.
    ///
    /// Control batches (transaction markers) carry no data keys and are skipped; keyless records
    /// are skipped (a compacted topic rejects them at produce time). A batch of an aborted
    /// transaction (`isAborted`, which the cleaner learns from the transaction indexes through
    /// `TransactionTracker`) is skipped too: its records are never read, so an aborted write
    /// never shadows the committed value of its key. After a complete batch whose last offset is
    /// at or above `startOffset`, ``latestOffset`` is raised to the batch's last offset, so that
    /// trailing keyless records, skipped batches or offset gaps count as seen.
    public mutating func insertKeys(
        of batch: RecordBatch,
        startOffset: Int64 = 0,
        isAborted: Bool = false
    ) throws(RecordBatchError) -> BatchInsertion {
        guard !batch.isControlBatch && !isAborted else {
            if batch.lastOffset >= startOffset { updateLatestOffset(batch.lastOffset) }
            return .complete
        }
        guard batch.lastOffset >= startOffset else { return .complete }
        var iterator = try batch.makeRecordIterator()
        while let record = try iterator.next() {
            guard record.offset >= startOffset, let key = record.key else { continue }
            if put(key: key, offset: record.offset) == .full {
                return .mapFull
            }
        }
        updateLatestOffset(batch.lastOffset)
        return .complete
    }
}
