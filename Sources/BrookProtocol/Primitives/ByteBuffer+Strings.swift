import NIOCore

/// Strings and byte fields in both encodings: the classic one (int16 length for strings, int32 for
/// bytes, -1 for null) and the compact one of flexible versions (unsigned varint of length + 1,
/// 0 for null). Bytes are returned as zero-copy slices of the source buffer.
extension ByteBuffer {
    /// Validates a length read from the wire against the readable bytes.
    @inlinable
    mutating func readLength(_ raw: UInt64) throws(ProtocolError) -> Int {
        guard raw <= UInt64(Int32.max) else { throw .invalidLength(Int64(truncatingIfNeeded: raw)) }
        let length = Int(raw)
        guard length <= readableBytes else { throw .truncated(needed: length, available: readableBytes) }
        return length
    }

    @inlinable
    mutating func readKafkaSlice(length: Int) throws(ProtocolError) -> ByteBuffer {
        guard let slice = readSlice(length: length) else {
            throw .truncated(needed: length, available: readableBytes)
        }
        return slice
    }

    /// Reads a length prefix; `nil` means null.
    @inlinable
    mutating func readNullableLength(compact: Bool, wide: Bool) throws(ProtocolError) -> Int? {
        if compact {
            let raw = try readUnsignedVarint()
            if raw == 0 { return nil }
            return try readLength(raw - 1)
        }
        let raw: Int64 = wide ? Int64(try readInt32()) : Int64(try readInt16())
        if raw == -1 { return nil }
        guard raw >= 0 else { throw .invalidLength(raw) }
        return try readLength(UInt64(raw))
    }

    @inlinable
    mutating func writeLength(_ length: Int?, compact: Bool, wide: Bool) {
        if compact {
            writeUnsignedVarint(length.map { UInt64($0) + 1 } ?? 0)
        } else if wide {
            writeInt32(length.map { Int32($0) } ?? -1)
        } else {
            writeInt16(length.map { Int16($0) } ?? -1)
        }
    }

    // MARK: Strings

    /// Reads a nullable string; throws if it is null and `nullable` is false.
    @inlinable
    public mutating func readNullableString(
        compact: Bool, nullable: Bool = true, field: StaticString = "string"
    ) throws(ProtocolError) -> String? {
        guard let length = try readNullableLength(compact: compact, wide: false) else {
            if nullable { return nil }
            throw .unexpectedNull(field: "\(field)")
        }
        return readString(length: length)
    }

    /// Reads a string that must not be null.
    @inlinable
    public mutating func readString(compact: Bool, field: StaticString = "string") throws(ProtocolError) -> String {
        guard let length = try readNullableLength(compact: compact, wide: false) else {
            throw .unexpectedNull(field: "\(field)")
        }
        return readString(length: length)!
    }

    @inlinable
    public mutating func writeString(_ value: String, compact: Bool) {
        var value = value
        value.withUTF8 { bytes in
            writeLength(bytes.count, compact: compact, wide: false)
            writeBytes(bytes)
        }
    }

    /// Writes a nullable string; throws if it is nil and `nullable` is false.
    @inlinable
    public mutating func writeNullableString(
        _ value: String?, compact: Bool, nullable: Bool = true, field: StaticString = "string"
    ) throws(ProtocolError) {
        if let value {
            writeString(value, compact: compact)
        } else if nullable {
            writeLength(nil, compact: compact, wide: false)
        } else {
            throw .unexpectedNull(field: "\(field)")
        }
    }

    // MARK: Bytes and records

    /// Reads nullable bytes as a zero-copy slice; throws if null and `nullable` is false.
    @inlinable
    public mutating func readNullableBytes(
        compact: Bool, nullable: Bool = true, field: StaticString = "bytes"
    ) throws(ProtocolError) -> ByteBuffer? {
        guard let length = try readNullableLength(compact: compact, wide: true) else {
            if nullable { return nil }
            throw .unexpectedNull(field: "\(field)")
        }
        return try readKafkaSlice(length: length)
    }

    /// Reads bytes that must not be null, as a zero-copy slice.
    @inlinable
    public mutating func readBytes(compact: Bool, field: StaticString = "bytes") throws(ProtocolError) -> ByteBuffer {
        guard let length = try readNullableLength(compact: compact, wide: true) else {
            throw .unexpectedNull(field: "\(field)")
        }
        return try readKafkaSlice(length: length)
    }

    @inlinable
    public mutating func writeBytes(_ value: ByteBuffer, compact: Bool) {
        writeLength(value.readableBytes, compact: compact, wide: true)
        writeImmutableBuffer(value)
    }

    @inlinable
    public mutating func writeNullableBytes(
        _ value: ByteBuffer?, compact: Bool, nullable: Bool = true, field: StaticString = "bytes"
    ) throws(ProtocolError) {
        if let value {
            writeBytes(value, compact: compact)
        } else if nullable {
            writeLength(nil, compact: compact, wide: true)
        } else {
            throw .unexpectedNull(field: "\(field)")
        }
    }
}
