import NIOCore

/// A tagged field this build does not know, kept verbatim so that a decoded message re-encodes
/// byte for byte (KIP-482).
public struct TaggedField: Hashable, Sendable {
    /// The field's tag.
    public var tag: UInt32
    /// The field's encoded value, without the tag and size prefix.
    public var data: ByteBuffer

    public init(tag: UInt32, data: ByteBuffer) {
        self.tag = tag
        self.data = data
    }
}

extension ByteBuffer {
    /// Writes the unknown tagged fields whose tag is below `limit`, starting at `index`, and
    /// advances `index` past them. Known and unknown fields must interleave in ascending tag order.
    @inlinable
    public mutating func writeUnknownTaggedFields(
        _ fields: [TaggedField], below limit: UInt64, from index: inout Int
    ) {
        while index < fields.count, UInt64(fields[index].tag) < limit {
            let field = fields[index]
            writeUnsignedVarint(UInt64(field.tag))
            writeUnsignedVarint(UInt64(field.data.readableBytes))
            writeImmutableBuffer(field.data)
            index += 1
        }
    }

    /// Writes one known tagged field: its tag, the size of its encoding, then the encoding that
    /// `body` writes.
    @inlinable
    public mutating func writeTaggedField(
        tag: UInt32, _ body: (inout ByteBuffer) throws(ProtocolError) -> Void
    ) throws(ProtocolError) {
        var scratch = ByteBuffer()
        try body(&scratch)
        writeUnsignedVarint(UInt64(tag))
        writeUnsignedVarint(UInt64(scratch.readableBytes))
        writeImmutableBuffer(scratch)
    }

    /// Reads the header of one tagged field and returns its tag and a slice holding its value.
    @inlinable
    public mutating func readTaggedField() throws(ProtocolError) -> (tag: UInt32, value: ByteBuffer) {
        let tag = try readUnsignedVarint()
        guard tag <= UInt64(UInt32.max) else { throw .invalidLength(Int64(truncatingIfNeeded: tag)) }
        let size = try readLength(try readUnsignedVarint())
        return (UInt32(tag), try readKafkaSlice(length: size))
    }
}
