import BrookRecords
import NIOCore

/// Decides, batch by batch, what the log cleaner keeps of a compacted log, and re-encodes what
/// it keeps.
///
/// A record survives when:
///
/// - its offset is above the offset map's ``OffsetMap/latestOffset`` (the map did not reach it, so
///   nothing newer is known), or
/// - it has a key, its offset is at least the map's offset for that key (it is the latest value
///   seen), and it has a value or is a tombstone still inside its delete horizon.
///
/// Keyless records are dropped (a compacted topic refuses them at produce time, so only data
/// written before the topic became compacted has them).
///
/// Tombstones (null value) and the delete horizon (`delete.retention.ms`): a batch that has never
/// been cleaned has no horizon. The first cleaning that keeps a tombstone rewrites its batch with
/// `deleteHorizonMs = now + delete.retention.ms` (attributes bit 6; the horizon is stored as the
/// base timestamp). Tombstones of a batch with a horizon are kept while `now < horizon` and
/// dropped from then on, giving consumers `delete.retention.ms` to see every delete.
///
/// Output per batch (``Outcome``):
///
/// - every record kept and no horizon to add: ``Outcome/keepOriginal`` (the bytes are copied as
///   they are, no re-encoding);
/// - some records kept: ``Outcome/rewrite(_:)``, a new batch holding the kept records at their
///   original offsets, with the original base offset, last offset delta (so the producer's last
///   sequence number is unchanged), partition leader epoch, producer id, epoch, base sequence,
///   transactional flag, timestamp type and compression codec; maxTimestamp is recomputed from
///   the kept records (kept as it was for LogAppendTime);
/// - nothing kept, but the batch is the last one of a producer still tracked
///   (``Configuration/lastBatchOffsetByActiveProducer``): ``Outcome/keepEmptyHeader(_:)``, a
///   61-byte batch with zero records and the original offsets and producer fields, so that
///   idempotent and transactional producer state survives the cleaning;
/// - nothing kept otherwise: ``Outcome/discard``.
///
/// Transactions (``TransactionState``, which the cleaner learns from its `TransactionTracker`;
/// see `RecordFilter+Transactions.swift`): a batch of an aborted transaction keeps no record
/// (only the empty header of an active producer's last batch survives), and a COMMIT or ABORT
/// marker no data of whose transaction is left goes the way of a tombstone: the first cleaning
/// stamps its delete horizon, the first cleaning from the horizon on drops it. Other control
/// batches, and markers still needed, are kept as they are.
///
/// Pure and `Sendable`; the map is only read.
public enum RecordFilter {
    public struct Configuration: Sendable, Equatable {
        /// The cleaning's clock, compared with delete horizons.
        public var nowMs: Int64
        /// `delete.retention.ms`: how long tombstones outlive their first cleaning.
        public var deleteRetentionMs: Int64 = 86_400_000
        /// Producer id → last offset of that producer's last data batch, for the producers whose
        /// state must survive (from the producer state manager).
        public var lastBatchOffsetByActiveProducer: [Int64: Int64] = [:]
        /// Producer id → epoch, for the active producers the producer state knows only from a
        /// marker (no data batch): their marker of that epoch carries the epoch fencing needs
        /// and is kept whole even when obsolete.
        public var markerEpochByActiveProducer: [Int64: Int16] = [:]

        public init(
            nowMs: Int64,
            deleteRetentionMs: Int64 = 86_400_000,
            lastBatchOffsetByActiveProducer: [Int64: Int64] = [:],
            markerEpochByActiveProducer: [Int64: Int16] = [:]
        ) {
            self.nowMs = nowMs
            self.deleteRetentionMs = deleteRetentionMs
            self.lastBatchOffsetByActiveProducer = lastBatchOffsetByActiveProducer
            self.markerEpochByActiveProducer = markerEpochByActiveProducer
        }
    }

    /// What to write in place of a batch.
    public enum Outcome: Sendable, Equatable {
        /// Write the original batch bytes unchanged.
        case keepOriginal
        /// Write this batch instead (kept records, original offsets).
        case rewrite(ByteBuffer)
        /// Write this header-only batch (no records) to preserve producer state.
        case keepEmptyHeader(ByteBuffer)
        /// Write nothing.
        case discard
    }

    /// The decision for one batch and what it counted.
    public struct Result: Sendable, Equatable {
        public var outcome: Outcome
        /// Records decoded.
        public var recordsRead = 0
        /// Records kept.
        public var recordsRetained = 0
        /// Records dropped because a newer record has the same key.
        public var supersededRecords = 0
        /// Tombstones dropped because their delete horizon has passed.
        public var expiredTombstones = 0
        /// Records dropped because they have no key.
        public var keylessRecords = 0
        /// Records dropped because their transaction was aborted.
        public var abortedRecords = 0
        /// For an obsolete marker kept only until its delete horizon: that horizon (the log
        /// should be cleaned again from then on).
        public var markerDeleteHorizonMs: Int64?

        public init(outcome: Outcome) {
            self.outcome = outcome
        }
    }

