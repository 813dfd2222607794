import BrookModel
import BrookRecords
import NIOCore

@testable import BrookStorage

/// Writes transactions into a log as a partition leader sees them: transactional batches from
/// producers (client appends, sequences in order) and COMMIT/ABORT markers from the coordinator.
struct TransactionWriter {
    let log: PartitionLog
    let clock: ManualLogClock
    private var sequences: [Int64: Int32] = [:]

    init(_ log: PartitionLog, clock: ManualLogClock) {
        self.log = log
        self.clock = clock
    }

    /// One transactional batch of `producer` (nil value = tombstone); returns its first offset.
    /// A producer the log has no sequence for (never seen, expired, only markers) starts again
    /// at sequence 0.
    @discardableResult
    mutating func write(_ producer: Int64, _ entries: [(key: String, value: String?)]) throws -> Int64 {
        let known = log.producerState.entries[producer].map { !$0.batches.isEmpty } ?? false
        let sequence = known ? sequences[producer] ?? 0 : 0
        var builder = RecordBatchBuilder(configuration: .init(
            producerId: producer, producerEpoch: 0, baseSequence: sequence, isTransactional: true))
        for entry in entries {
            builder.append(
                timestamp: clock.nowMilliseconds(), key: CleanerFixtures.buffer(entry.key),
                value: entry.value.map(CleanerFixtures.buffer))
        }
        sequences[producer] = sequence + Int32(entries.count)
        return try log.append(try builder.build(), leaderEpoch: LeaderEpoch(0)).firstOffset
    }

    /// The coordinator's marker ending `producer`'s transaction; returns its offset.
    @discardableResult
    func end(_ producer: Int64, commit: Bool) throws -> Int64 {
        let marker = try RecordBatchBuilder.endTransactionMarkerBatch(
            commit ? .commit : .abort, producerId: producer, producerEpoch: 0, coordinatorEpoch: 0,
            timestamp: clock.nowMilliseconds())
        return try log.append(marker, leaderEpoch: LeaderEpoch(0), origin: .coordinator).firstOffset
    }

    /// A plain (non-transactional, producer-less) write; returns its offset.
    @discardableResult
    func plain(_ entries: [(key: String, value: String?)]) throws -> Int64 {
        try CleaningFixtures.append(log, entries, timestamp: clock.nowMilliseconds()).firstOffset
    }

    /// Distinct filler keys that roll segments and push what came before out of the active one.
    func fill(_ count: Int, tag: String = "filler") throws {
        for index in 0..<count {
            try plain([("\(tag)\(index)", "x")])
        }
    }
}

/// What consumers see of a log after cleaning.
enum TransactionViews {
    /// A marker as it stands in the log.
    struct Marker: Equatable, CustomStringConvertible {
        var offset: Int64
        var producerId: Int64
        var isAbort: Bool
        var deleteHorizonMs: Int64?
        var description: String { "\(offset):\(isAbort ? "ABORT" : "COMMIT")(\(producerId))\(deleteHorizonMs.map { " until \($0)" } ?? "")" }
    }

    /// Every COMMIT/ABORT marker of the log.
    static func markers(_ log: PartitionLog) throws -> [Marker] {
        try LogFixtures.allBatches(log).filter(\.isControlBatch).compactMap { batch in
            guard let marker = try TransactionMarker.read(batch) else { return nil }
            return Marker(offset: batch.baseOffset, producerId: batch.producerId, isAbort: marker.isAbort, deleteHorizonMs: batch.deleteHorizonMs)
        }
    }

    /// Every data record (no control records), as a READ_UNCOMMITTED consumer reads them.
    static func uncommitted(_ log: PartitionLog) throws -> [CleaningFixtures.Seen] {
        try records(LogFixtures.allBatches(log).filter { !$0.isControlBatch })
    }

    /// The data records a READ_COMMITTED consumer reading from the log start gets, filtered as
    /// Kafka's consumer filters them: batches up to the last stable offset; the aborted
    /// transactions the log reports for that range become current at their first offset, a
    /// current producer's transactional batches are skipped, and its ABORT marker ends it.
    static func committed(_ log: PartitionLog) throws -> [CleaningFixtures.Seen] {
        let stable = log.lastStableOffset(highWatermark: log.logEndOffset)
        var pending = log.abortedTransactions(from: log.logStartOffset, to: stable).sorted { $0.firstOffset < $1.firstOffset }[...]
        var abortedProducers: Set<Int64> = []
        var visible: [RecordBatch] = []
        for batch in try LogFixtures.allBatches(log) where batch.lastOffset < stable {
            while let next = pending.first, next.firstOffset <= batch.lastOffset {
                abortedProducers.insert(next.producerId)
                pending = pending.dropFirst()
            }
            if batch.isControlBatch {
                if let marker = try TransactionMarker.read(batch), marker.isAbort { abortedProducers.remove(batch.producerId) }
            } else if !(batch.isTransactional && abortedProducers.contains(batch.producerId)) {
                visible.append(batch)
            }
        }
        return try records(visible)
    }

    /// The last value per key of `records` (offset order); nil values are tombstones.
    static func latest(_ records: [CleaningFixtures.Seen]) -> [String: String?] {
        var latest: [String: String?] = [:]
        for record in records {
            if let key = record.key { latest[key] = .some(record.value) }
        }
        return latest
    }

    private static func records(_ batches: [RecordBatch]) throws -> [CleaningFixtures.Seen] {
        var seen: [CleaningFixtures.Seen] = []
        for batch in batches {
            for record in try batch.records() {
                seen.append(.init(offset: record.offset, key: CleanerFixtures.string(record.key), value: CleanerFixtures.string(record.value)))
            }
        }
        return seen
    }
}
