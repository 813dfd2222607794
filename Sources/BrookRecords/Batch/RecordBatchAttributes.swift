/// How the timestamps of a batch are to be read.
public enum TimestampType: Sendable, Equatable {
    /// Each record carries the time the producer created it.
    case createTime
    /// The broker stamped the batch: every record's timestamp is the batch's maxTimestamp.
    case logAppendTime
}

/// The int16 attributes of a v2 record batch.
///
///     bits 0-2  compression codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)
///     bit  3    timestamp type (1 = LogAppendTime)
///     bit  4    isTransactional
///     bit  5    isControlBatch
///     bit  6    hasDeleteHorizonMs (baseTimestamp is the delete horizon)
public struct RecordBatchAttributes: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    public init(
        compression: CompressionCodec = .none,
        timestampType: TimestampType = .createTime,
        isTransactional: Bool = false,
        isControlBatch: Bool = false,
        hasDeleteHorizonMs: Bool = false
    ) {
        self.rawValue = Int16(compression.rawValue)
        self.timestampType = timestampType
        self.isTransactional = isTransactional
        self.isControlBatch = isControlBatch
        self.hasDeleteHorizonMs = hasDeleteHorizonMs
    }

    /// The raw codec number (0-7).
    public var compressionBits: Int { Int(rawValue & 0x7) }

    /// The codec, or nil when the bits name none (5, 6, 7).
    public var compression: CompressionCodec? {
        get { CompressionCodec(rawValue: Int8(rawValue & 0x7)) }
        set { rawValue = (rawValue & ~0x7) | Int16(newValue?.rawValue ?? 0) }
    }

    public var timestampType: TimestampType {
        get { bit(3) ? .logAppendTime : .createTime }
        set { setBit(3, newValue == .logAppendTime) }
    }

    public var isTransactional: Bool {
        get { bit(4) }
        set { setBit(4, newValue) }
    }

    public var isControlBatch: Bool {
        get { bit(5) }
        set { setBit(5, newValue) }
    }

    public var hasDeleteHorizonMs: Bool {
        get { bit(6) }
        set { setBit(6, newValue) }
    }

    private func bit(_ index: Int16) -> Bool {
        rawValue & (1 << index) != 0
    }

    private mutating func setBit(_ index: Int16, _ on: Bool) {
        if on { rawValue |= 1 << index } else { rawValue &= ~(1 << index) }
    }
}
