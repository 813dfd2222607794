import NIOCore

/// Patching header fields in place, as a broker does when it appends a batch to its log.
///
/// The instance methods write into the view's buffer. If that storage is shared (a slice of a
/// request buffer that is still referenced), the first write copies the batch's bytes; to patch a
/// buffer of several batches without any copy, use the static forms with the batch's start index
/// (``RecordBatchReader/position`` before ``RecordBatchReader/next()``).
extension RecordBatch {
    /// Sets baseOffset (not covered by the CRC).
    public mutating func setBaseOffset(_ baseOffset: Int64) {
        Self.setBaseOffset(baseOffset, ofBatchAt: 0, in: &bytes)
    }

    /// Sets partitionLeaderEpoch (not covered by the CRC).
    public mutating func setPartitionLeaderEpoch(_ epoch: Int32) {
        Self.setPartitionLeaderEpoch(epoch, ofBatchAt: 0, in: &bytes)
    }

    /// Sets the timestamp type and maxTimestamp, then recomputes the CRC.
    ///
    /// For LogAppendTime, `maxTimestamp` is the broker's append time, which readers then report
    /// as every record's timestamp.
    public mutating func setMaxTimestamp(_ maxTimestamp: Int64, timestampType: TimestampType) {
        Self.setMaxTimestamp(maxTimestamp, timestampType: timestampType, ofBatchAt: 0, size: sizeInBytes, in: &bytes)
    }

    /// Recomputes and stores the CRC over the current bytes.
    public mutating func updateChecksum() {
        Self.updateChecksum(ofBatchAt: 0, size: sizeInBytes, in: &bytes)
    }

    /// Sets the baseOffset of the batch starting at `index` of `buffer`.
    public static func setBaseOffset(_ baseOffset: Int64, ofBatchAt index: Int, in buffer: inout ByteBuffer) {
        buffer.setInteger(baseOffset, at: index + Field.baseOffset)
    }

    /// Sets the partitionLeaderEpoch of the batch starting at `index` of `buffer`.
    public static func setPartitionLeaderEpoch(_ epoch: Int32, ofBatchAt index: Int, in buffer: inout ByteBuffer) {
        buffer.setInteger(epoch, at: index + Field.partitionLeaderEpoch)
    }

    /// Sets timestamp type and maxTimestamp of the `size`-byte batch starting at `index` of
    /// `buffer`, then recomputes its CRC.
    public static func setMaxTimestamp(
        _ maxTimestamp: Int64,
        timestampType: TimestampType,
        ofBatchAt index: Int,
        size: Int,
        in buffer: inout ByteBuffer
    ) {
        precondition(size >= headerSize, "a batch is at least \(headerSize) bytes")
        var attributes = RecordBatchAttributes(rawValue: buffer.getInteger(at: index + Field.attributes)!)
        attributes.timestampType = timestampType
        buffer.setInteger(attributes.rawValue, at: index + Field.attributes)
        buffer.setInteger(maxTimestamp, at: index + Field.maxTimestamp)
        updateChecksum(ofBatchAt: index, size: size, in: &buffer)
    }

    /// Recomputes the CRC of the `size`-byte batch starting at `index` of `buffer`.
    public static func updateChecksum(ofBatchAt index: Int, size: Int, in buffer: inout ByteBuffer) {
        precondition(size >= headerSize, "a batch is at least \(headerSize) bytes")
        precondition(index >= 0 && index + size <= buffer.writerIndex, "the batch must lie inside the buffer")
        // Read through the storage directly: holding a slice would make the write below copy.
        let crc = buffer.withVeryUnsafeBytes { storage in
            CRC32C.update(0, UnsafeRawBufferPointer(rebasing: storage[(index + Field.attributes)..<(index + size)]))
        }
        buffer.setInteger(crc, at: index + Field.crc)
    }
}
