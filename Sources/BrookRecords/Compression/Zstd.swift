import CZstd
import NIOCore

/// Zstandard frames. Decompression streams, so frames without a content size (as some clients
/// write them) and concatenated frames are accepted; the output limit still applies.
enum Zstd {
    static func compress(
        _ input: ByteBuffer,
        level: Int32?,
        allocator: ByteBufferAllocator
    ) throws(CompressionError) -> ByteBuffer {
        let bound = ZSTD_compressBound(input.readableBytes)
        var output = allocator.buffer(capacity: bound)
        var result = 0
        _ = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { space in
                result = ZSTD_compress(
                    space.baseAddress, space.count, source.baseAddress, source.count,
                    level ?? ZSTD_CLEVEL_DEFAULT)
                return ZSTD_isError(result) != 0 ? 0 : result
            }
        }
        guard ZSTD_isError(result) == 0 else {
            throw .libraryFailure(String(cString: ZSTD_getErrorName(result)))
        }
        return output
    }

    static func decompress(
        _ input: ByteBuffer,
        limit: Int,
        allocator: ByteBufferAllocator
    ) throws(CompressionError) -> ByteBuffer {
        guard let context = ZSTD_createDCtx() else {
            throw .libraryFailure("cannot create a zstd decompression context")
        }
        defer { ZSTD_freeDCtx(context) }

        var output = DecompressionOutput(
            allocator: allocator, expectedBytes: input.readableBytes * 4, limit: limit)
        try input.withReadableBytes { (source) throws(CompressionError) in
            guard source.count > 0 else { throw .truncatedInput }
            var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
            while true {
                var hint = 0
                var produced = 0
                var offered = 0
                try output.write { space in
                    offered = space.count
                    var outBuffer = ZSTD_outBuffer(dst: space.baseAddress, size: space.count, pos: 0)
                    hint = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                    produced = ZSTD_isError(hint) != 0 ? 0 : outBuffer.pos
                    return produced
                }
                guard ZSTD_isError(hint) == 0 else {
                    throw .corruptInput(String(cString: ZSTD_getErrorName(hint)))
                }
                let inputDone = inBuffer.pos == inBuffer.size
                if hint == 0 {
                    // A frame ended and was flushed; another may follow.
                    if inputDone { return }
                } else if inputDone && produced < offered {
                    throw .truncatedInput
                }
            }
        }
        return output.buffer
    }
}
