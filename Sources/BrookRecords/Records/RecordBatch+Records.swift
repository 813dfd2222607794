import NIOCore

extension RecordBatch {
    /// Decodes every record, decompressing the records section once if needed.
    ///
    /// Does not check the CRC: call ``validate()`` first for untrusted input. Malformed records
    /// throw; nothing traps.
    ///
    /// - Parameter maxDecompressedBytes: the largest decompressed records section accepted.
    public func records(
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws(RecordBatchError) -> [Record] {
        var iterator = try makeRecordIterator(maxDecompressedBytes: maxDecompressedBytes)
        var records: [Record] = []
        records.reserveCapacity(iterator.capacityHint)
        while let record = try iterator.next() {
            records.append(record)
        }
        return records
    }

    /// An iterator that decodes records one at a time; decompression happens here, once.
    public func makeRecordIterator(
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws(RecordBatchError) -> RecordIterator {
        guard compression != nil else { throw .unsupportedCompression(attributes.compressionBits) }
        let count = recordCount
        guard count >= 0 else { throw .invalidRecordCount(count) }
        return RecordIterator(
            section: try uncompressedRecordsSection(maxDecompressedBytes: maxDecompressedBytes),
            declaredCount: count,
            baseOffset: baseOffset,
            baseTimestamp: baseTimestamp,
            logAppendTime: timestampType == .logAppendTime ? maxTimestamp : nil)
    }
}

/// Decodes the records of one batch in order. Keys and values are slices of the (decompressed)
/// records section. After the last declared record it checks that no bytes remain.
public struct RecordIterator: Sendable {
    private let section: ByteBuffer
    private let declaredCount: Int32
    private let baseOffset: Int64
    private let baseTimestamp: Int64
    private let logAppendTime: Int64?
    private var position = 0
    private var decoded = 0
    private var finished = false

    init(section: ByteBuffer, declaredCount: Int32, baseOffset: Int64, baseTimestamp: Int64, logAppendTime: Int64?) {
        self.section = section.slice()
        self.declaredCount = declaredCount
        self.baseOffset = baseOffset
        self.baseTimestamp = baseTimestamp
        self.logAppendTime = logAppendTime
    }

    /// A safe reserve size: the declared count, bounded by what the bytes can hold.
    var capacityHint: Int {
        min(Int(declaredCount), section.readableBytes / RecordBatch.minimumRecordSize)
    }

    /// The next record, nil after the last one. Throws on malformed data or when the section
    /// holds fewer or more records than declared; after a throw, returns nil.
    public mutating func next() throws(RecordBatchError) -> Record? {
        guard !finished else { return nil }
        let end = section.readableBytes
        if decoded == Int(declaredCount) {
            finished = true
            guard position == end else {
                throw .corruptRecord(reason: "\(end - position) bytes remain after the last declared record")
            }
            return nil
        }
        guard position < end else {
            finished = true
            throw .recordCountMismatch(declared: declaredCount, decoded: decoded)
        }
        do {
            let record = try decodeRecord()
            decoded += 1
            return record
        } catch {
            finished = true
            throw error
        }
    }

    private mutating func decodeRecord() throws(RecordBatchError) -> Record {
        let section = self.section
        let start = position
        let (record, next) = try section.withReadableBytes { (raw) throws(RecordBatchError) in
            var cursor = ByteCursor(raw, position: start)
            let length = try cursor.readVarint()
            guard length >= 0, Int(length) <= cursor.remaining else {
                throw .corruptRecord(reason: "record length \(length) runs past the end of the batch")
            }
            let recordEnd = cursor.position + Int(length)
            cursor.limit = recordEnd
            _ = try cursor.readInt8()  // attributes: unused
            let timestampDelta = try cursor.readVarlong()
            let offsetDelta = try cursor.readVarint()
            let key = try cursor.readNullableRange().map { section.getSlice(at: $0.lowerBound, length: $0.count)! }
            let value = try cursor.readNullableRange().map { section.getSlice(at: $0.lowerBound, length: $0.count)! }
            let headers = try Self.readHeaders(&cursor, section: section)
            guard cursor.position == recordEnd else {
                throw .corruptRecord(reason: "record is \(length) bytes but its fields take \(cursor.position - recordEnd + Int(length))")
            }
            let record = Record(
                offset: baseOffset &+ Int64(offsetDelta),
                timestamp: logAppendTime ?? (baseTimestamp &+ timestampDelta),
                key: key,
                value: value,
                headers: headers)
            return (record, recordEnd)
        }
        position = next
        return record
    }

    private static func readHeaders(_ cursor: inout ByteCursor, section: ByteBuffer) throws(RecordBatchError) -> [Record.Header] {
        let count = try cursor.readVarint()
        guard count >= 0 else { throw .corruptRecord(reason: "negative header count \(count)") }
        guard count > 0 else { return [] }
        // Each header takes at least two bytes (two varint lengths).
        guard Int(count) <= cursor.remaining / 2 else {
            throw .corruptRecord(reason: "header count \(count) runs past the end of the record")
        }
        var headers: [Record.Header] = []
        headers.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let keyRange = try cursor.readNullableRange() else {
                throw .corruptRecord(reason: "null header key")
            }
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: cursor.bytes[keyRange]), as: UTF8.self)
            let value = try cursor.readNullableRange().map { section.getSlice(at: $0.lowerBound, length: $0.count)! }
            headers.append(Record.Header(key: key, value: value))
        }
        return headers
    }
}
