/// Why a record batch, or a record inside it, was rejected.
///
/// Every malformed input ends in one of these cases; no input makes the decoders trap.
public enum RecordBatchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header or `batchLength` promises.
    case truncated(needed: Int, available: Int)
    /// `batchLength` is negative or too small to hold the batch header.
    case invalidBatchLength(Int32)
    /// `batchLength` says the batch ends before the bytes given as this batch do.
    case batchLengthMismatch(declared: Int32, available: Int)
    /// The magic byte is not 2; only message format v2 is supported.
    case invalidMagic(Int8)
    /// The stored CRC-32C (`expected`) differs from the one computed over the bytes (`actual`).
    case crcMismatch(expected: UInt32, actual: UInt32)
    /// The compression bits of the attributes name no known codec (5, 6 or 7).
    case unsupportedCompression(Int)
    /// `recordCount` is negative or cannot fit the batch.
    case invalidRecordCount(Int32)
    /// The records section holds fewer records than `recordCount` declares.
    case recordCountMismatch(declared: Int32, decoded: Int)
    /// A record is malformed: varint overflow, a length past the end, trailing bytes...
    case corruptRecord(reason: String)
    /// The records section could not be decompressed.
    case decompressionFailed(codec: CompressionCodec, reason: CompressionError)
    /// The records section could not be compressed.
    case compressionFailed(codec: CompressionCodec, reason: CompressionError)
    /// A control record's key or value is malformed.
    case invalidControlRecord(reason: String)
    /// A builder was given something a v2 batch cannot hold.
    case invalidInput(reason: String)

    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            "record batch truncated: needs \(needed) bytes, \(available) available"
        case .invalidBatchLength(let length):
            "invalid record batch length \(length)"
        case .batchLengthMismatch(let declared, let available):
            "record batch length \(declared) does not match the \(available) bytes given"
        case .invalidMagic(let magic):
            "unsupported record batch magic \(magic) (only 2 is supported)"
        case .crcMismatch(let expected, let actual):
            "record batch CRC mismatch: stored \(hex(expected)), computed \(hex(actual))"
        case .unsupportedCompression(let bits):
            "unsupported compression codec \(bits)"
        case .invalidRecordCount(let count):
            "invalid record count \(count)"
        case .recordCountMismatch(let declared, let decoded):
            "record batch declares \(declared) records but holds \(decoded)"
        case .corruptRecord(let reason):
            "corrupt record: \(reason)"
        case .decompressionFailed(let codec, let reason):
            "\(codec) decompression failed: \(reason)"
        case .compressionFailed(let codec, let reason):
            "\(codec) compression failed: \(reason)"
        case .invalidControlRecord(let reason):
            "invalid control record: \(reason)"
        case .invalidInput(let reason):
            "invalid record batch input: \(reason)"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
