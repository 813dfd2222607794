import BrookRecords

/// Follows the transactions of a log while the cleaner walks its batches in offset order, to tell
/// which data batches belong to aborted transactions and which COMMIT/ABORT markers are no longer
/// needed (Kafka's cleaner keeps the same state between the batches it reads).
///
/// Input: the aborted transactions overlapping the walked range (``PartitionLog/abortedTransactions(from:to:)``),
/// each with its producer id, first offset and marker offset. An entry lives in the transaction
/// index of the segment holding its marker, which may come after the walked range: a transaction
/// can span segments.
///
/// Rules, for batches fed in offset order (``onDataBatch(_:)``, ``onControlBatch(_:)``):
///
/// - **Aborted data**: a transactional data batch of producer P is aborted iff an aborted
///   transaction of P has `firstOffset <= batch.lastOffset` and `batch.baseOffset <= lastOffset`
///   (a producer's transactions never overlap, so at most one entry of P is current at a time).
///   Everything else, non-transactional batches included, counts as committed. This holds only
///   below the last stable offset: past it a transaction may still be open (the cleaner never
///   goes there).
/// - **Obsolete markers**: a COMMIT or ABORT marker of P is obsolete when no transactional data
///   batch of P was fed since P's previous marker (or the start of the walk), empty headers kept
///   for producer state included: nothing of its transaction is left in the walked log. The walk
///   must therefore start at the log's first segment for marker verdicts to mean anything; a walk
///   starting later (the offset map's) only uses the aborted verdicts. A control batch without
///   records (an already-emptied marker, which Kafka's cleaner writes and Brook never does) is
///   obsolete; a control batch of another type is never.
///
/// Cost: one sort of the entries, then amortized constant time per batch; memory is a dictionary
/// entry per producer with a current aborted transaction and a set entry per producer with
/// unmarked data. Nothing per record. Plain value, owned by one cleaning.
struct TransactionTracker {
    /// What the tracker says of a control batch.
    struct MarkerVerdict: Equatable {
        /// No batch of the marker's transaction was fed: the marker may go once its delete
        /// horizon has passed.
        var isObsolete: Bool
        /// For an ABORT marker, the aborted transaction it closes (its transaction index entry),
        /// when one was given.
        var abortedTransaction: AbortedTransaction?
    }

    /// The aborted transactions not yet reached, by descending first offset (the next one last).
    private var pending: [AbortedTransaction]
    /// Producer id → its latest aborted transaction whose first offset was reached.
    private var current: [Int64: AbortedTransaction] = [:]
    /// Producers with a transactional data batch fed since their last marker.
    private var unmarked: Set<Int64> = []

    init(abortedTransactions: [AbortedTransaction]) {
        pending = abortedTransactions.sorted {
            ($0.firstOffset, $0.lastOffset) > ($1.firstOffset, $1.lastOffset)
        }
    }

    /// Feeds a data batch; returns whether it belongs to an aborted transaction.
    mutating func onDataBatch(_ batch: RecordBatch) -> Bool {
        reach(batch.lastOffset)
        guard batch.isTransactional, batch.hasProducerId else { return false }
        unmarked.insert(batch.producerId)
        guard let transaction = current[batch.producerId] else { return false }
        return batch.baseOffset <= transaction.lastOffset
    }

    /// Feeds a control batch; throws when a transaction marker cannot be decoded.
    mutating func onControlBatch(_ batch: RecordBatch) throws(StorageError) -> MarkerVerdict {
        reach(batch.lastOffset)
        guard batch.recordCount > 0 else { return MarkerVerdict(isObsolete: true) }
        guard let marker = try TransactionMarker.read(batch) else { return MarkerVerdict(isObsolete: false) }
        let hadData = unmarked.remove(batch.producerId) != nil
        var closed: AbortedTransaction?
        if marker.isAbort, let transaction = current[batch.producerId], transaction.lastOffset == batch.baseOffset {
            closed = transaction
            current[batch.producerId] = nil
        }
        return MarkerVerdict(isObsolete: !hadData, abortedTransaction: closed)
    }

    /// Makes current the aborted transactions starting at or before `offset`.
    private mutating func reach(_ offset: Int64) {
        while let next = pending.last, next.firstOffset <= offset {
            pending.removeLast()
            if let known = current[next.producerId], known.lastOffset > next.lastOffset { continue }
            current[next.producerId] = next
        }
    }
}
