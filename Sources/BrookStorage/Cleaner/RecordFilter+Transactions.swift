import BrookRecords
import NIOCore

extension RecordFilter {
    /// What the cleaner knows of a batch's transaction, from `TransactionTracker`.
    public enum TransactionState: Sendable, Equatable {
        /// A data batch that is not transactional or belongs to a committed transaction (filtered
        /// by key), or a control batch that must stay (kept as it is).
        case notAborted
        /// A data batch of an aborted transaction: none of its records is kept.
        case aborted
        /// A COMMIT or ABORT marker no batch of whose transaction is left in the log.
        case obsoleteMarker
    }

    /// An aborted batch keeps no record. It survives only as the empty header of an active
    /// producer's last batch (whose sequence and epoch producer state needs), so that, as with
    /// Kafka, its transaction's marker is then still needed too.
    static func filterAborted(_ batch: RecordBatch, configuration: Configuration) throws(RecordBatchError) -> Result {
        var result = Result(outcome: .discard)
        result.recordsRead = Int(batch.recordCount)
        result.abortedRecords = result.recordsRead
        if isLastBatchOfActiveProducer(batch, configuration: configuration) {
            result.outcome = .keepEmptyHeader(try emptyHeader(of: batch))
        }
        return result
    }

    /// An obsolete marker, like a tombstone, outlives its first cleaning by `delete.retention.ms`
    /// so that a consumer part-way through the log still sees its transaction end:
    ///
    /// - the marker of an active producer known only from markers, of its current epoch, is kept
    ///   as it is (it holds the epoch fencing needs; it gets its horizon once the producer has
    ///   written data again or expired);
    /// - without a delete horizon: rewritten with `deleteHorizonMs = now + delete.retention.ms`
    ///   (attributes bit 6, horizon as the base timestamp; record, offsets and producer fields
    ///   unchanged);
    /// - before its horizon: kept as it is;
    /// - from its horizon on: dropped.
    ///
    /// ``Result/markerDeleteHorizonMs`` reports the horizon while the marker waits for it.
    static func filterObsoleteMarker(_ batch: RecordBatch, configuration: Configuration) throws(RecordBatchError) -> Result {
        var result = Result(outcome: .keepOriginal)
        if batch.hasProducerId, configuration.markerEpochByActiveProducer[batch.producerId] == batch.producerEpoch {
            return result
        }
        guard let horizon = batch.deleteHorizonMs else {
            let horizon = addSaturating(configuration.nowMs, configuration.deleteRetentionMs)
            var records: [Record] = []
            var iterator = try batch.makeRecordIterator()
            while let record = try iterator.next() {
                records.append(record)
            }
            result.outcome = .rewrite(try rebuild(batch, keeping: records, deleteHorizonMs: horizon))
            result.markerDeleteHorizonMs = horizon
            return result
        }
        if configuration.nowMs < horizon {
            result.markerDeleteHorizonMs = horizon
        } else {
            result.outcome = .discard
        }
        return result
    }
}

extension RecordFilter.Configuration {
    /// Fills ``lastBatchOffsetByActiveProducer`` and ``markerEpochByActiveProducer`` from the
    /// log's producer state (every producer it still tracks counts as active, as in Kafka).
    mutating func keepProducerState(of producers: ProducerStateTable) {
        for (producerId, entry) in producers.entries {
            if let last = entry.batches.last {
                lastBatchOffsetByActiveProducer[producerId] = last.lastOffset
            } else {
                markerEpochByActiveProducer[producerId] = entry.epoch
            }
        }
    }
}
