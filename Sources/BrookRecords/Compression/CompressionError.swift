/// Why compressing or decompressing a buffer failed.
public enum CompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The decompressed data would be larger than the allowed maximum.
    case outputLimitExceeded(limit: Int)
    /// The input ended in the middle of a compressed stream.
    case truncatedInput
    /// The input is not a valid stream for the codec; the text comes from the library or framing.
    case corruptInput(String)
    /// The library failed for another reason (for example, out of memory).
    case libraryFailure(String)

    public var description: String {
        switch self {
        case .outputLimitExceeded(let limit): "decompressed size exceeds the limit of \(limit) bytes"
        case .truncatedInput: "compressed input ends in the middle of a stream"
        case .corruptInput(let reason): "corrupt compressed input: \(reason)"
        case .libraryFailure(let reason): "compression library failure: \(reason)"
        }
    }
}
