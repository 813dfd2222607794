import NIOCore

/// Re-encoding a batch with another codec, as a broker does when a topic's `compression.type`
/// names a codec other than the producer's.
///
/// The records move byte for byte: each keeps its offset delta, timestamp delta, key, value and
/// headers. Only the records section is re-encoded; in the header, the codec bits of the
/// attributes, batchLength and the CRC change. Every other field (baseOffset,
/// partitionLeaderEpoch, the other attribute bits, lastOffsetDelta, baseTimestamp, maxTimestamp,
/// producerId, producerEpoch, baseSequence, recordCount) is copied.
///
/// Nothing here checks the CRC of the input: call ``validate()`` first, or the new CRC would
/// vouch for corrupt bytes.
extension RecordBatch {
    /// The records section without compression: decompressed (once, into a new buffer) when the
    /// batch names a codec, else the section itself (a slice, no copy).
    ///
    /// An empty section with no records is returned as is whatever the codec: that is what the log
    /// cleaner leaves of a compacted batch, even when the attributes still name a codec.
    ///
    /// - Parameter maxDecompressedBytes: the largest decompressed records section accepted.
    public func uncompressedRecordsSection(
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(RecordBatchError) -> ByteBuffer {
        guard let codec = compression else { throw .unsupportedCompression(attributes.compressionBits) }
        let section = recordsSection
        guard codec != .none, !(recordCount == 0 && section.readableBytes == 0) else { return section }
        do {
            return try codec.decompress(section, maxOutputBytes: maxDecompressedBytes, allocator: allocator)
        } catch {
            throw .decompressionFailed(codec: codec, reason: error)
        }
    }

    /// This batch with its records section encoded with `codec`.
    ///
    /// - Parameters:
    ///   - codec: the codec of the result; ``CompressionCodec/none`` stores the records plain.
    ///   - level: the codec level, nil for the codec's default (see ``CompressionCodec/compress(_:level:allocator:)``).
    ///   - uncompressedRecords: the records section already decompressed by
    ///     ``uncompressedRecordsSection(maxDecompressedBytes:allocator:)``, to decompress only once
    ///     when the caller also inspects the records; nil decompresses here.
    ///   - maxDecompressedBytes: the largest decompressed records section accepted.
    /// - Returns: the batch itself, sharing its bytes, when it already uses `codec`; otherwise a
    ///   batch in a new buffer.
    public func recompressed(
        to codec: CompressionCodec,
        level: Int32? = nil,
        uncompressedRecords: ByteBuffer? = nil,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(RecordBatchError) -> RecordBatch {
        guard let current = compression else { throw .unsupportedCompression(attributes.compressionBits) }
        guard current != codec else { return self }
        let plain: ByteBuffer
        if let uncompressedRecords {
            plain = uncompressedRecords
        } else {
            plain = try uncompressedRecordsSection(maxDecompressedBytes: maxDecompressedBytes, allocator: allocator)
        }
        let payload: ByteBuffer
        do {
            payload = try codec.compress(plain, level: level, allocator: allocator)
        } catch {
            throw .compressionFailed(codec: codec, reason: error)
        }
        let size = Self.headerSize + payload.readableBytes
        guard size <= Int(Int32.max) else { throw .invalidInput(reason: "record batch would exceed the 2 GiB limit") }

        var output = allocator.buffer(capacity: size)
        output.writeImmutableBuffer(bytes.getSlice(at: 0, length: Self.headerSize)!)
        output.writeImmutableBuffer(payload)
        var attributes = self.attributes
        attributes.compression = codec
        output.setInteger(Int32(size - Self.logOverhead), at: Field.batchLength)
        output.setInteger(attributes.rawValue, at: Field.attributes)
        Self.updateChecksum(ofBatchAt: 0, size: size, in: &output)
        return RecordBatch(unchecked: output)
    }
}
