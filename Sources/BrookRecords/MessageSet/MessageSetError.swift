/// Why a legacy (magic 0 or 1) message set was rejected.
///
/// Every malformed input ends in one of these cases; no input makes the reader trap.
public enum MessageSetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than a message header or its declared size needs.
    case truncated(needed: Int, available: Int)
    /// The message size is negative or too small for the message's fixed fields.
    case invalidMessageSize(Int32)
    /// The magic byte is not 0 or 1 (2 means a v2 record batch, which is not a message set).
    case invalidMagic(Int8)
    /// The stored CRC-32 (`expected`) differs from the one computed (`actual`).
    case crcMismatch(expected: UInt32, actual: UInt32)
    /// The codec bits name no codec a legacy message can use.
    case unsupportedCompression(Int)
    /// A key, value or nested message set is malformed.
    case corruptMessage(reason: String)
    /// A wrapper message's value could not be decompressed.
    case decompressionFailed(codec: CompressionCodec, reason: CompressionError)
    /// The message set holds no messages.
    case empty
    /// Converting to or from a v2 batch failed.
    case conversionFailed(RecordBatchError)

    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            "message set truncated: needs \(needed) bytes, \(available) available"
        case .invalidMessageSize(let size): "invalid message size \(size)"
        case .invalidMagic(let magic): "unsupported message magic \(magic) (expected 0 or 1)"
        case .crcMismatch(let expected, let actual): "message CRC mismatch: stored \(expected), computed \(actual)"
        case .unsupportedCompression(let bits): "unsupported compression codec \(bits) in a legacy message"
        case .corruptMessage(let reason): "corrupt message: \(reason)"
        case .decompressionFailed(let codec, let reason): "\(codec) decompression of a wrapper message failed: \(reason)"
        case .empty: "message set holds no messages"
        case .conversionFailed(let error): "message set conversion failed: \(error)"
        }
    }
}
