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
    private let decoder: RecordDecoder
    private let declaredCount: Int32
    private var position = 0
    private var decoded = 0
    private var finished = false

    init(section: ByteBuffer, declaredCount: Int32, baseOffset: Int64, baseTimestamp: Int64, logAppendTime: Int64?) {
        self.decoder = RecordDecoder(
            section: section.slice(), baseOffset: baseOffset, baseTimestamp: baseTimestamp, logAppendTime: logAppendTime)
        self.declaredCount = declaredCount
    }

    /// A safe reserve size: the declared count, bounded by what the bytes can hold.
    var capacityHint: Int {
        min(Int(declaredCount), decoder.section.readableBytes / RecordBatch.minimumRecordSize)
    }

    /// The next record, nil after the last one. Throws on malformed data or when the section
    /// holds fewer or more records than declared; after a throw, returns nil.
    public mutating func next() throws(RecordBatchError) -> Record? {
        guard !finished else { return nil }
        let end = decoder.section.readableBytes
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
        let decoder = self.decoder
        var position = self.position
        do {
            let record = try decoder.section.withReadableBytes { (raw) throws(RecordBatchError) in
                var cursor = ByteCursor(raw, position: position)
                defer { position = cursor.position }
                return try decoder.decode(&cursor)
            }
            self.position = position
            decoded += 1
            return record
        } catch {
            finished = true
            throw error
        }
    }

    /// Decodes every record not yet returned and hands each to `body`, in order, reading the
    /// section's bytes in one pass: the fast path for a consumer that takes a batch whole. Throws
    /// as ``next()`` does; the records before a malformed one have been handed over.
    public mutating func forEachRemaining(_ body: (Record) -> Void) throws(RecordBatchError) {
        guard !finished else { return }
        let (decoder, declared, start) = (self.decoder, Int(declaredCount), position)
        var decoded = self.decoded
        var end = start
        do {
            try decoder.section.withReadableBytes { (raw) throws(RecordBatchError) in
                var cursor = ByteCursor(raw, position: start)
                defer { end = cursor.position }
                while decoded < declared, cursor.position < raw.count {
                    body(try decoder.decode(&cursor))
                    decoded += 1
                }
            }
        } catch {
            finished = true
            throw error
        }
        position = end
        self.decoded = decoded
        _ = try next()  // checks the end, as the last call of next() would
    }
}

/// What every record of a batch is decoded against: the records section and the batch's bases.
private struct RecordDecoder: Sendable {
    let section: ByteBuffer
    let baseOffset: Int64
    let baseTimestamp: Int64
    let logAppendTime: Int64?

    /// Decodes one record at the cursor (over `section`'s readable bytes) and leaves the cursor
    /// just past it.
    @inline(__always)
    func decode(_ cursor: inout ByteCursor) throws(RecordBatchError) -> Record {
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
        // Most records have no headers: the count is read here, the headers only when there are some.
        let headerCount = try cursor.readVarint()
        let headers = headerCount == 0 ? [] : try Self.readHeaders(headerCount, &cursor, section: section)
        guard cursor.position == recordEnd else {
            throw .corruptRecord(reason: "record is \(length) bytes but its fields take \(cursor.position - recordEnd + Int(length))")
        }
        cursor.limit = cursor.bytes.count
        return Record(
            offset: baseOffset &+ Int64(offsetDelta),
            timestamp: logAppendTime ?? (baseTimestamp &+ timestampDelta),
            key: key,
            value: value,
            headers: headers)
    }

    /// Reads `count` headers (the count itself already read).
    private static func readHeaders(_ count: Int32, _ cursor: inout ByteCursor, section: ByteBuffer) throws(RecordBatchError) -> [Record.Header] {
        guard count >= 0 else { throw .corruptRecord(reason: "negative header count \(count)") }
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
