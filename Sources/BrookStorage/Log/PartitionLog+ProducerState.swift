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

    /// Rebuilds producer state when a log opens: the newest snapshot at or below the log end,
    /// then every batch header from there to the end (none after a clean shutdown, which writes
    /// a snapshot at the log end).
    static func loadProducerState(directory: String, segments: [LogSegment], activeSize: Int, logEnd: Int64) throws(StorageError) -> ProducerStateTable {
        let snapshot = try ProducerStateSnapshot.latest(in: directory, atOrBelow: logEnd)
        var table = snapshot?.table ?? ProducerStateTable()
        let from = snapshot?.offset ?? 0
        guard from < logEnd else { return table }
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            if !isLast && segments[index + 1].baseOffset <= from { continue }
            var scanner = BatchScanner(file: segment.log, from: 0, limit: isLast ? activeSize : segment.size, chunkSize: 1 << 16)
            scanning: while true {
                switch try scanner.nextHeader() {
                case .batch(let header, let batch):
                    guard header.lastOffset >= from, batch.producerId >= 0, !batch.isControlBatch else { continue }
                    table.record(
                        producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence,
                        lastSequence: batch.baseSequence &+ batch.lastOffsetDelta, firstOffset: batch.baseOffset,
                        lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp
                    )
                case .end, .invalid:
                    break scanning
                }
            }
        }
        return table
    }
}
