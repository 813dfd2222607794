import BrookRecords
import NIOCore

/// Encodes a v2 record batch as a producer builds it, writing each record straight into raw
/// memory.
///
/// `RecordBatchBuilder` handles every kind of record but writes each varint byte by byte
/// through `ByteBuffer`; this encoder computes a record's framing (length, attributes, timestamp
/// and offset deltas, key, value, headers) and copies each field in one step, several times
/// faster. The bytes are the same as the builder's for the same records (a test compares them),
/// and so is the batch header: base offset 0, CreateTime, baseTimestamp the first record's,
/// maxTimestamp the largest.
///
/// Without compression the records are written after room left for the 61-byte header, and the
/// header is filled in place: the batch is never copied. ``close()`` compresses and hands over an
/// ``EncodedBatch`` whose producer fields (id, epoch, base sequence, transactional flag) are
/// stamped when it is sent, and stamped again if a retry needs a new epoch.
public struct BatchEncoder: Sendable {
    public let compression: CompressionCodec
    /// Codec level; nil for the codec's default.
    public let compressionLevel: Int32?
    private var buffer: ByteBuffer
    private var baseTimestamp: Int64?
    private var maxTimestamp: Int64 = -1
    /// Records appended so far.
    public private(set) var recordCount: Int32 = 0

    /// An empty batch; `capacity` is the expected size of the records section in bytes.
    public init(compression: CompressionCodec = .none, compressionLevel: Int32? = nil, capacity: Int = 16_384) {
        self.compression = compression
        self.compressionLevel = compressionLevel
        buffer = ByteBufferAllocator().buffer(capacity: RecordBatch.headerSize + capacity)
        buffer.moveWriterIndex(forwardBy: RecordBatch.headerSize)
    }

    /// Uncompressed size of the records appended so far.
    public var recordsSize: Int { buffer.writerIndex - RecordBatch.headerSize }

    /// The bytes ``append(key:value:headers:timestamp:)`` would add for such a record, at the next
    /// offset delta (for the batch-size check before appending).
    public func encodedSize(key: ByteBuffer?, value: ByteBuffer?, headers: [Record.Header] = [], timestamp: Int64) -> Int {
        let layout = RecordLayout(key: key, value: value, headers: headers, timestampDelta: zigzag(timestamp &- (baseTimestamp ?? timestamp)),
                                  offsetDelta: zigzag(Int64(recordCount)))
        return layout.total
    }

    /// Appends a record holding `value` only, at the next offset delta (the benchmark's path).
    public mutating func append(value: ByteBuffer, timestamp: Int64) {
        append(key: nil, value: value, headers: [], timestamp: timestamp)
    }

    /// Appends a record at the next offset delta. A nil key or value is written as null.
    public mutating func append(key: ByteBuffer?, value: ByteBuffer?, headers: [Record.Header] = [], timestamp: Int64) {
        let base = baseTimestamp ?? timestamp
        baseTimestamp = base
        maxTimestamp = recordCount == 0 ? timestamp : max(maxTimestamp, timestamp)
        let layout = RecordLayout(key: key, value: value, headers: headers, timestampDelta: zigzag(timestamp &- base),
                                  offsetDelta: zigzag(Int64(recordCount)))
        buffer.reserveCapacity(minimumWritableBytes: layout.total)
        buffer.withUnsafeMutableWritableBytes { output in
            var index = 0
            write(layout.bodyLength, to: output, at: &index)
            output[index] = 0  // attributes
            index += 1
            write(layout.timestampDelta, to: output, at: &index)
            write(layout.offsetDelta, to: output, at: &index)
            writeField(key, to: output, at: &index)
            writeField(value, to: output, at: &index)
            write(zigzag(Int64(headers.count)), to: output, at: &index)
            for header in headers {
                let keyLength = header.key.utf8.count
                write(zigzag(Int64(keyLength)), to: output, at: &index)
                var name = header.key
                name.withUTF8 { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: output[index..<(index + keyLength)]).copyMemory(from: UnsafeRawBufferPointer(bytes))
                }
                index += keyLength
                writeField(header.value, to: output, at: &index)
            }
        }
        buffer.moveWriterIndex(forwardBy: layout.total)
        recordCount += 1
    }

    /// Hands over the finished batch, compressed, with no producer fields; the encoder starts
    /// over, empty.
    public mutating func build() throws(RecordBatchError) -> ByteBuffer {
        var batch = try close()
        batch.stamp(.none)
        return batch.bytes
    }

    /// Hands over the finished batch, compressed, for ``EncodedBatch/stamp(_:)``; the encoder
    /// starts over, empty.
    public mutating func close() throws(RecordBatchError) -> EncodedBatch {
        var batch: ByteBuffer
        defer { self = BatchEncoder(compression: compression, compressionLevel: compressionLevel, capacity: 0) }
        if compression == .none {
            batch = buffer
            buffer = ByteBuffer()  // the batch's storage is now referenced once: no copy on write
        } else {
            let records = buffer.getSlice(at: RecordBatch.headerSize, length: recordsSize)!
            let compressed: ByteBuffer
            do {
                compressed = try compression.compress(records, level: compressionLevel)
            } catch {
                throw .compressionFailed(codec: compression, reason: error)
            }
            batch = ByteBufferAllocator().buffer(capacity: RecordBatch.headerSize + compressed.readableBytes)
            batch.moveWriterIndex(forwardBy: RecordBatch.headerSize)
            batch.writeImmutableBuffer(compressed)
        }
        return EncodedBatch(
            bytes: batch, compression: compression, recordCount: recordCount,
            baseTimestamp: baseTimestamp ?? -1, maxTimestamp: maxTimestamp)
    }
}

