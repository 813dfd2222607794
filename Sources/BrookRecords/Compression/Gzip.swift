import CZlib
import NIOCore

/// gzip through zlib: a real gzip wrapper when writing (what Kafka's GZIPOutputStream and
/// librdkafka write), gzip or zlib auto-detected when reading, concatenated members accepted.
enum Gzip {
    private static let streamSize = Int32(MemoryLayout<z_stream>.size)

    static func compress(
        _ input: ByteBuffer,
        level: Int32?,
        allocator: ByteBufferAllocator
    ) throws(CompressionError) -> ByteBuffer {
        let stream = ZStream()
        defer { stream.release() }
        let rc = deflateInit2_(
            stream.pointer, level ?? Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
            Z_DEFAULT_STRATEGY, zlibVersion(), streamSize)
        guard rc == Z_OK else { throw .libraryFailure("deflateInit2 failed (\(rc))") }
        defer { deflateEnd(stream.pointer) }

        let bound = Int(deflateBound(stream.pointer, UInt(input.readableBytes)))
        var output = allocator.buffer(capacity: bound)
        var status = Z_OK
        input.withUnsafeReadableBytes { source in
            stream.pointer.pointee.next_in = source.baseAddress.map {
                UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
            }
            stream.pointer.pointee.avail_in = uInt(source.count)
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { space in
                stream.pointer.pointee.next_out = space.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointer.pointee.avail_out = uInt(space.count)
                status = deflate(stream.pointer, Z_FINISH)
                return space.count - Int(stream.pointer.pointee.avail_out)
            }
        }
        guard status == Z_STREAM_END else { throw .libraryFailure("deflate failed (\(status))") }
        return output
    }

    static func decompress(
        _ input: ByteBuffer,
        limit: Int,
        allocator: ByteBufferAllocator
    ) throws(CompressionError) -> ByteBuffer {
        let stream = ZStream()
        defer { stream.release() }
        let rc = inflateInit2_(stream.pointer, 15 + 32, zlibVersion(), streamSize)
        guard rc == Z_OK else { throw .libraryFailure("inflateInit2 failed (\(rc))") }
        defer { inflateEnd(stream.pointer) }

        var output = DecompressionOutput(
            allocator: allocator, expectedBytes: input.readableBytes * 4, limit: limit)
        try input.withReadableBytes { (source) throws(CompressionError) in
            let z = stream.pointer
            z.pointee.next_in = source.baseAddress.map {
                UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
            }
            z.pointee.avail_in = uInt(source.count)
            while true {
                var status = Z_OK
                try output.write { space in
                    z.pointee.next_out = space.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    z.pointee.avail_out = uInt(space.count)
                    status = inflate(z, Z_NO_FLUSH)
                    return space.count - Int(z.pointee.avail_out)
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    if z.pointee.avail_in == 0 { return }
                    // Another gzip member follows.
                    guard inflateReset(z) == Z_OK else { throw .libraryFailure("inflateReset failed") }
                case Z_BUF_ERROR:
                    throw .truncatedInput
                case Z_MEM_ERROR:
                    throw .libraryFailure("out of memory")
                default:
                    let message = z.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw .corruptInput(message)
                }
            }
        }
        return output.buffer
    }
}

/// A heap-allocated z_stream: zlib keeps a pointer back to it, so it must not move.
private struct ZStream {
    let pointer: UnsafeMutablePointer<z_stream>

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: z_stream())
    }

    func release() {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
