import NIOCore

/// Builds a v2 record batch: records are encoded as they are appended; ``build()`` compresses
/// them, writes the header and computes the CRC.
///
/// ```swift
/// var builder = RecordBatchBuilder(configuration: .init(compression: .zstd))
/// builder.append(timestamp: now, key: nil, value: payload)
/// let batch = try builder.build()
/// ```
public struct RecordBatchBuilder: Sendable {
    /// Every header field of the batch. Defaults describe a plain, non-idempotent producer batch.
    public struct Configuration: Sendable, Equatable {
        public var baseOffset: Int64 = 0
        public var partitionLeaderEpoch: Int32 = -1
        public var compression: CompressionCodec = .none
        /// Codec level; nil for the codec's default.
        public var compressionLevel: Int32? = nil
        public var timestampType: TimestampType = .createTime
        /// Timestamp deltas are relative to this; nil means the first record's timestamp.
        public var baseTimestamp: Int64? = nil
        /// nil means the largest record timestamp (-1 without records). For LogAppendTime, set
        /// the append time here.
        public var maxTimestamp: Int64? = nil
        /// Sets bit 6 and stores the horizon as baseTimestamp (overrides ``baseTimestamp``).
        public var deleteHorizonMs: Int64? = nil
        public var isTransactional = false
        public var isControlBatch = false
        public var producerId: Int64 = -1
        public var producerEpoch: Int16 = -1
        public var baseSequence: Int32 = -1

        public init(
            baseOffset: Int64 = 0,
            compression: CompressionCodec = .none,
            producerId: Int64 = -1,
            producerEpoch: Int16 = -1,
            baseSequence: Int32 = -1,
            isTransactional: Bool = false
        ) {
            self.baseOffset = baseOffset
            self.compression = compression
            self.producerId = producerId
            self.producerEpoch = producerEpoch
            self.baseSequence = baseSequence
            self.isTransactional = isTransactional
        }

        /// The header fields of an existing batch, to re-encode its records identically.
        public init(matching batch: RecordBatch) {
            self.init(
                baseOffset: batch.baseOffset, compression: batch.compression ?? .none,
                producerId: batch.producerId, producerEpoch: batch.producerEpoch,
                baseSequence: batch.baseSequence, isTransactional: batch.isTransactional)
            partitionLeaderEpoch = batch.partitionLeaderEpoch
            timestampType = batch.timestampType
            isControlBatch = batch.isControlBatch
            maxTimestamp = batch.maxTimestamp
            if let horizon = batch.deleteHorizonMs {
                deleteHorizonMs = horizon
            } else {
                baseTimestamp = batch.baseTimestamp
            }
        }
    }

    public let configuration: Configuration
    private var records: ByteBuffer
    private var timestampBase: Int64?
    private var largestTimestamp: Int64 = -1
    /// offsetDelta of the last appended record, -1 before the first.
    public private(set) var lastOffsetDelta: Int32 = -1
    /// Number of records appended.
    public private(set) var recordCount: Int32 = 0

    public init(configuration: Configuration = Configuration(), allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.configuration = configuration
        self.records = allocator.buffer(capacity: 256)
        self.timestampBase = configuration.deleteHorizonMs ?? configuration.baseTimestamp
    }

    /// Uncompressed size of the records appended so far.
    public var recordsSize: Int { records.readableBytes }

    /// Appends a record at the next offset (lastOffsetDelta + 1).
    public mutating func append(timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [Record.Header] = []) {
        // lastOffsetDelta + 1 overflows only after 2^31 records, which no ByteBuffer can hold.
        try! append(offsetDelta: lastOffsetDelta + 1, timestamp: timestamp, key: key, value: value, headers: headers)
    }

    /// Appends `record` at its own offset, which must be above the previous record's and within
    /// Int32 range of the configuration's baseOffset.
    public mutating func append(_ record: Record) throws(RecordBatchError) {
        let delta = record.offset &- configuration.baseOffset
        guard record.offset >= configuration.baseOffset, delta <= Int64(Int32.max) else {
            throw .invalidInput(reason: "offset \(record.offset) is out of range for base offset \(configuration.baseOffset)")
        }
        try append(offsetDelta: Int32(delta), timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers)
    }

