import NIOCore

/// Variable-length integers: unsigned LEB128 (as in protobuf) for lengths and tags, and the
/// zig-zag signed forms for `varint`/`varlong` fields.
extension ByteBuffer {
    /// Reads an unsigned LEB128 integer of at most 64 bits.
    @inlinable
    public mutating func readUnsignedVarint() throws(ProtocolError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else {
                throw .truncated(needed: 1, available: 0)
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .varintTooLong }
        }
    }

    @inlinable
    public mutating func writeUnsignedVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        writeInteger(UInt8(remaining))
    }

    /// Reads a zig-zag encoded signed 32-bit integer.
    @inlinable
    public mutating func readVarint() throws(ProtocolError) -> Int32 {
        let raw = try readUnsignedVarint()
        guard raw <= UInt64(UInt32.max) else { throw .varintTooLong }
        let value = UInt32(raw)
        return Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    @inlinable
    public mutating func writeVarint(_ value: Int32) {
        writeUnsignedVarint(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
    }

    /// Reads a zig-zag encoded signed 64-bit integer.
    @inlinable
    public mutating func readVarlong() throws(ProtocolError) -> Int64 {
        let value = try readUnsignedVarint()
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    @inlinable
    public mutating func writeVarlong(_ value: Int64) {
        writeUnsignedVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// The number of bytes `writeUnsignedVarint(value)` writes.
    @inlinable
    public static func unsignedVarintSize(_ value: UInt64) -> Int {
        var size = 1
        var remaining = value >> 7
        while remaining != 0 {
            size += 1
            remaining >>= 7
        }
        return size
    }
}
