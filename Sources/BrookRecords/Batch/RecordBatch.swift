import NIOCore

/// A Kafka v2 record batch ("magic 2"), viewed in place over a `ByteBuffer` slice.
///
/// Byte layout (all integers big-endian; offsets from the start of the batch):
///
///     offset  size  field
///      0      8     baseOffset            int64
///      8      4     batchLength           int32   bytes after this field (total size - 12)
///     12      4     partitionLeaderEpoch  int32
///     16      1     magic                 int8    = 2
///     17      4     crc                   uint32  CRC-32C of bytes 21..<end
///     21      2     attributes            int16   see RecordBatchAttributes
///     23      4     lastOffsetDelta       int32
///     27      8     baseTimestamp         int64   (the delete horizon when bit 6 is set)
///     35      8     maxTimestamp          int64
///     43      8     producerId            int64   -1 when not idempotent
///     51      2     producerEpoch         int16
///     53      4     baseSequence          int32
///     57      4     recordCount           int32
///     61      ...   records               compressed as one stream when a codec is set
///
/// baseOffset, batchLength, partitionLeaderEpoch and magic sit outside the CRC, so a broker can
/// assign offsets and leader epochs without recomputing it.
///
/// Header fields are read lazily at fixed offsets; nothing is decoded until asked. ``validate()``
/// checks framing, magic and CRC without decoding records; ``records(maxDecompressedBytes:)``
/// decodes. The view is a value: the mutating setters (see `RecordBatch+Mutation.swift`) write
/// into its buffer, which copies the batch's bytes only if the storage is shared (copy-on-write).
///
/// Thread safety: a `RecordBatch` is a `Sendable` value; copies are independent.
public struct RecordBatch: Sendable, Equatable {
    /// Size of the fixed header before the records.
    public static let headerSize = 61
    /// Bytes before and including the batchLength field (baseOffset + batchLength).
    public static let logOverhead = 12
    /// The smallest legal batchLength: a header with no records.
    public static let minimumBatchLength = Int32(headerSize - logOverhead)
    /// The only supported magic.
    public static let currentMagic: Int8 = 2

    /// Byte offsets of the header fields.
    enum Field {
        static let baseOffset = 0
        static let batchLength = 8
        static let partitionLeaderEpoch = 12
        static let magic = 16
        static let crc = 17
        static let attributes = 21
        static let lastOffsetDelta = 23
        static let baseTimestamp = 27
        static let maxTimestamp = 35
        static let producerId = 43
        static let producerEpoch = 51
        static let baseSequence = 53
        static let recordCount = 57
        static let records = 61
    }

    /// The batch bytes; readerIndex 0, readable bytes are the whole view.
    public internal(set) var bytes: ByteBuffer

    /// Views the readable bytes of `buffer` as one batch. Only checks that a full header is there;
    /// call ``validate()`` before trusting the rest.
    public init(_ buffer: ByteBuffer) throws(RecordBatchError) {
        guard buffer.readableBytes >= Self.headerSize else {
            throw .truncated(needed: Self.headerSize, available: buffer.readableBytes)
        }
        self.bytes = buffer.slice()
    }

    /// Views a slice already known to hold at least a header.
    init(unchecked buffer: ByteBuffer) {
        assert(buffer.readableBytes >= Self.headerSize)
        self.bytes = buffer.slice()
    }

    @inline(__always)
    func field<T: FixedWidthInteger>(_ offset: Int, as type: T.Type = T.self) -> T {
        // The initialisers guarantee a full header and setters never shrink the buffer.
        bytes.getInteger(at: offset, as: T.self)!
    }

    public var baseOffset: Int64 { field(Field.baseOffset) }
    public var batchLength: Int32 { field(Field.batchLength) }
    public var partitionLeaderEpoch: Int32 { field(Field.partitionLeaderEpoch) }
    public var magic: Int8 { field(Field.magic) }
    /// The CRC stored in the header.
    public var crc: UInt32 { field(Field.crc) }
    public var attributes: RecordBatchAttributes { RecordBatchAttributes(rawValue: field(Field.attributes)) }
    public var lastOffsetDelta: Int32 { field(Field.lastOffsetDelta) }
    public var baseTimestamp: Int64 { field(Field.baseTimestamp) }
    public var maxTimestamp: Int64 { field(Field.maxTimestamp) }
    public var producerId: Int64 { field(Field.producerId) }
    public var producerEpoch: Int16 { field(Field.producerEpoch) }
    public var baseSequence: Int32 { field(Field.baseSequence) }
    public var recordCount: Int32 { field(Field.recordCount) }

    /// Size of the view in bytes (batchLength + 12 for a valid batch).
    public var sizeInBytes: Int { bytes.readableBytes }
    /// The offset of the last record: baseOffset + lastOffsetDelta.
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    /// The offset after this batch.
    public var nextOffset: Int64 { lastOffset &+ 1 }
    /// The codec, or nil when the attributes name an unknown one.
    public var compression: CompressionCodec? { attributes.compression }
    public var timestampType: TimestampType { attributes.timestampType }
    public var isTransactional: Bool { attributes.isTransactional }
    public var isControlBatch: Bool { attributes.isControlBatch }
    /// The delete horizon set by the log cleaner, stored in baseTimestamp when bit 6 is set.
    public var deleteHorizonMs: Int64? { attributes.hasDeleteHorizonMs ? baseTimestamp : nil }
    /// Whether the producer is idempotent or transactional (producerId >= 0).
    public var hasProducerId: Bool { producerId >= 0 }
    /// The sequence number of the last record: baseSequence + lastOffsetDelta, wrapping at Int32.max.
    public var lastSequence: Int32 {
        baseSequence < 0 ? -1 : Int32(truncatingIfNeeded: (Int64(baseSequence) + Int64(lastOffsetDelta)) % (Int64(Int32.max) + 1))
    }

    /// The records section as stored (compressed when a codec is set), a slice of ``bytes``.
    public var recordsSection: ByteBuffer {
        bytes.getSlice(at: Field.records, length: bytes.readableBytes - Field.records)!
    }

    /// CRC-32C computed over the bytes the CRC covers (attributes to end of the view).
    public func computeChecksum() -> UInt32 {
        CRC32C.checksum(bytes.getSlice(at: Field.attributes, length: bytes.readableBytes - Field.attributes)!)
    }
}
