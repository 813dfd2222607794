/// Why a Kafka message could not be decoded or encoded.
///
/// Decoding never traps on bad input: every malformed length, truncated field or illegal null
/// surfaces as one of these cases, which the broker turns into a Kafka error code or a closed
/// connection.
public enum ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The buffer ended before the field was complete.
    case truncated(needed: Int, available: Int)
    /// A length or count prefix is negative (other than the null marker) or larger than the buffer.
    case invalidLength(Int64)
    /// A variable-length integer ran past its maximum width.
    case varintTooLong
    /// A field that is not nullable in this version was sent as null.
    case unexpectedNull(field: String)
    /// The message has no such version.
    case unsupportedVersion(message: String, version: Int16)
    /// A field that does not exist in this version holds a non-default value, and it is not ignorable.
    case fieldNotInVersion(field: String, version: Int16)
    /// The API key is not one this build knows.
    case unknownApiKey(Int16)
    /// A frame exceeds the configured maximum size.
    case frameTooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case let .truncated(needed, available):
            "message truncated: needed \(needed) more bytes, \(available) available"
        case let .invalidLength(length):
            "invalid length or count prefix \(length)"
        case .varintTooLong:
            "variable-length integer is too long"
        case let .unexpectedNull(field):
            "non-nullable field \(field) was serialized as null"
        case let .unsupportedVersion(message, version):
            "\(message) has no version \(version)"
        case let .fieldNotInVersion(field, version):
            "field \(field) cannot be set to a non-default value in version \(version)"
        case let .unknownApiKey(key):
            "unknown API key \(key)"
        case let .frameTooLarge(size, limit):
            "frame of \(size) bytes exceeds the limit of \(limit) bytes"
        }
    }
}
