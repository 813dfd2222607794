import NIOCore

/// Zig-zag varints as used inside v2 records (protobuf style: 7 bits per byte, low bits first).
///
/// `varint` holds an Int32 in at most 5 bytes, `varlong` an Int64 in at most 10. Like Kafka's
/// reader, bits beyond the width in the last allowed byte are ignored.
enum Varint {
    static func size(ofVarint value: Int32) -> Int {
        size(ofUnsigned: UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
    }

    static func size(ofVarlong value: Int64) -> Int {
        size(ofUnsigned: UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    private static func size(ofUnsigned value: UInt64) -> Int {
        // One byte per started group of 7 bits, at least one byte.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }
}

extension ByteBuffer {
    /// Writes a zig-zag varint; returns the number of bytes written.
    @discardableResult
    mutating func writeRecordVarint(_ value: Int32) -> Int {
        writeUnsignedVarint(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
    }

    /// Writes a zig-zag varlong; returns the number of bytes written.
    @discardableResult
    mutating func writeRecordVarlong(_ value: Int64) -> Int {
        writeUnsignedVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    private mutating func writeUnsignedVarint(_ value: UInt64) -> Int {
        var remaining = value
        var written = 0
        while remaining >= 0x80 {
            written += writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        written += writeInteger(UInt8(remaining))
        return written
    }
}

/// A bounds-checked reader over raw bytes, used to decode records without per-field allocation.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    /// Index of the next byte to read.
    var position: Int
    /// Reads never go past this index.
    var limit: Int

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
        self.limit = bytes.count
    }

    var remaining: Int { limit - position }

    @inline(__always)
    mutating func readInt8() throws(RecordBatchError) -> Int8 {
        guard position < limit else { throw .corruptRecord(reason: "record ends early") }
        defer { position += 1 }
        return Int8(bitPattern: bytes[position])
    }

    mutating func readInt16() throws(RecordBatchError) -> Int16 {
        guard remaining >= 2 else { throw .corruptRecord(reason: "record ends early") }
        defer { position += 2 }
        return Int16(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int16.self))
    }

    mutating func readInt32() throws(RecordBatchError) -> Int32 {
        guard remaining >= 4 else { throw .corruptRecord(reason: "record ends early") }
        defer { position += 4 }
        return Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int32.self))
    }

    @inline(__always)
    mutating func readVarint() throws(RecordBatchError) -> Int32 {
        let value: UInt32
        if position < limit, bytes[position] & 0x80 == 0 {
            // One byte (-64...63) is the common case: lengths of small fields, deltas, counts.
            value = UInt32(bytes[position])
            position += 1
        } else {
            value = UInt32(truncatingIfNeeded: try readUnsigned(maxBytes: 5))
        }
        return Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    @inline(__always)
    mutating func readVarlong() throws(RecordBatchError) -> Int64 {
        let value = try readUnsigned(maxBytes: 10)
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    @inline(__always)
    private mutating func readUnsigned(maxBytes: Int) throws(RecordBatchError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<maxBytes {
            guard position < limit else { throw .corruptRecord(reason: "varint runs past the end") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw .corruptRecord(reason: "varint is too long")
    }

    /// Reads a length-prefixed byte range: nil for length -1; the range is relative to `bytes`.
    @inline(__always)
    mutating func readNullableRange() throws(RecordBatchError) -> Range<Int>? {
        let length = try readVarint()
        if length == -1 { return nil }
        guard length >= 0 else { throw .corruptRecord(reason: "negative length \(length)") }
        guard Int(length) <= remaining else { throw .corruptRecord(reason: "length \(length) runs past the end") }
        defer { position += Int(length) }
        return position..<(position + Int(length))
    }
}
