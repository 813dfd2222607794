import BrookRecords
import NIOCore

/// Encodes a v2 record batch whose records carry a value and nothing else — no key, no
/// headers — writing each record into raw memory: a benchmark producer's hot path.
///
/// `RecordBatchBuilder` handles every kind of record but writes each varint byte by byte
/// through `ByteBuffer`; this encoder writes a record's framing (length, attributes, timestamp
/// and offset deltas, null key, value length, header count) and copies its value in one step,
/// several times faster. The bytes are the same as the builder's for the same records (a test
/// compares them), and so is the batch header: base offset 0, no producer id, CreateTime,
/// baseTimestamp the first record's, maxTimestamp the largest.
///
/// Without compression the records are written after room left for the 61-byte header, and
/// ``build()`` fills the header in place: the batch is never copied.
public struct ValueBatchEncoder: Sendable {
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

    /// Appends a record holding `value`, at the next offset delta.
    public mutating func append(value: ByteBuffer, timestamp: Int64) {
        let base = baseTimestamp ?? timestamp
        baseTimestamp = base
        maxTimestamp = recordCount == 0 ? timestamp : max(maxTimestamp, timestamp)
        let timestampDelta = zigzag(timestamp &- base)
        let offsetDelta = zigzag(Int64(recordCount))
        let valueLength = value.readableBytes
        let length = zigzag(Int64(valueLength))
        // attributes, null key and header count take one byte each.
        let body = 3 + varintSize(timestampDelta) + varintSize(offsetDelta) + varintSize(length) + valueLength
        let bodyLength = zigzag(Int64(body))
        let total = varintSize(bodyLength) + body
        buffer.reserveCapacity(minimumWritableBytes: total)
        buffer.withUnsafeMutableWritableBytes { output in
            var index = 0
            write(bodyLength, to: output, at: &index)
            output[index] = 0  // attributes
            index += 1
            write(timestampDelta, to: output, at: &index)
            write(offsetDelta, to: output, at: &index)
            output[index] = 1  // key: varint -1, null
            index += 1
            write(length, to: output, at: &index)
            value.withUnsafeReadableBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: output[index..<(index + valueLength)]).copyMemory(from: bytes)
            }
            output[index + valueLength] = 0  // no headers
        }
        buffer.moveWriterIndex(forwardBy: total)
        recordCount += 1
    }

    /// Hands over the finished batch, compressed and checksummed; the encoder starts over, empty.
    public mutating func build() throws(RecordBatchError) -> ByteBuffer {
        var batch: ByteBuffer
        defer { self = ValueBatchEncoder(compression: compression, compressionLevel: compressionLevel, capacity: 0) }
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
        let size = batch.readableBytes
        var header = ByteBuffer()
        header.reserveCapacity(RecordBatch.headerSize)
        header.writeInteger(Int64(0))  // baseOffset: the broker assigns offsets
        header.writeInteger(Int32(size - RecordBatch.logOverhead))
        header.writeInteger(Int32(-1))  // partitionLeaderEpoch
        header.writeInteger(RecordBatch.currentMagic)
        header.writeInteger(UInt32(0))  // CRC, computed below
        header.writeInteger(RecordBatchAttributes(compression: compression).rawValue)
        header.writeInteger(recordCount == 0 ? Int32(0) : recordCount - 1)  // lastOffsetDelta
        header.writeInteger(baseTimestamp ?? -1)
        header.writeInteger(maxTimestamp)
        header.writeInteger(Int64(-1))  // producerId
        header.writeInteger(Int16(-1))  // producerEpoch
        header.writeInteger(Int32(-1))  // baseSequence
        header.writeInteger(recordCount)
        batch.setBuffer(header, at: batch.readerIndex)
        RecordBatch.updateChecksum(ofBatchAt: batch.readerIndex, size: size, in: &batch)
        return batch
    }
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
