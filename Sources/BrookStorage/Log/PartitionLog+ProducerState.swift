import BrookRecords
import Synchronization

extension PartitionLog {
    /// The idempotent producers this partition has seen (for DescribeProducers and tests).
    public var producerState: ProducerStateTable { state.withLock { $0.producers } }

    /// Forgets producers whose last batch is older than `cutoff` (`producer.id.expiration.ms`).
    @discardableResult
    public func expireProducers(before cutoff: Int64) throws(StorageError) -> Int {
        try mutating { (current: LogState) throws(StorageError) -> Int in
            var producers = current.producers
            let removed = producers.removeExpired(before: cutoff)
            if removed > 0 { state.withLock { $0.producers = producers } }
            return removed
        }
    }

    /// Rebuilds producer state when a log opens (and after a truncation): the newest snapshot at
    /// or below the log end, then every batch header from there to the end (none after a clean
    /// shutdown, which writes a snapshot at the log end). Control batches are read whole for
    /// their COMMIT or ABORT marker.
    ///
    /// With `rebuildingTransactionIndexFrom` (the base offset of the first segment an unclean
    /// open scanned), the transaction indexes of the segments from there on are emptied and
    /// refilled from the ABORT markers: the scan then starts at the newest snapshot at or below
    /// that offset, so every marker there meets the state of its transaction.
    static func loadProducerState(
        directory: String, segments: [LogSegment], activeSize: Int, logEnd: Int64,
        rebuildingTransactionIndexFrom rebuildFrom: Int64? = nil
    ) throws(StorageError) -> ProducerStateTable {
        let snapshot = try ProducerStateSnapshot.latest(in: directory, atOrBelow: min(logEnd, rebuildFrom ?? logEnd))
        var table = snapshot?.table ?? ProducerStateTable()
        let from = snapshot?.offset ?? 0
        if let rebuildFrom {
            for segment in segments where segment.baseOffset >= rebuildFrom {
                try segment.resetTransactionIndex()
            }
        }
        guard from < logEnd else { return table }
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            if !isLast && segments[index + 1].baseOffset <= from { continue }
            let rebuildsIndex = rebuildFrom.map { segment.baseOffset >= $0 } ?? false
            var scanner = BatchScanner(file: segment.log, from: 0, limit: isLast ? activeSize : segment.size, chunkSize: 1 << 16)
            scanning: while true {
                switch try scanner.nextHeader() {
                case .batch(let header, let batch):
                    guard header.lastOffset >= from, batch.producerId >= 0 else { continue }
                    guard batch.isControlBatch else {
                        table.record(
                            producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence,
                            lastSequence: batch.baseSequence &+ batch.lastOffsetDelta, firstOffset: batch.baseOffset,
                            lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp, isTransactional: batch.isTransactional)
                        continue
                    }
                    let bytes = try segment.log.read(at: Int64(header.position), length: header.size)
                    let whole: RecordBatch
                    do throws(RecordBatchError) {
                        whole = try RecordBatch(bytes)
                    } catch {
                        throw .invalidRecords(error)
                    }
                    guard let marker = try TransactionMarker.read(whole) else { continue }
                    let completed = table.endTransaction(
                        producerId: batch.producerId, epoch: batch.producerEpoch, coordinatorEpoch: marker.coordinatorEpoch,
                        offset: batch.baseOffset, isAbort: marker.isAbort, timestamp: batch.maxTimestamp)
                    if rebuildsIndex && completed.isAborted {
                        try segment.appendAbortedTransaction(AbortedTransaction(
                            producerId: completed.producerId, firstOffset: completed.firstOffset,
                            lastOffset: completed.lastOffset, lastStableOffset: completed.lastStableOffset))
                    }
                case .end, .invalid:
                    break scanning
                }
            }
        }
        return table
    }
}
