import NIOCore

/// Finding the records without a key, as a broker must before it appends to a compacted topic.
///
/// The scan walks each record's framing in place (length, attributes, deltas, key, value,
/// headers) and checks it as ``RecordIterator`` does, but builds no ``Record``, slices nothing
/// and decodes no header key: nothing is allocated per record.
extension RecordBatch {
    /// The positions in the batch (0 for the first record) of the records whose key is null, in
    /// order; empty when every record has a key.
    ///
    /// Throws when a record is malformed or the section holds more or fewer records than
    /// ``recordCount``. Does not check the CRC: call ``validate()`` first for untrusted input.
    ///
    /// - Parameters:
    ///   - uncompressedRecords: the records section already decompressed by
    ///     ``uncompressedRecordsSection(maxDecompressedBytes:allocator:)``; nil decompresses here.
    ///   - maxDecompressedBytes: the largest decompressed records section accepted.
    public func indexesOfRecordsWithoutKey(
        uncompressedRecords: ByteBuffer? = nil,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws(RecordBatchError) -> [Int] {
        let count = recordCount
        guard count >= 0 else { throw .invalidRecordCount(count) }
        let section: ByteBuffer
        if let uncompressedRecords {
            section = uncompressedRecords
        } else {
            section = try uncompressedRecordsSection(maxDecompressedBytes: maxDecompressedBytes)
        }
        return try section.withReadableBytes { (raw) throws(RecordBatchError) -> [Int] in
            var cursor = ByteCursor(raw)
            var withoutKey: [Int] = []
            var index = 0
            while cursor.remaining > 0 {
                guard index < Int(count) else {
                    throw .corruptRecord(reason: "\(cursor.remaining) bytes remain after the last declared record")
                }
                if try !Self.skipRecord(&cursor) { withoutKey.append(index) }
                index += 1
            }
            guard index == Int(count) else { throw .recordCountMismatch(declared: count, decoded: index) }
            return withoutKey
        }
    }

    /// Moves `cursor` past one record; returns whether its key is non-null.
    private static func skipRecord(_ cursor: inout ByteCursor) throws(RecordBatchError) -> Bool {
        let length = try cursor.readVarint()
        guard length >= 0, Int(length) <= cursor.remaining else {
            throw .corruptRecord(reason: "record length \(length) runs past the end of the batch")
        }
        let end = cursor.position + Int(length)
        let outerLimit = cursor.limit
        cursor.limit = end
        _ = try cursor.readInt8()  // attributes: unused
        _ = try cursor.readVarlong()  // timestampDelta
        _ = try cursor.readVarint()  // offsetDelta
        let hasKey = try cursor.readNullableRange() != nil
        _ = try cursor.readNullableRange()  // value
        let headerCount = try cursor.readVarint()
        guard headerCount >= 0 else { throw .corruptRecord(reason: "negative header count \(headerCount)") }
        for _ in 0..<headerCount {
            guard try cursor.readNullableRange() != nil else { throw .corruptRecord(reason: "null header key") }
            _ = try cursor.readNullableRange()
        }
        guard cursor.position == end else {
            throw .corruptRecord(reason: "record is \(length) bytes but its fields take \(cursor.position - end + Int(length))")
        }
        cursor.limit = outerLimit
        return hasKey
    }
}
