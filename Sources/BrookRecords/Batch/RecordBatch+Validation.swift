import NIOCore

extension RecordBatch {
    /// Checks the batch without decoding its records: length bounds, magic, CRC, compression
    /// codec and the record count's plausibility. Allocates nothing.
    ///
    /// Bits of baseOffset and partitionLeaderEpoch are not covered by anything; every other byte
    /// is covered by the length, magic or CRC check.
    public func validate() throws(RecordBatchError) {
        let length = batchLength
        guard length >= Self.minimumBatchLength else { throw .invalidBatchLength(length) }
        let declaredSize = Int(length) + Self.logOverhead
        guard declaredSize <= sizeInBytes else {
            throw .truncated(needed: declaredSize, available: sizeInBytes)
        }
        guard declaredSize == sizeInBytes else {
            throw .batchLengthMismatch(declared: length, available: sizeInBytes)
        }
        guard magic == Self.currentMagic else { throw .invalidMagic(magic) }
        let computed = computeChecksum()
        guard computed == crc else { throw .crcMismatch(expected: crc, actual: computed) }
        guard let codec = compression else { throw .unsupportedCompression(attributes.compressionBits) }

        let count = recordCount
        guard count >= 0 else { throw .invalidRecordCount(count) }
        if count > 0 {
            // Offsets inside a batch increase, so the offset range must be able to hold them all.
            guard lastOffsetDelta >= 0, Int64(count) <= Int64(lastOffsetDelta) + 1 else {
                throw .invalidRecordCount(count)
            }
        }
        if codec == .none {
            // The smallest record takes 7 bytes (length, attributes, deltas, null key and value,
            // header count: one byte each).
            guard Int(count) <= (sizeInBytes - Self.headerSize) / Self.minimumRecordSize else {
                throw .invalidRecordCount(count)
            }
        }
    }

    /// ``validate()`` plus the rules for a batch a producer sends: at least one record and
    /// `recordCount == lastOffsetDelta + 1` (no gaps before compaction).
    public func validateAsProduced() throws(RecordBatchError) {
        try validate()
        guard recordCount > 0, Int64(recordCount) == Int64(lastOffsetDelta) + 1 else {
            throw .invalidRecordCount(recordCount)
        }
    }

    /// Size of the smallest possible encoded record.
    static let minimumRecordSize = 7
}