/// A closed batch: its records encoded (and compressed), its header written by ``stamp(_:)``.
public struct EncodedBatch: Sendable {
    /// The whole batch, header included (valid once stamped).
    public private(set) var bytes: ByteBuffer
    public let compression: CompressionCodec
    public let recordCount: Int32
    public let baseTimestamp: Int64
    public let maxTimestamp: Int64

    init(bytes: ByteBuffer, compression: CompressionCodec, recordCount: Int32, baseTimestamp: Int64, maxTimestamp: Int64) {
        self.bytes = bytes
        self.compression = compression
        self.recordCount = recordCount
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
    }

    /// The producer fields of a batch header.
    public struct ProducerFields: Sendable, Equatable {
        public var producerId: Int64
        public var producerEpoch: Int16
        public var baseSequence: Int32
        public var isTransactional: Bool

        public init(producerId: Int64, producerEpoch: Int16, baseSequence: Int32, isTransactional: Bool = false) {
            self.producerId = producerId
            self.producerEpoch = producerEpoch
            self.baseSequence = baseSequence
            self.isTransactional = isTransactional
        }

        /// A batch of a producer without idempotence.
        public static let none = ProducerFields(producerId: -1, producerEpoch: -1, baseSequence: -1)
    }

    /// Writes the 61-byte header with `producer`'s fields and the CRC.
    public mutating func stamp(_ producer: ProducerFields) {
        let size = bytes.readableBytes
        var header = ByteBuffer()
        header.reserveCapacity(RecordBatch.headerSize)
        header.writeInteger(Int64(0))  // baseOffset: the broker assigns offsets
        header.writeInteger(Int32(size - RecordBatch.logOverhead))
        header.writeInteger(Int32(-1))  // partitionLeaderEpoch
        header.writeInteger(RecordBatch.currentMagic)
        header.writeInteger(UInt32(0))  // CRC, computed below
        header.writeInteger(RecordBatchAttributes(compression: compression, isTransactional: producer.isTransactional).rawValue)
        header.writeInteger(recordCount == 0 ? Int32(0) : recordCount - 1)  // lastOffsetDelta
        header.writeInteger(baseTimestamp)
        header.writeInteger(maxTimestamp)
        header.writeInteger(producer.producerId)
        header.writeInteger(producer.producerEpoch)
        header.writeInteger(producer.baseSequence)
        header.writeInteger(recordCount)
        bytes.setBuffer(header, at: bytes.readerIndex)
        RecordBatch.updateChecksum(ofBatchAt: bytes.readerIndex, size: size, in: &bytes)
    }
}

/// The varint fields of one record and its total encoded size.
private struct RecordLayout {
    var bodyLength: UInt64
    var timestampDelta: UInt64
    var offsetDelta: UInt64
    var total: Int

    init(key: ByteBuffer?, value: ByteBuffer?, headers: [Record.Header], timestampDelta: UInt64, offsetDelta: UInt64) {
        self.timestampDelta = timestampDelta
        self.offsetDelta = offsetDelta
        var body = 1 + varintSize(timestampDelta) + varintSize(offsetDelta) + fieldSize(key) + fieldSize(value)
        body += varintSize(zigzag(Int64(headers.count)))
        for header in headers {
            let keyLength = header.key.utf8.count
            body += varintSize(zigzag(Int64(keyLength))) + keyLength + fieldSize(header.value)
        }
        bodyLength = zigzag(Int64(body))
        total = varintSize(bodyLength) + body
    }
}

/// The size of a varint-length-prefixed field (-1 for null).
@inline(__always)
private func fieldSize(_ field: ByteBuffer?) -> Int {
    guard let field else { return 1 }
    return varintSize(zigzag(Int64(field.readableBytes))) + field.readableBytes
}

@inline(__always)
private func writeField(_ field: ByteBuffer?, to output: UnsafeMutableRawBufferPointer, at index: inout Int) {
    guard let field else {
        output[index] = 1  // varint -1: null
        index += 1
        return
    }
    let length = field.readableBytes
    write(zigzag(Int64(length)), to: output, at: &index)
    let destination = index
    field.withUnsafeReadableBytes { bytes in
        UnsafeMutableRawBufferPointer(rebasing: output[destination..<(destination + length)]).copyMemory(from: bytes)
    }
    index += length
}

/// Kafka's zig-zag mapping of a signed varint onto an unsigned one.
@inline(__always)
private func zigzag(_ value: Int64) -> UInt64 {
    UInt64(bitPattern: (value << 1) ^ (value >> 63))
}

@inline(__always)
private func varintSize(_ value: UInt64) -> Int {
    (64 - (value | 1).leadingZeroBitCount + 6) / 7
}

@inline(__always)
private func write(_ value: UInt64, to output: UnsafeMutableRawBufferPointer, at index: inout Int) {
    var value = value
    while value >= 0x80 {
        output[index] = UInt8(truncatingIfNeeded: value) | 0x80
        value >>= 7
        index += 1
    }
    output[index] = UInt8(value)
    index += 1
}
