import NIOCore

/// A struct of the Kafka protocol: a message or one of the structs nested in it.
///
/// Every generated type conforms. Decoding reads exactly the bytes of the given version and
/// leaves the reader index after them; encoding writes them. Both are pure: no I/O, no locks.
public protocol ProtocolStruct: Sendable, Equatable {
    /// Decodes the struct as it is laid out in `version`.
    init(from buffer: inout ByteBuffer, version: Int16) throws(ProtocolError)

    /// Encodes the struct as it is laid out in `version`.
    ///
    /// Throws ``ProtocolError/fieldNotInVersion(field:version:)`` when a field that the version
    /// lacks holds a non-default value and is not ignorable, as Kafka's generated code does.
    func write(to buffer: inout ByteBuffer, version: Int16) throws(ProtocolError)
}

/// A top-level message of the Kafka protocol: a request, a response, a header or a data record.
public protocol ProtocolMessage: ProtocolStruct {
    /// The message's name in Apache Kafka's JSON definitions.
    static var messageName: String { get }
    /// The versions the definition declares valid.
    static var validVersions: ClosedRange<Int16> { get }
    /// The lowest flexible version (compact encodings and tagged fields), or nil if none is.
    static var lowestFlexibleVersion: Int16? { get }
}

extension ProtocolMessage {
    /// Whether `version` uses the flexible encoding.
    @inlinable
    public static func isFlexible(_ version: Int16) -> Bool {
        guard let lowest = lowestFlexibleVersion else { return false }
        return version >= lowest
    }

    /// Encodes the message into a new buffer.
    @inlinable
    public func encoded(version: Int16) throws(ProtocolError) -> ByteBuffer {
        var buffer = ByteBuffer()
        try write(to: &buffer, version: version)
        return buffer
    }
}

/// A request of a Kafka API; its response type is known statically.
public protocol KafkaRequest: ProtocolMessage {
    associatedtype Response: KafkaResponse
    /// The API this request belongs to.
    static var apiKey: ApiKey { get }
}

/// A response of a Kafka API.
public protocol KafkaResponse: ProtocolMessage {
    /// The API this response belongs to.
    static var apiKey: ApiKey { get }
}

/// A response with a top-level `throttle_time_ms`: how long the client was throttled for a
/// quota (its versions without the field simply do not send it).
public protocol ThrottledResponse: KafkaResponse {
    var throttleTimeMs: Int32 { get set }
}
