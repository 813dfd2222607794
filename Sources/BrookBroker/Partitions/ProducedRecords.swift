import BrookModel
import BrookRecords
import BrookStorage
import NIOCore

/// The steps of a leader append that need a producer's records, which the log leaves to the
/// broker (Kafka's LogValidator, for what the log does not do): a legacy message set becomes one
/// v2 batch, every record of a compacted topic must have a key, and batches are re-encoded to the
/// topic's `compression.type` unless it is `producer`.
///
/// Records are decoded only when a step needs them. When the topic is not compacted and every
/// batch already uses the topic's codec, the request's bytes pass through untouched (no copy);
/// otherwise batches in the right codec are copied as they are and the others re-encoded. A
/// batch that is decoded is validated first (framing, CRC, record count), so that a new CRC
/// never vouches for corrupt bytes; the log validates the rest. Control batches are neither
/// checked nor re-encoded (the log refuses them from clients).
enum ProducedRecords {
    /// How a Produce request carries its records.
    enum Format: Sendable, Equatable {
        /// v2 record batches (Produce v3+).
        case recordBatches
        /// A magic 0/1 message set (Produce v0-2), converted to one v2 batch.
        case messageSet
    }

    /// The batches to append for `records`, or the reason to refuse them all.
    static func prepare(
        _ records: ByteBuffer, format: Format, config: LogConfig, partition: TopicPartition
    ) throws(LeaderAppendError) -> ByteBuffer {
        let codec = config.storedCompression
        let batches = format == .messageSet ? try upConverted(records, codec: codec, config: config) : records
        guard config.isCompacted || codec != nil else { return batches }
        return try checkedAndReencoded(batches, codec: codec, config: config, partition: partition)
    }

    /// Converts a legacy message set, straight into the topic's codec when it has one. A v2
    /// batch in a legacy request is refused (Kafka: CORRUPT_MESSAGE).
    private static func upConverted(_ records: ByteBuffer, codec: CompressionCodec?, config: LogConfig) throws(LeaderAppendError) -> ByteBuffer {
        if let magic = MessageSetReader.magic(of: records), magic >= 2 {
            throw .messageSet(.invalidMagic(magic))
        }
        do {
            return try MessageSetConverter.convertToV2(
                records, compression: codec, compressionLevel: codec.flatMap { config.compressionLevel(for: $0) })
        } catch {
            throw .messageSet(error)
        }
    }

    /// Checks the keys of a compacted topic's records and re-encodes batches whose codec is not
    /// `codec` (nil keeps every codec). Stops at the first batch with record errors.
    private static func checkedAndReencoded(
        _ records: ByteBuffer, codec: CompressionCodec?, config: LogConfig, partition: TopicPartition
    ) throws(LeaderAppendError) -> ByteBuffer {
        var reader = RecordBatchReader(records)
        var output: ByteBuffer?
        var copiedUpTo = records.readerIndex
        while true {
            let start = reader.position
            let next: RecordBatch?
            do throws(RecordBatchError) { next = try reader.next() } catch { throw .storage(.invalidRecords(error)) }
            guard let batch = next else { break }
            let target = codec.flatMap { batch.compression == $0 ? nil : $0 }
            guard !batch.isControlBatch, config.isCompacted || target != nil else { continue }
            guard batch.sizeInBytes <= config.maxMessageBytes else {
                throw .storage(.recordTooLarge(size: batch.sizeInBytes, limit: config.maxMessageBytes))
            }
            let (plain, withoutKey) = try decoded(batch)
            if config.isCompacted && !withoutKey.isEmpty {
                throw .invalidRecords(withoutKey.map {
                    .init(batchIndex: $0, message: "Compacted topic cannot accept message without key in topic partition \(partition)")
                })
            }
            guard let target else { continue }
            let reencoded: RecordBatch
            do throws(RecordBatchError) {
                reencoded = try batch.recompressed(to: target, level: config.compressionLevel(for: target), uncompressedRecords: plain)
            } catch {
                throw .storage(.invalidRecords(error))
            }
            // The batches before this one are copied as they are; this one is replaced.
            var buffer = output ?? ByteBufferAllocator().buffer(capacity: records.readableBytes)
            output = nil  // keeps `buffer` uniquely referenced: writes do not copy it
            buffer.writeImmutableBuffer(records.getSlice(at: copiedUpTo, length: start - copiedUpTo)!)
            buffer.writeImmutableBuffer(reencoded.bytes)
            output = buffer
            copiedUpTo = reader.position
        }
        guard var output else { return records }
        output.writeImmutableBuffer(records.getSlice(at: copiedUpTo, length: records.writerIndex - copiedUpTo)!)
        return output
    }

    /// Validates one batch (CRC included), decompresses its records once and walks them: the
    /// plain records section and the positions of the records without a key.
    private static func decoded(_ batch: RecordBatch) throws(LeaderAppendError) -> (plain: ByteBuffer, withoutKey: [Int]) {
        do throws(RecordBatchError) {
            try batch.validateAsProduced()
            let plain = try batch.uncompressedRecordsSection()
            return (plain, try batch.indexesOfRecordsWithoutKey(uncompressedRecords: plain))
        } catch {
            throw .storage(.invalidRecords(error))
        }
    }
}