    /// Filters one batch of the range being cleaned. Throws when the batch cannot be decoded or
    /// re-encoded; the cleaner then treats the log as uncleanable.
    ///
    /// - Parameter transaction: what the cleaner knows of the batch's transaction; the default
    ///   treats data as committed and keeps control batches.
    public static func filter(
        _ batch: RecordBatch,
        offsetMap: OffsetMap,
        configuration: Configuration,
        transaction: TransactionState = .notAborted
    ) throws(RecordBatchError) -> Result {
        if batch.isControlBatch {
            guard transaction == .obsoleteMarker else { return Result(outcome: .keepOriginal) }
            return try filterObsoleteMarker(batch, configuration: configuration)
        }
        if transaction == .aborted {
            return try filterAborted(batch, configuration: configuration)
        }

        var result = Result(outcome: .discard)
        let horizon = batch.deleteHorizonMs
        let tombstonesExpired = horizon.map { configuration.nowMs >= $0 } ?? false
        var retained: [Record] = []
        var keptTombstone = false

        var iterator = try batch.makeRecordIterator()
        while let record = try iterator.next() {
            result.recordsRead += 1
            if record.offset > offsetMap.latestOffset {
                retained.append(record)
                keptTombstone = keptTombstone || record.value == nil
                continue
            }
            guard let key = record.key else {
                result.keylessRecords += 1
                continue
            }
            if let latest = offsetMap.get(key: key), record.offset < latest {
                result.supersededRecords += 1
                continue
            }
            if record.value == nil {
                if tombstonesExpired {
                    result.expiredTombstones += 1
                    continue
                }
                keptTombstone = true
            }
            retained.append(record)
        }
        result.recordsRetained = retained.count

        if retained.isEmpty {
            if isLastBatchOfActiveProducer(batch, configuration: configuration) {
                result.outcome = .keepEmptyHeader(try emptyHeader(of: batch))
            }
            return result
        }

        let needsHorizon = keptTombstone && horizon == nil
        if retained.count == result.recordsRead && !needsHorizon {
            result.outcome = .keepOriginal
            return result
        }
        let newHorizon = needsHorizon ? addSaturating(configuration.nowMs, configuration.deleteRetentionMs) : horizon
        result.outcome = .rewrite(try rebuild(batch, keeping: retained, deleteHorizonMs: newHorizon))
        return result
    }

    /// A batch of `records` with `batch`'s header fields, original offsets and last offset delta.
    static func rebuild(
        _ batch: RecordBatch,
        keeping records: [Record],
        deleteHorizonMs: Int64?
    ) throws(RecordBatchError) -> ByteBuffer {
        var configuration = RecordBatchBuilder.Configuration(matching: batch)
        configuration.deleteHorizonMs = deleteHorizonMs
        // Without a horizon, timestamp deltas count from the first kept record, as a producer's would.
        configuration.baseTimestamp = nil
        configuration.maxTimestamp = batch.timestampType == .logAppendTime ? batch.maxTimestamp : nil
        var builder = RecordBatchBuilder(configuration: configuration)
        for record in records {
            try builder.append(record)
        }
        var bytes = try builder.build()
        overrideLastOffsetDelta(batch.lastOffsetDelta, in: &bytes)
        return bytes
    }

    /// A header-only batch with `batch`'s offsets and producer fields and no records.
    ///
    /// Layout: the 61-byte v2 header with recordCount 0, the original baseOffset and
    /// lastOffsetDelta, no compression, baseTimestamp -1, the original maxTimestamp and no
    /// delete horizon.
    static func emptyHeader(of batch: RecordBatch) throws(RecordBatchError) -> ByteBuffer {
        var configuration = RecordBatchBuilder.Configuration(matching: batch)
        configuration.compression = .none
        configuration.deleteHorizonMs = nil
        configuration.baseTimestamp = nil
        configuration.maxTimestamp = batch.maxTimestamp
        var bytes = try RecordBatchBuilder(configuration: configuration).build()
        overrideLastOffsetDelta(batch.lastOffsetDelta, in: &bytes)
        return bytes
    }

    /// Byte offset of lastOffsetDelta in a v2 batch header (see ``RecordBatch``'s layout).
    private static let lastOffsetDeltaField = 23

    /// Writes `delta` as the batch's lastOffsetDelta and recomputes the CRC.
    private static func overrideLastOffsetDelta(_ delta: Int32, in bytes: inout ByteBuffer) {
        let start = bytes.readerIndex
        bytes.setInteger(delta, at: start + lastOffsetDeltaField)
        RecordBatch.updateChecksum(ofBatchAt: start, size: bytes.readableBytes, in: &bytes)
    }

    /// Whether `batch` is the last data batch of a producer whose state must survive.
    static func isLastBatchOfActiveProducer(_ batch: RecordBatch, configuration: Configuration) -> Bool {
        batch.hasProducerId && configuration.lastBatchOffsetByActiveProducer[batch.producerId] == batch.lastOffset
    }

    static func addSaturating(_ lhs: Int64, _ rhs: Int64) -> Int64 {
        let (sum, overflow) = lhs.addingReportingOverflow(rhs)
        return overflow ? (rhs > 0 ? .max : .min) : sum
    }
}
