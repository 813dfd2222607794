#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import Synchronization

/// An open file of a log segment (`.log`, `.index` or `.timeindex`), reference-counted. A
/// segment keeps its `.log` open for its lifetime; index files are opened through it only for
/// the duration of one operation (see ``IndexFile``).
///
/// The descriptor is closed when the last reference goes away, never before: a fetch that holds a
/// ``LogFileRegion`` keeps reading the bytes it was given even if retention renames the segment
/// to `.deleted` and later unlinks it (POSIX keeps an unlinked file's data while a descriptor is
/// open). To hand the bytes to NIO's `FileRegion` (sendfile), call ``duplicateDescriptor()`` and
/// let NIO own the copy.
///
/// Truncation is the exception: when the log truncates a segment (replication, recovery), a region
/// taken earlier may point past the new end and reads of it come up short. Kafka has the same
/// window; the broker only serves regions below the high watermark, which truncation never cuts.
///
/// All I/O is positional (`pread`, `pwrite`, `pwritev`); there is no file offset to share, so any
/// thread may read while another writes. Thread-safe: the descriptor is immutable and the path
/// (which changes on rename) sits behind a mutex.
public final class SegmentFile: Sendable {
    /// The raw descriptor; valid for as long as this object is alive. Do not close it.
    public let descriptor: Int32
    private let currentPath: Mutex<String>

    /// The path the file was last known by (it changes when the segment is renamed).
    public var path: String { currentPath.withLock { $0 } }

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.currentPath = Mutex(path)
    }

    deinit {
        _ = close(descriptor)
    }

    /// Opens an existing file for reading and writing.
    static func open(_ path: String) throws(StorageError) -> SegmentFile {
        SegmentFile(descriptor: try FileIO.openFile(path), path: path)
    }

    /// Opens `path`, creating it if needed; `truncate` empties an existing file.
    static func create(_ path: String, truncate: Bool) throws(StorageError) -> SegmentFile {
        SegmentFile(descriptor: try FileIO.openFile(path, create: true, truncate: truncate), path: path)
    }

    /// A new descriptor for the same open file, owned by the caller (for NIO's `NIOFileHandle`).
    public func duplicateDescriptor() throws(StorageError) -> Int32 {
        let copy = dup(descriptor)
        guard copy >= 0 else { throw .failure(.duplicate, path: path, errno: errno) }
        return copy
    }

    /// The file's current length in bytes.
    public func length() throws(StorageError) -> Int64 {
        try FileIO.status(descriptor, path: path).size
    }

    /// Last modification time in milliseconds since the epoch.
    func modifiedMilliseconds() throws(StorageError) -> Int64 {
        try FileIO.status(descriptor, path: path).modifiedMs
    }

    /// Reads `length` bytes at `position` into a new buffer; fewer only at end of file.
    public func read(at position: Int64, length: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(StorageError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: length)
        try read(at: position, length: length, into: &buffer)
        return buffer
    }

    /// Appends up to `length` bytes read at `position` to `buffer`; returns how many were read.
    @discardableResult
    func read(at position: Int64, length: Int, into buffer: inout ByteBuffer) throws(StorageError) -> Int {
        guard length > 0 else { return 0 }
        let fd = descriptor
        var failure: StorageError?
        let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            do throws(StorageError) {
                return try FileIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<length]), at: position, path: self.path)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        return count
    }

    /// Fills `destination` from `position`; returns the count read (short only at end of file).
    func read(into destination: UnsafeMutableRawBufferPointer, at position: Int64) throws(StorageError) -> Int {
        try FileIO.read(descriptor, into: destination, at: position, path: path)
    }

    /// Writes `bytes` at `position`.
    func write(_ bytes: UnsafeRawBufferPointer, at position: Int64) throws(StorageError) {
        try FileIO.write(descriptor, bytes, at: position, path: path)
    }

    /// Writes what the vectors describe at `position` (the vectors are consumed).
    func write(_ vectors: UnsafeMutableBufferPointer<iovec>, at position: Int64) throws(StorageError) {
        try FileIO.write(descriptor, vectors, at: position, path: path)
    }

    /// Sets the file's length.
    func setLength(_ length: Int64) throws(StorageError) {
        try FileIO.setLength(descriptor, to: length, path: path)
    }

    /// fdatasync: the data and the size reach stable storage.
    func sync() throws(StorageError) {
        try FileIO.dataSync(descriptor, path: path)
    }

    /// Renames the file on disk and remembers the new path.
    func rename(to newPath: String) throws(StorageError) {
        try currentPath.withLock { (path: inout String) throws(StorageError) in
            try FileIO.move(path, to: newPath)
            path = newPath
        }
    }

    /// Unlinks the file's current path; the descriptor stays usable until released.
    func unlink() throws(StorageError) {
        try FileIO.remove(path)
    }
}
