import BrookModel
import BrookRecords
import NIOCore

/// Checks the batches of an append and prepares what will be written, before the partition's
/// write lock is taken: everything here is per batch (framing, CRC, size, timestamps, one 61-byte
/// header copy), never per record, and a request with one bad batch is rejected whole.
enum AppendPreparation {
    /// A producer's (or the coordinator's) batches: ``RecordBatch/validateAsProduced()``,
    /// `max.message.bytes`, no control batches from clients, CreateTime timestamps within
    /// `message.timestamp.before/after.max.ms` (checked on each batch's baseTimestamp and
    /// maxTimestamp). The replacement headers carry `leaderEpoch` and, for LogAppendTime, the
    /// timestamp-type bit, maxTimestamp = `now` and the recomputed CRC. Base offsets are assigned
    /// later, under the lock.
    static func leader(
        _ records: ByteBuffer,
        leaderEpoch: LeaderEpoch,
        config: LogConfig,
        now: Int64,
        origin: AppendOrigin
    ) throws(StorageError) -> AppendBatches {
        let headerSize = RecordBatch.headerSize
        var batches: [AppendBatches.Batch] = []
        var headers: [UInt8] = []
        var reader = RecordBatchReader(records)
        while true {
            let start = reader.position - records.readerIndex
            let next: RecordBatch?
            do throws(RecordBatchError) {
                next = try reader.next()
                try next?.validateAsProduced()
            } catch {
                throw .invalidRecords(error)
            }
            guard let batch = next else { break }
            guard batch.sizeInBytes <= config.maxMessageBytes else {
                throw .recordTooLarge(size: batch.sizeInBytes, limit: config.maxMessageBytes)
            }
            if batch.isControlBatch && origin == .client {
                throw .invalidBatch(reason: "clients may not send control batches")
            }
            let marker = batch.isControlBatch ? try TransactionMarker.read(batch) : nil
            if marker != nil && (batch.recordCount != 1 || batch.producerId < 0) {
                throw .invalidBatch(reason: "a transaction marker batch holds one record and a producer id")
            }
            let logAppendTime = config.messageTimestampType == .logAppendTime
            if !logAppendTime {
                try checkTimestamp(batch.maxTimestamp, now: now, config: config)
                try checkTimestamp(batch.baseTimestamp, now: now, config: config)
            }

            let at = headers.count
            batch.bytes.withUnsafeReadableBytes { raw in
                headers.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<headerSize]))
            }
            headers.withUnsafeMutableBytes { raw in
                let header = UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + headerSize)])
                header.storeBigEndian(leaderEpoch.rawValue, at: 12)
                guard logAppendTime else { return }
                var attributes = RecordBatchAttributes(rawValue: UnsafeRawBufferPointer(header).loadBigEndian(at: 21))
                attributes.timestampType = .logAppendTime
                header.storeBigEndian(attributes.rawValue, at: 21)
                header.storeBigEndian(now, at: 35)
                var crc = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: header[21..<headerSize]))
                batch.bytes.withUnsafeReadableBytes { body in
                    crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: body[headerSize...]))
                }
                header.storeBigEndian(crc, at: 17)
            }
            batches.append(
                AppendBatches.Batch(
                    start: start, size: batch.sizeInBytes, baseOffset: 0, lastOffsetDelta: batch.lastOffsetDelta,
                    maxTimestamp: logAppendTime ? now : batch.maxTimestamp, partitionLeaderEpoch: leaderEpoch.rawValue,
                    recordCount: batch.recordCount, producerId: batch.producerId, producerEpoch: batch.producerEpoch,
                    baseSequence: batch.baseSequence, isControl: batch.isControlBatch,
                    isTransactional: batch.isTransactional, marker: marker))
        }
        return AppendBatches(buffer: records, batches: batches, headers: headers)
    }

    /// A replica's batches, copied from the leader with their offsets: ``RecordBatch/validate()``
    /// (compacted batches may have offset gaps), `max.message.bytes`, and offsets that increase
    /// through the request. Written unchanged.
    static func follower(_ records: ByteBuffer, config: LogConfig) throws(StorageError) -> AppendBatches {
        var batches: [AppendBatches.Batch] = []
        var reader = RecordBatchReader(records)
        var expected = Int64.min
        while true {
            let start = reader.position - records.readerIndex
            let next: RecordBatch?
            do throws(RecordBatchError) {
                next = try reader.next()
                try next?.validate()
            } catch {
                throw .invalidRecords(error)
            }
            guard let batch = next else { break }
            guard batch.sizeInBytes <= config.maxMessageBytes else {
                throw .recordTooLarge(size: batch.sizeInBytes, limit: config.maxMessageBytes)
            }
            guard batch.baseOffset >= expected, batch.baseOffset >= 0 else {
                throw .invalidBatch(reason: "batch offset \(batch.baseOffset) does not follow \(expected - 1)")
            }
            expected = batch.nextOffset
            batches.append(
                AppendBatches.Batch(
                    start: start, size: batch.sizeInBytes, baseOffset: batch.baseOffset,
                    lastOffsetDelta: batch.lastOffsetDelta, maxTimestamp: batch.maxTimestamp,
                    partitionLeaderEpoch: batch.partitionLeaderEpoch, recordCount: batch.recordCount,
                    producerId: batch.producerId, producerEpoch: batch.producerEpoch, baseSequence: batch.baseSequence,
                    isControl: batch.isControlBatch, isTransactional: batch.isTransactional,
                    marker: batch.isControlBatch ? try TransactionMarker.read(batch) : nil))
        }
        return AppendBatches(buffer: records, batches: batches, headers: nil)
    }

    /// Kafka's CreateTime bounds; records without a timestamp (-1) are not checked.
    private static func checkTimestamp(_ timestamp: Int64, now: Int64, config: LogConfig) throws(StorageError) {
        guard timestamp >= 0 else { return }
        let (ahead, aheadOverflow) = timestamp.subtractingReportingOverflow(now)
        if aheadOverflow || ahead > config.messageTimestampAfterMaxMs {
            throw .invalidTimestamp(
                timestamp: timestamp, now: now,
                reason: "more than message.timestamp.after.max.ms (\(config.messageTimestampAfterMaxMs)) in the future")
        }
        let (behind, behindOverflow) = now.subtractingReportingOverflow(timestamp)
        if behindOverflow || behind > config.messageTimestampBeforeMaxMs {
            throw .invalidTimestamp(
                timestamp: timestamp, now: now,
                reason: "more than message.timestamp.before.max.ms (\(config.messageTimestampBeforeMaxMs)) in the past")
        }
    }
}
