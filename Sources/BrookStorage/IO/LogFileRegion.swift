import NIOCore

/// A byte range of a segment's `.log` file holding whole record batches, as a read returns it.
///
/// The broker sends it with zero copy: `NIOFileHandle(descriptor: try file.duplicateDescriptor())`
/// and `FileRegion(fileHandle:readerIndex: Int(position), endIndex: Int(position) + length)`.
/// Where the bytes must pass through memory (TLS, tests), ``readBytes(allocator:)`` reads them.
///
/// Holding a region keeps the file open (see ``SegmentFile``); the bytes it names were complete
/// and below the log end offset when the read ran, and appends never rewrite them.
public struct LogFileRegion: Sendable {
    public let file: SegmentFile
    /// Byte position of the first batch in the file.
    public let position: Int64
    /// Byte count; always a whole number of batches.
    public let length: Int

    public init(file: SegmentFile, position: Int64, length: Int) {
        self.file = file
        self.position = position
        self.length = length
    }

    /// The region's bytes, read with `pread`.
    public func readBytes(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(StorageError) -> ByteBuffer {
        try file.read(at: position, length: length, allocator: allocator)
    }
}
