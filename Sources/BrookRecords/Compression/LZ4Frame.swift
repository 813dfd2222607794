import CLZ4
import NIOCore

/// LZ4 in the LZ4 *frame* format (magic 04 22 4D 18), the format of v2 record batches.
///
/// Written with independent 64 KiB blocks and no content size or checksums, like Kafka's Java
/// client; any valid frame (checksums, content size, linked blocks, several frames) is read.
enum LZ4Frame {
    static func compress(
        _ input: ByteBuffer,
        level: Int32?,
        allocator: ByteBufferAllocator
    ) throws(CompressionError) -> ByteBuffer {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.compressionLevel = level ?? 0
        let bound = LZ4F_compressFrameBound(input.readableBytes, &preferences)
        var output = allocator.buffer(capacity: bound)
        var result = 0
        _ = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { space in
                result = LZ4F_compressFrame(
                    space.baseAddress, space.count, source.baseAddress, source.count, &preferences)
                return LZ4F_isError(result) != 0 ? 0 : result
            }
        }
        guard LZ4F_isError(result) == 0 else {
            throw .libraryFailure(String(cString: LZ4F_getErrorName(result)))
        }
        return output
    }

    static func decompress(
        _ input: ByteBuffer,
        limit: Int,
        allocator: ByteBufferAllocator
    ) throws(CompressionError) -> ByteBuffer {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw .libraryFailure("cannot create an LZ4 decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }

        var output = DecompressionOutput(
            allocator: allocator, expectedBytes: input.readableBytes * 4, limit: limit)
        try input.withReadableBytes { (source) throws(CompressionError) in
            guard source.count > 0 else { throw .truncatedInput }
            var position = 0
            while true {
                var hint = 0
                var consumed = 0
                var produced = 0
                var offered = 0
                try output.write { space in
                    offered = space.count
                    var outputSize = space.count
                    var inputSize = source.count - position
                    hint = LZ4F_decompress(
                        context, space.baseAddress, &outputSize,
                        source.baseAddress.map { $0 + position }, &inputSize, nil)
                    guard LZ4F_isError(hint) == 0 else { return 0 }
                    consumed = inputSize
                    produced = outputSize
                    return outputSize
                }
                guard LZ4F_isError(hint) == 0 else {
                    throw .corruptInput(String(cString: LZ4F_getErrorName(hint)))
                }
                position += consumed
                if hint == 0 {
                    // A frame ended; another may follow.
                    if position == source.count { return }
                } else if position == source.count && produced < offered {
                    throw .truncatedInput
                } else if consumed == 0 && produced == 0 {
                    throw .corruptInput("LZ4 decoder made no progress")
                }
            }
        }
        return output.buffer
    }
}
