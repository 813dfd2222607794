import NIOCore

/// Fixed-width wire primitives: big-endian integers, IEEE 754 doubles, booleans and UUIDs.
extension ByteBuffer {
    @inlinable
    mutating func readFixed<T: FixedWidthInteger>(_: T.Type) throws(ProtocolError) -> T {
        guard let value = readInteger(endianness: .big, as: T.self) else {
            throw .truncated(needed: MemoryLayout<T>.size, available: readableBytes)
        }
        return value
    }

    @inlinable public mutating func readInt8() throws(ProtocolError) -> Int8 { try readFixed(Int8.self) }
    @inlinable public mutating func readInt16() throws(ProtocolError) -> Int16 { try readFixed(Int16.self) }
    @inlinable public mutating func readInt32() throws(ProtocolError) -> Int32 { try readFixed(Int32.self) }
    @inlinable public mutating func readInt64() throws(ProtocolError) -> Int64 { try readFixed(Int64.self) }
    @inlinable public mutating func readUInt16() throws(ProtocolError) -> UInt16 { try readFixed(UInt16.self) }
    @inlinable public mutating func readUInt32() throws(ProtocolError) -> UInt32 { try readFixed(UInt32.self) }

    @inlinable public mutating func writeInt8(_ value: Int8) { writeInteger(value, endianness: .big) }
    @inlinable public mutating func writeInt16(_ value: Int16) { writeInteger(value, endianness: .big) }
    @inlinable public mutating func writeInt32(_ value: Int32) { writeInteger(value, endianness: .big) }
    @inlinable public mutating func writeInt64(_ value: Int64) { writeInteger(value, endianness: .big) }
    @inlinable public mutating func writeUInt16(_ value: UInt16) { writeInteger(value, endianness: .big) }
    @inlinable public mutating func writeUInt32(_ value: UInt32) { writeInteger(value, endianness: .big) }

    /// Reads a boolean: one byte, any non-zero value is true.
    @inlinable
    public mutating func readBool() throws(ProtocolError) -> Bool { try readFixed(UInt8.self) != 0 }

    @inlinable
    public mutating func writeBool(_ value: Bool) { writeInteger(value ? 1 : 0, as: UInt8.self) }

    /// Reads a float64: eight bytes, big-endian IEEE 754.
    @inlinable
    public mutating func readFloat64() throws(ProtocolError) -> Double {
        Double(bitPattern: try readFixed(UInt64.self))
    }

    @inlinable
    public mutating func writeFloat64(_ value: Double) { writeInteger(value.bitPattern, endianness: .big) }

    /// Reads a UUID: sixteen bytes, most significant half first.
    @inlinable
    public mutating func readUuid() throws(ProtocolError) -> Uuid {
        guard readableBytes >= 16 else { throw .truncated(needed: 16, available: readableBytes) }
        let msb = try readFixed(UInt64.self)
        let lsb = try readFixed(UInt64.self)
        return Uuid(mostSignificantBits: msb, leastSignificantBits: lsb)
    }

    @inlinable
    public mutating func writeUuid(_ value: Uuid) {
        writeInteger(value.mostSignificantBits, endianness: .big)
        writeInteger(value.leastSignificantBits, endianness: .big)
    }
}
