#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the log uses, with EINTR retried, short reads and writes completed, and
/// failures turned into ``StorageError`` (ENOSPC and EDQUOT into ``StorageError/diskFull(path:)``).
///
/// Stateless and safe from any thread; descriptors passed in are owned by the caller.
enum FileIO {
    /// The most iovecs one `pwritev` accepts (IOV_MAX on Linux and Darwin).
    static let maxIOVectors = 1024

    /// Opens `path`; `create` adds O_CREAT (mode 0644), `truncate` O_TRUNC.
    static func openFile(_ path: String, create: Bool = false, truncate: Bool = false) throws(StorageError) -> Int32 {
        try StorageFaults.check(.open, path: path)
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if truncate { flags |= O_TRUNC }
        while true {
            let fd = open(path, flags, mode_t(0o644))
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw .failure(.open, path: path, errno: errno)
        }
    }

    /// Whether a path exists (any file type).
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: @autoclosure () -> String) throws(StorageError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        try StorageFaults.check(.read, path: path())
        var done = 0
        while done < buffer.count {
            let count = pread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw .failure(.read, path: path(), errno: errno)
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Writes all of `bytes` at `offset`.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: @autoclosure () -> String) throws(StorageError) {
        guard let base = bytes.baseAddress else { return }
        try StorageFaults.check(.write, path: path())
        var done = 0
        while done < bytes.count {
            let count = pwrite(fd, base + done, bytes.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw .failure(.write, path: path(), errno: errno)
            }
            done += count
        }
    }

    /// Writes every byte the vectors describe, in order, starting at `offset`. The vectors are
    /// consumed (advanced past what was written), at most ``maxIOVectors`` per call.
    static func write(_ fd: Int32, _ vectors: UnsafeMutableBufferPointer<iovec>, at offset: Int64, path: @autoclosure () -> String) throws(StorageError) {
        try StorageFaults.check(.write, path: path())
        var first = 0
        var position = offset
        while first < vectors.count {
            if vectors[first].iov_len == 0 {
                first += 1
                continue
            }
            let count = min(vectors.count - first, maxIOVectors)
            let written = pwritev(fd, vectors.baseAddress! + first, Int32(count), off_t(position))
            if written < 0 {
                if errno == EINTR { continue }
                throw .failure(.write, path: path(), errno: errno)
            }
            position += Int64(written)
            var remaining = written
            while remaining > 0 {
                let length = vectors[first].iov_len
                if remaining >= length {
                    remaining -= length
                    vectors[first].iov_len = 0
                    first += 1
                } else {
                    vectors[first].iov_base = vectors[first].iov_base! + remaining
                    vectors[first].iov_len = length - remaining
                    remaining = 0
                }
            }
        }
    }

    /// Flushes data and metadata (fsync).
    static func sync(_ fd: Int32, path: @autoclosure () -> String) throws(StorageError) {
        try StorageFaults.check(.sync, path: path())
        while true {
            #if canImport(Darwin)
            if fcntl(fd, F_FULLFSYNC) == 0 { return }
            #endif
            if fsync(fd) == 0 { return }
            if errno != EINTR { throw .failure(.sync, path: path(), errno: errno) }
        }
    }

    /// Flushes data and the metadata needed to read it back, such as the file size (fdatasync).
    static func dataSync(_ fd: Int32, path: @autoclosure () -> String) throws(StorageError) {
        #if canImport(Darwin)
        try sync(fd, path: path())
        #else
        try StorageFaults.check(.sync, path: path())
        while true {
            if fdatasync(fd) == 0 { return }
            if errno != EINTR { throw .failure(.sync, path: path(), errno: errno) }
        }
        #endif
    }

    /// Sets the file's length; bytes past it are discarded, new bytes read as zeros.
    static func setLength(_ fd: Int32, to length: Int64, path: @autoclosure () -> String) throws(StorageError) {
        try StorageFaults.check(.truncate, path: path())
        while true {
            if ftruncate(fd, off_t(length)) == 0 { return }
            if errno != EINTR { throw .failure(.truncate, path: path(), errno: errno) }
        }
    }

    /// The file's size and modification time (milliseconds since the epoch).
    static func status(_ fd: Int32, path: @autoclosure () -> String) throws(StorageError) -> (size: Int64, modifiedMs: Int64) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .failure(.stat, path: path(), errno: errno) }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return (Int64(info.st_size), Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000)
    }

    static func move(_ from: String, to: String) throws(StorageError) {
        try StorageFaults.check(.rename, path: from)
        guard rename(from, to) == 0 else { throw .failure(.rename, path: from, errno: errno) }
    }

    /// Unlinks `path`; returns false when it did not exist.
    @discardableResult
    static func remove(_ path: String) throws(StorageError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw .failure(.unlink, path: path, errno: errno)
    }

    /// Creates `path` (one level) unless it exists.
    static func createDirectory(_ path: String) throws(StorageError) {
        try StorageFaults.check(.createDirectory, path: path)
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        throw .failure(.createDirectory, path: path, errno: errno)
    }

    /// Makes renames, creations and unlinks inside `path` durable.
    static func syncDirectory(_ path: String) throws(StorageError) {
        try StorageFaults.check(.syncDirectory, path: path)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .failure(.syncDirectory, path: path, errno: errno) }
        defer { _ = close(fd) }
        while fsync(fd) != 0 {
            let code = errno
            if code == EINTR { continue }
            // Some file systems cannot sync directories; there is nothing more to make durable.
            if code == EINVAL || code == ENOTSUP { return }
            throw .failure(.syncDirectory, path: path, errno: code)
        }
    }

    /// The names in a directory, without "." and "..".
    static func listDirectory(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw .failure(.listDirectory, path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw .failure(.listDirectory, path: path, errno: errno) }
                return names
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }
}
