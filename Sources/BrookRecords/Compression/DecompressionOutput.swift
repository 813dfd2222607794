import NIOCore

/// A growing output buffer for streaming decompressors that refuses to pass a size limit.
///
/// The writable space offered to the decompressor never lets the output reach more than
/// `limit + 1` bytes; reaching `limit + 1` proves the stream is too large.
struct DecompressionOutput {
    private(set) var buffer: ByteBuffer
    let limit: Int

    init(allocator: ByteBufferAllocator, expectedBytes: Int, limit: Int) {
        // `limit + 1` must not overflow: a caller may pass Int.max for "no limit".
        let limit = min(limit, Int.max - 1)
        self.limit = limit
        self.buffer = allocator.buffer(capacity: min(max(expectedBytes, 256), limit + 1))
    }

    /// Offers writable space to `body`, which returns how many bytes it wrote there.
    mutating func write(_ body: (UnsafeMutableRawBufferPointer) -> Int) throws(CompressionError) {
        let produced = buffer.readableBytes
        let room = limit + 1 - produced
        guard room > 0 else { throw .outputLimitExceeded(limit: limit) }
        let wanted = min(room, max(produced, 4096))
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { space in
            body(UnsafeMutableRawBufferPointer(rebasing: space.prefix(room)))
        }
        guard buffer.readableBytes <= limit else { throw .outputLimitExceeded(limit: limit) }
    }
}

extension ByteBuffer {
    /// `withUnsafeReadableBytes` for a body with a typed error.
    func withReadableBytes<R, E: Error>(
        _ body: (UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        let result = withUnsafeReadableBytes { raw in
            Result { () throws(E) -> R in try body(raw) }
        }
        return try result.get()
    }
}