    /// Appends a record with an explicit offsetDelta, which must exceed the previous one.
    public mutating func append(
        offsetDelta: Int32,
        timestamp: Int64,
        key: ByteBuffer?,
        value: ByteBuffer?,
        headers: [Record.Header] = []
    ) throws(RecordBatchError) {
        guard offsetDelta > lastOffsetDelta else {
            throw .invalidInput(reason: "offsetDelta \(offsetDelta) does not follow \(lastOffsetDelta)")
        }
        let base = timestampBase ?? timestamp
        timestampBase = base
        let timestampDelta = timestamp &- base
        let bodySize = Self.bodySize(
            timestampDelta: timestampDelta, offsetDelta: offsetDelta, key: key, value: value, headers: headers)
        guard bodySize <= Int(Int32.max) - records.readableBytes - RecordBatch.headerSize - 5 else {
            throw .invalidInput(reason: "record batch would exceed the 2 GiB limit")
        }
        records.writeRecordVarint(Int32(bodySize))
        records.writeInteger(Int8(0))
        records.writeRecordVarlong(timestampDelta)
        records.writeRecordVarint(offsetDelta)
        Self.writeNullable(key, to: &records)
        Self.writeNullable(value, to: &records)
        records.writeRecordVarint(Int32(headers.count))
        for header in headers {
            records.writeRecordVarint(Int32(header.key.utf8.count))
            records.writeString(header.key)
            Self.writeNullable(header.value, to: &records)
        }
        lastOffsetDelta = offsetDelta
        recordCount += 1
        largestTimestamp = recordCount == 1 ? timestamp : max(largestTimestamp, timestamp)
    }

    /// The finished batch, compressed and checksummed.
    public func build(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(RecordBatchError) -> ByteBuffer {
        let codec = configuration.compression
        let payload: ByteBuffer
        do {
            payload = try codec.compress(records, level: configuration.compressionLevel, allocator: allocator)
        } catch {
            throw .compressionFailed(codec: codec, reason: error)
        }
        let size = RecordBatch.headerSize + payload.readableBytes
        guard size <= Int(Int32.max) else { throw .invalidInput(reason: "record batch would exceed the 2 GiB limit") }

        let attributes = RecordBatchAttributes(
            compression: codec,
            timestampType: configuration.timestampType,
            isTransactional: configuration.isTransactional,
            isControlBatch: configuration.isControlBatch,
            hasDeleteHorizonMs: configuration.deleteHorizonMs != nil)
        var batch = allocator.buffer(capacity: size)
        batch.writeInteger(configuration.baseOffset)
        batch.writeInteger(Int32(size - RecordBatch.logOverhead))
        batch.writeInteger(configuration.partitionLeaderEpoch)
        batch.writeInteger(RecordBatch.currentMagic)
        batch.writeInteger(UInt32(0))  // CRC, filled in below
        batch.writeInteger(attributes.rawValue)
        batch.writeInteger(recordCount == 0 ? 0 : lastOffsetDelta)
        batch.writeInteger(timestampBase ?? -1)
        batch.writeInteger(configuration.maxTimestamp ?? largestTimestamp)
        batch.writeInteger(configuration.producerId)
        batch.writeInteger(configuration.producerEpoch)
        batch.writeInteger(configuration.baseSequence)
        batch.writeInteger(recordCount)
        batch.writeImmutableBuffer(payload)
        RecordBatch.updateChecksum(ofBatchAt: batch.readerIndex, size: size, in: &batch)
        return batch
    }

    private static func bodySize(
        timestampDelta: Int64,
        offsetDelta: Int32,
        key: ByteBuffer?,
        value: ByteBuffer?,
        headers: [Record.Header]
    ) -> Int {
        var size = 1 + Varint.size(ofVarlong: timestampDelta) + Varint.size(ofVarint: offsetDelta)
        size += nullableSize(key) + nullableSize(value)
        size += Varint.size(ofVarint: Int32(headers.count))
        for header in headers {
            let keyLength = header.key.utf8.count
            size += Varint.size(ofVarint: Int32(keyLength)) + keyLength + nullableSize(header.value)
        }
        return size
    }

    private static func nullableSize(_ buffer: ByteBuffer?) -> Int {
        guard let buffer else { return 1 }
        return Varint.size(ofVarint: Int32(buffer.readableBytes)) + buffer.readableBytes
    }

    private static func writeNullable(_ buffer: ByteBuffer?, to output: inout ByteBuffer) {
        guard let buffer else {
            output.writeRecordVarint(-1)
            return
        }
        output.writeRecordVarint(Int32(buffer.readableBytes))
        output.writeImmutableBuffer(buffer)
    }
}
