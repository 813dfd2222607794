#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations the checkpoint files need, with EINTR and short reads/writes
/// handled. Stateless; safe from any thread.
enum CheckpointPOSIX {
    /// Writes every byte; returns the errno of a failed write, nil on success.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { raw -> Int32? in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
    }

    /// Flushes a file descriptor to stable storage; returns the errno on failure.
    static func sync(_ fd: Int32) -> Int32? {
        while true {
            #if canImport(Darwin)
            // fsync on Darwin leaves data in the drive's cache; F_FULLFSYNC does not.
            if fcntl(fd, F_FULLFSYNC) == 0 { return nil }
            #endif
            if fsync(fd) == 0 { return nil }
            if errno != EINTR { return errno }
        }
    }

    /// Syncs a directory so that renames and unlinks inside it survive a power loss.
    static func syncDirectory(_ path: String) throws(AtomicFileError) {
        if let code = StorageFaults.injectedErrno(.syncDirectory, path: path) {
            throw .failure(.syncDirectory, path: path, errno: code)
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .failure(.syncDirectory, path: path, errno: errno) }
        defer { _ = close(fd) }
        if let code = sync(fd) {
            // Some file systems cannot sync directories; there is nothing more to make durable.
            if code == EINVAL || code == ENOTSUP { return }
            throw .failure(.syncDirectory, path: path, errno: code)
        }
    }

    /// The whole file, or nil when it does not exist.
    static func readAll(_ path: String, limit: Int) throws(AtomicFileError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw .failure(.open, path: path, errno: code)
        }
        defer { _ = close(fd) }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress!, raw.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .failure(.read, path: path, errno: errno)
            }
            if count == 0 { return bytes }
            guard bytes.count + count <= limit else {
                throw .fileTooLarge(path: path, size: bytes.count + count, limit: limit)
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Whether anything exists at `path`.
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Unlinks `path`; returns false when it did not exist.
    static func remove(_ path: String) throws(AtomicFileError) -> Bool {
        if unlink(path) == 0 { return true }
        let code = errno
        if code == ENOENT { return false }
        throw .failure(.remove, path: path, errno: code)
    }
}
