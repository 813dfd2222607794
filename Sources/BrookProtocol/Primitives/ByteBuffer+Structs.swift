import NIOCore

/// Nullable struct fields: in versions where the struct is nullable, an int8 marker precedes it
/// (-1 for null, 1 for present); in other versions the struct is written bare.
extension ByteBuffer {
    @inlinable
    public mutating func readNullableStruct<Value>(
        nullable: Bool, field: StaticString = "struct",
        _ body: (inout ByteBuffer) throws(ProtocolError) -> Value
    ) throws(ProtocolError) -> Value? {
        if nullable, try readInt8() < 0 { return nil }
        return try body(&self)
    }

    @inlinable
    public mutating func writeNullableStruct<Value>(
        _ value: Value?, nullable: Bool, field: StaticString = "struct",
        _ body: (inout ByteBuffer, Value) throws(ProtocolError) -> Void
    ) throws(ProtocolError) {
        guard let value else {
            guard nullable else { throw .unexpectedNull(field: "\(field)") }
            writeInt8(-1)
            return
        }
        if nullable { writeInt8(1) }
        try body(&self, value)
    }
}
