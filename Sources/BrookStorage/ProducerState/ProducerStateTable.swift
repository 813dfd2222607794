/// The idempotent-producer state of one partition: for each producer id, its epoch and the
/// sequence ranges and offsets of its last five batches (Kafka's ProducerStateManager).
///
/// Leader appends consult it before writing: a batch whose sequence range matches one of the
/// last five is a retry and is answered with the original offsets instead of being written
/// again; a gap in the sequence or an older epoch is refused.
///
/// It also tracks transactions: a producer's first transactional batch opens one at its first
/// offset (``Entry/currentTxnFirstOffset``), and a COMMIT or ABORT marker from the coordinator
/// closes it (see `ProducerStateTable+Transactions.swift`). The smallest open first offset is
/// the log's first unstable offset, which bounds the last stable offset.
///
/// Value type, owned by the log under its write lock.
public struct ProducerStateTable: Sendable, Equatable {
    /// One appended batch of a producer.
    public struct BatchRecord: Sendable, Equatable {
        public var firstSequence: Int32
        public var lastSequence: Int32
        public var firstOffset: Int64
        public var lastOffset: Int64
        public var maxTimestamp: Int64
    }

    /// A producer's epoch and recent batches, oldest first.
    public struct Entry: Sendable, Equatable {
        public var producerId: Int64
        public var epoch: Int16
        public var batches: [BatchRecord]
        /// The largest batch timestamp seen, for `producer.id.expiration.ms`.
        public var lastTimestamp: Int64
        /// The first offset of the producer's open transaction, nil when none is open.
        public var currentTxnFirstOffset: Int64? = nil
        /// The epoch of the transaction coordinator that wrote the producer's last marker (-1: none).
        public var coordinatorEpoch: Int32 = -1

        public var lastSequence: Int32 { batches.last?.lastSequence ?? -1 }
    }

    /// How many batches per producer are remembered for duplicate detection (Kafka's 5, which is
    /// also the largest `max.in.flight.requests.per.connection` idempotence allows).
    public static let batchesRemembered = 5

    public private(set) var entries: [Int64: Entry] = [:]
    /// First offsets of the open transactions, by producer id (mirrors the entries).
    public internal(set) var ongoingTransactions: [Int64: Int64] = [:]

    public init() {}

    /// What to do with a producer's batch.
    public enum Verdict: Sendable, Equatable {
        /// A new batch in sequence: append it.
        case append
        /// A retry of a batch already in the log: answer with its offsets, write nothing.
        case duplicate(BatchRecord)
    }

    /// Checks a leader append of a batch of `producerId` at `epoch` covering sequences
    /// `firstSequence...lastSequence` (Kafka's rules: an older epoch is fenced; a new epoch must
    /// start at sequence 0; within an epoch the next batch must follow the last one, wrapping
    /// after Int32.max; a producer with no known sequence — never seen, expired, or with only
    /// markers left — must start at 0 too, else UNKNOWN_PRODUCER_ID, so that it can reset (KIP-360)).
    public func check(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32) throws(StorageError) -> Verdict {
        try checkEpoch(producerId: producerId, epoch: epoch)
        guard let entry = entries[producerId] else {
            guard firstSequence == 0 else { throw .unknownProducerId(producerId: producerId, sequence: firstSequence) }
            return .append
        }
        if epoch == entry.epoch,
           let duplicate = entry.batches.first(where: { $0.firstSequence == firstSequence && $0.lastSequence == lastSequence }) {
            return .duplicate(duplicate)
        }
        if epoch != entry.epoch {
            guard firstSequence == 0 else {
                throw .outOfOrderSequence(producerId: producerId, sequence: firstSequence, expected: 0)
            }
            return .append
        }
        let last = entry.lastSequence
        if last < 0 && firstSequence != 0 {
            throw .unknownProducerId(producerId: producerId, sequence: firstSequence)
        }
        let expected = last == Int32.max ? 0 : last + 1
        guard firstSequence == expected || last < 0 else {
            throw .outOfOrderSequence(producerId: producerId, sequence: firstSequence, expected: expected)
        }
        return .append
    }

    /// Checks only the epoch of a batch of `producerId`: an epoch older than the table's is
    /// fenced. This is all a coordinator's own append is checked for (it carries no sequence).
    public func checkEpoch(producerId: Int64, epoch: Int16) throws(StorageError) {
        guard let entry = entries[producerId], epoch < entry.epoch else { return }
        throw .invalidProducerEpoch(producerId: producerId, epoch: epoch, current: entry.epoch)
    }

    /// Records an appended batch (leader, follower or recovery: no checks). A transactional
    /// batch opens a transaction at `firstOffset` unless the producer has one open.
    public mutating func record(
        producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32,
        firstOffset: Int64, lastOffset: Int64, maxTimestamp: Int64, isTransactional: Bool = false
    ) {
        var entry = entries[producerId] ?? Entry(producerId: producerId, epoch: epoch, batches: [], lastTimestamp: maxTimestamp)
        if epoch != entry.epoch {
            entry.epoch = epoch
            entry.batches = []
        }
        entry.batches.append(BatchRecord(
            firstSequence: firstSequence, lastSequence: lastSequence, firstOffset: firstOffset, lastOffset: lastOffset,
            maxTimestamp: maxTimestamp
        ))
        if entry.batches.count > Self.batchesRemembered { entry.batches.removeFirst(entry.batches.count - Self.batchesRemembered) }
        entry.lastTimestamp = max(entry.lastTimestamp, maxTimestamp)
        if isTransactional && entry.currentTxnFirstOffset == nil {
            entry.currentTxnFirstOffset = firstOffset
        }
        update(entry)
    }

    /// Stores `entry` and keeps ``ongoingTransactions`` in step with it.
    mutating func update(_ entry: Entry) {
        entries[entry.producerId] = entry
        ongoingTransactions[entry.producerId] = entry.currentTxnFirstOffset
    }

    /// Restores an entry from a snapshot.
    mutating func restore(_ entry: Entry) {
        update(entry)
    }

    /// Forgets producers not heard from since `cutoff` (`producer.id.expiration.ms`), except
    /// those with an open transaction; returns how many.
    @discardableResult
    public mutating func removeExpired(before cutoff: Int64) -> Int {
        let expired = entries.values.filter { $0.lastTimestamp < cutoff && $0.currentTxnFirstOffset == nil }.map(\.producerId)
        for id in expired { entries[id] = nil }
        return expired.count
    }
}
