import NIOCore

/// Writes legacy message sets (magic 0 and 1): single messages, compressed wrappers, and the
/// down-conversion of v2 batches for fetch versions that predate them.
public enum MessageSetWriter {
    /// Appends one uncompressed-or-wrapper message with its CRC-32.
    public static func write(
        offset: Int64, magic: Int8, attributes: Int8 = 0, timestamp: Int64 = -1,
        key: ByteBuffer?, value: ByteBuffer?, to output: inout ByteBuffer
    ) {
        let start = output.writerIndex
        output.writeInteger(offset)
        output.writeInteger(Int32(0))  // size, filled in below
        output.writeInteger(UInt32(0))  // crc, filled in below
        output.writeInteger(magic)
        output.writeInteger(attributes)
        if magic >= 1 { output.writeInteger(timestamp) }
        writeNullable(key, to: &output)
        writeNullable(value, to: &output)
        let size = output.writerIndex - start - LegacyMessage.logOverhead
        output.setInteger(Int32(size), at: start + 8)
        let covered = output.getSlice(at: start + 16, length: size - 4)!
        output.setInteger(CRC32.checksum(covered), at: start + 12)
    }

    /// Appends a compressed wrapper message whose value is `inner` (a message set) compressed
    /// with `codec`. For magic 1, `offset` should be the absolute offset of the last inner
    /// message and inner offsets relative (0, 1, ...), as Kafka writes them.
    public static func writeWrapper(
        offset: Int64, magic: Int8, codec: CompressionCodec, timestamp: Int64 = -1,
        logAppendTime: Bool = false, inner: ByteBuffer, to output: inout ByteBuffer
    ) throws(CompressionError) {
        let compressed = try codec.compress(inner)
        let attributes = Int8(codec.rawValue) | (magic >= 1 && logAppendTime ? 0x8 : 0)
        write(offset: offset, magic: magic, attributes: attributes, timestamp: timestamp, key: nil, value: compressed, to: &output)
    }

    /// Down-converts the v2 batches in `batches` to an uncompressed message set of `magic` 0 or 1
    /// with absolute offsets: headers and producer/transaction fields are dropped, control
    /// batches skipped, and records below `fromOffset` left out. A truncated trailing batch is
    /// ignored.
    public static func downConvert(
        _ batches: ByteBuffer, toMagic magic: Int8, fromOffset: Int64 = 0,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws(MessageSetError) -> ByteBuffer {
        guard magic == 0 || magic == 1 else { throw .invalidMagic(magic) }
        var output = ByteBuffer()
        do {
            for batch in try RecordBatchReader.batches(in: batches, allowsTruncatedTail: true) {
                guard batch.magic == RecordBatch.currentMagic else { throw RecordBatchError.invalidMagic(batch.magic) }
                if batch.isControlBatch || batch.lastOffset < fromOffset { continue }
                let logAppendTime = batch.timestampType == .logAppendTime
                for record in try batch.records(maxDecompressedBytes: maxDecompressedBytes) where record.offset >= fromOffset {
                    write(
                        offset: record.offset, magic: magic,
                        attributes: magic >= 1 && logAppendTime ? 0x8 : 0,
                        timestamp: magic >= 1 ? record.timestamp : -1,
                        key: record.key, value: record.value, to: &output)
                }
            }
        } catch let error as RecordBatchError {
            throw .conversionFailed(error)
        } catch {
            throw .conversionFailed(.corruptRecord(reason: "\(error)"))
        }
        return output
    }

    private static func writeNullable(_ buffer: ByteBuffer?, to output: inout ByteBuffer) {
        guard let buffer else {
            output.writeInteger(Int32(-1))
            return
        }
        output.writeInteger(Int32(buffer.readableBytes))
        output.writeImmutableBuffer(buffer)
    }
}
