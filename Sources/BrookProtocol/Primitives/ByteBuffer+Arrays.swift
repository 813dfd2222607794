import NIOCore

/// Arrays in both encodings: an int32 count (-1 for null) or, in flexible versions, an unsigned
/// varint of count + 1 (0 for null), followed by the elements.
extension ByteBuffer {
    /// Reads an array count; `nil` means null. A count whose elements cannot fit the bytes left
    /// (each takes at least `minimumElementSize` bytes, computed by the generator from the
    /// element's fixed fields) is rejected before anything is allocated.
    @inlinable
    mutating func readArrayCount(compact: Bool, minimumElementSize: Int = 1) throws(ProtocolError) -> Int? {
        let count: Int64
        if compact {
            let raw = try readUnsignedVarint()
            if raw == 0 { return nil }
            guard raw - 1 <= UInt64(Int32.max) else { throw .invalidLength(Int64(truncatingIfNeeded: raw)) }
            count = Int64(raw - 1)
        } else {
            let raw = try readInt32()
            if raw == -1 { return nil }
            guard raw >= 0 else { throw .invalidLength(Int64(raw)) }
            count = Int64(raw)
        }
        // count < 2^31 and the element size is a small constant: the product cannot overflow.
        guard count * Int64(max(minimumElementSize, 1)) <= Int64(readableBytes) else { throw .invalidLength(count) }
        return Int(count)
    }

    /// Reads a nullable array, decoding each element with `element`; throws if null and
    /// `nullable` is false. Space is reserved up front for at most as many elements as fit in
    /// the bytes left, so that memory reserved never exceeds the input's size; the array grows
    /// past that only as elements really decode.
    @inlinable
    public mutating func readNullableArray<Element>(
        compact: Bool, nullable: Bool = true, minimumElementSize: Int = 1, field: StaticString = "array",
        _ element: (inout ByteBuffer) throws(ProtocolError) -> Element
    ) throws(ProtocolError) -> [Element]? {
        guard let count = try readArrayCount(compact: compact, minimumElementSize: minimumElementSize) else {
            if nullable { return nil }
            throw .unexpectedNull(field: "\(field)")
        }
        var items: [Element] = []
        items.reserveCapacity(Swift.min(count, Swift.max(16, readableBytes / Swift.max(MemoryLayout<Element>.stride, 1))))
        for _ in 0..<count {
            items.append(try element(&self))
        }
        return items
    }

    /// Reads an array that must not be null.
    @inlinable
    public mutating func readArray<Element>(
        compact: Bool, minimumElementSize: Int = 1, field: StaticString = "array",
        _ element: (inout ByteBuffer) throws(ProtocolError) -> Element
    ) throws(ProtocolError) -> [Element] {
        guard let items = try readNullableArray(
            compact: compact, nullable: false, minimumElementSize: minimumElementSize, field: field, element
        ) else {
            throw .unexpectedNull(field: "\(field)")
        }
        return items
    }

    @inlinable
    public mutating func writeArray<Element>(
        _ items: [Element], compact: Bool,
        _ element: (inout ByteBuffer, Element) throws(ProtocolError) -> Void
    ) throws(ProtocolError) {
        writeArrayCount(items.count, compact: compact)
        for item in items {
            try element(&self, item)
        }
    }

    @inlinable
    public mutating func writeNullableArray<Element>(
        _ items: [Element]?, compact: Bool, nullable: Bool = true, field: StaticString = "array",
        _ element: (inout ByteBuffer, Element) throws(ProtocolError) -> Void
    ) throws(ProtocolError) {
        guard let items else {
            guard nullable else { throw .unexpectedNull(field: "\(field)") }
            writeArrayCount(nil, compact: compact)
            return
        }
        try writeArray(items, compact: compact, element)
    }

    @inlinable
    mutating func writeArrayCount(_ count: Int?, compact: Bool) {
        if compact {
            writeUnsignedVarint(count.map { UInt64($0) + 1 } ?? 0)
        } else {
            writeInt32(count.map { Int32($0) } ?? -1)
        }
    }
}
