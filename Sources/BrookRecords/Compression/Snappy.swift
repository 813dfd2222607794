import CSnappy
import NIOCore

/// Snappy: raw snappy when writing (as librdkafka does; Java's SnappyInputStream also reads it),
/// raw or xerial-framed snappy when reading.
///
/// Xerial framing, written by Java clients through snappy-java's SnappyOutputStream:
///
///     magic   82 53 4E 41 50 50 59 00   ("\x82SNAPPY\0")
///     version int32 big-endian           (1)
///     compat  int32 big-endian           (1)
///     then blocks: length int32 big-endian, followed by `length` bytes of raw snappy
enum Snappy {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderSize = 16

    static func compress(_ input: ByteBuffer, allocator: ByteBufferAllocator) throws(CompressionError) -> ByteBuffer {
        guard input.readableBytes > 0 else {
            // The raw snappy encoding of nothing: an uncompressed-length varint of 0.
            var empty = allocator.buffer(capacity: 1)
            empty.writeInteger(UInt8(0))
            return empty
        }
        let bound = snappy_max_compressed_length(input.readableBytes)
        var output = allocator.buffer(capacity: bound)
        var status = SNAPPY_OK
        _ = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { space in
                var length = space.count
                status = snappy_compress(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self), source.count,
                    space.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
                return status == SNAPPY_OK ? length : 0
            }
        }
        guard status == SNAPPY_OK else { throw .libraryFailure("snappy_compress failed") }
        return output
    }

    static func decompress(
        _ input: ByteBuffer,
        limit: Int,
        allocator: ByteBufferAllocator
    ) throws(CompressionError) -> ByteBuffer {
        if isXerialFramed(input) {
            return try decompressXerial(input, limit: limit, allocator: allocator)
        }
        var output = allocator.buffer(capacity: 0)
        try input.withReadableBytes { (source) throws(CompressionError) in
            try appendRaw(source, to: &output, limit: limit)
        }
        return output
    }

    static func isXerialFramed(_ input: ByteBuffer) -> Bool {
        guard let head = input.getBytes(at: input.readerIndex, length: xerialMagic.count) else { return false }
        return head == xerialMagic
    }

    private static func decompressXerial(
        _ input: ByteBuffer,
        limit: Int,
        allocator: ByteBufferAllocator
    ) throws(CompressionError) -> ByteBuffer {
        guard input.readableBytes >= xerialHeaderSize else { throw .truncatedInput }
        var output = allocator.buffer(capacity: 0)
        try input.withReadableBytes { (source) throws(CompressionError) in
            var position = xerialHeaderSize
            while position < source.count {
                guard source.count - position >= 4 else { throw .truncatedInput }
                let length = Int(Int32(bigEndian: source.loadUnaligned(fromByteOffset: position, as: Int32.self)))
                position += 4
                guard length >= 0 else { throw .corruptInput("negative xerial block length \(length)") }
                guard length <= source.count - position else { throw .truncatedInput }
                let block = UnsafeRawBufferPointer(rebasing: source[position..<(position + length)])
                try appendRaw(block, to: &output, limit: limit)
                position += length
            }
        }
        return output
    }

    /// Decompresses one raw snappy block and appends it to `output`.
    private static func appendRaw(
        _ block: UnsafeRawBufferPointer,
        to output: inout ByteBuffer,
        limit: Int
    ) throws(CompressionError) {
        let source = block.baseAddress?.assumingMemoryBound(to: CChar.self)
        var expected = 0
        guard let source, snappy_uncompressed_length(source, block.count, &expected) == SNAPPY_OK else {
            throw .corruptInput("invalid snappy length header")
        }
        guard expected <= limit - output.readableBytes else { throw .outputLimitExceeded(limit: limit) }
        var status = SNAPPY_OK
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: max(expected, 1)) { space in
            var length = space.count
            status = snappy_uncompress(
                source, block.count, space.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
            return status == SNAPPY_OK ? length : 0
        }
        guard status == SNAPPY_OK else { throw .corruptInput("invalid snappy data") }
    }
}
