import BrookRecords
import NIOCore

/// Drops the batches of aborted transactions from a READ_COMMITTED fetch, as Kafka's consumers
/// do: the response lists each aborted transaction by producer id and first offset; walking the
/// batches in offset order, a producer's transactional batches are skipped from its aborted
/// transaction's first offset until its ABORT marker. Control batches are never records.
struct AbortedTransactionFilter {
    /// Aborted transactions not reached yet, by descending first offset (the next one last).
    private var pending: [(producerId: Int64, firstOffset: Int64)]
    /// Producers inside an aborted transaction at the current position.
    private var aborting: Set<Int64> = []

    init(abortedTransactions: [(producerId: Int64, firstOffset: Int64)]) {
        pending = abortedTransactions.sorted { $0.firstOffset > $1.firstOffset }
    }

    /// Whether `batch`'s records are to be handed out.
    mutating func keeps(_ batch: RecordBatch) -> Bool {
        while let next = pending.last, next.firstOffset <= batch.lastOffset {
            pending.removeLast()
            aborting.insert(next.producerId)
        }
        if batch.isControlBatch {
            if let marker = try? batch.records().first, let key = marker.key, key.readableBytes >= 4,
               key.getInteger(at: key.readerIndex + 2, as: Int16.self) == 0 {
                aborting.remove(batch.producerId)
            }
            return false
        }
        return !(batch.isTransactional && aborting.contains(batch.producerId))
    }
}
