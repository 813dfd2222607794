import NIOCore

/// One record of a v2 batch, with absolute offset and timestamp.
///
/// Keys, values and header values are slices of the batch buffer (or of the buffer the batch
/// was decompressed into), not copies. On the wire a record is:
///
///     length          varint   bytes after this field
///     attributes      int8     unused, 0
///     timestampDelta  varlong  timestamp - batch baseTimestamp
///     offsetDelta     varint   offset - batch baseOffset
///     keyLength       varint   -1 for a null key
///     key             bytes
///     valueLength     varint   -1 for a null value
///     value           bytes
///     headerCount     varint
///     headers         [keyLength varint, key UTF-8, valueLength varint (-1 null), value]
public struct Record: Sendable, Equatable, CustomStringConvertible {
    /// A record header: a UTF-8 key and an optional value.
    public struct Header: Sendable, Equatable {
        public var key: String
        public var value: ByteBuffer?

        public init(key: String, value: ByteBuffer?) {
            self.key = key
            self.value = value
        }
    }

    /// Absolute offset: batch baseOffset + offsetDelta.
    public var offset: Int64
    /// Create time, or the batch's log-append time when the batch uses LogAppendTime.
    public var timestamp: Int64
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [Header]

    public init(
        offset: Int64,
        timestamp: Int64,
        key: ByteBuffer?,
        value: ByteBuffer?,
        headers: [Header] = []
    ) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    public var description: String {
        "Record(offset: \(offset), timestamp: \(timestamp), key: \(key?.readableBytes.description ?? "null") bytes, "
            + "value: \(value?.readableBytes.description ?? "null") bytes, headers: \(headers.count))"
    }
}
