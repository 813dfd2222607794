import NIOCore

/// The compression codec of a record batch: bits 0-2 of the batch attributes.
///
/// Compression works on whole buffers: a batch's records section is compressed as one stream.
/// Decompression never trusts the input: output is capped (a decompression bomb guard, see
/// ``defaultMaxDecompressedBytes``) and every library failure becomes a ``CompressionError``.
public enum CompressionCodec: Int8, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    /// Default cap on the decompressed size of one batch: 64 MiB.
    ///
    /// A produce request is at most `max.request.size` (1 MiB by default) compressed; 64 MiB
    /// leaves room for very compressible data while keeping one hostile batch from taking more
    /// memory than a few legitimate fetch responses.
    public static let defaultMaxDecompressedBytes = 64 * 1024 * 1024

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// Compresses the readable bytes of `input` into a new buffer.
    ///
    /// - Parameters:
    ///   - level: codec-specific level; `nil` picks the codec default (gzip 6, lz4 0 (fast),
    ///     zstd 3). Snappy has no levels.
    /// - Returns: `input` itself for ``none``.
    public func compress(
        _ input: ByteBuffer,
        level: Int32? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(CompressionError) -> ByteBuffer {
        switch self {
        case .none: input
        case .gzip: try Gzip.compress(input, level: level, allocator: allocator)
        case .snappy: try Snappy.compress(input, allocator: allocator)
        case .lz4: try LZ4Frame.compress(input, level: level, allocator: allocator)
        case .zstd: try Zstd.compress(input, level: level, allocator: allocator)
        }
    }

    /// Decompresses the readable bytes of `input` into a new buffer.
    ///
    /// Accepts what Kafka clients write: gzip (also concatenated members and zlib streams), raw
    /// snappy or xerial-framed snappy (Java clients), LZ4 frames, zstd frames with or without a
    /// content size (also concatenated frames).
    ///
    /// - Parameter maxOutputBytes: the largest output accepted; more throws
    ///   ``CompressionError/outputLimitExceeded(limit:)``.
    /// - Returns: `input` itself for ``none``.
    public func decompress(
        _ input: ByteBuffer,
        maxOutputBytes: Int = CompressionCodec.defaultMaxDecompressedBytes,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(CompressionError) -> ByteBuffer {
        let limit = max(0, maxOutputBytes)
        switch self {
        case .none:
            guard input.readableBytes <= limit else { throw .outputLimitExceeded(limit: limit) }
            return input
        case .gzip: return try Gzip.decompress(input, limit: limit, allocator: allocator)
        case .snappy: return try Snappy.decompress(input, limit: limit, allocator: allocator)
        case .lz4: return try LZ4Frame.decompress(input, limit: limit, allocator: allocator)
        case .zstd: return try Zstd.decompress(input, limit: limit, allocator: allocator)
        }
    }
}
