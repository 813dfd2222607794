#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a small file's whole content crash-safely, and reads it back.
///
/// Used for every per-directory metadata file: the offset checkpoints, `meta.properties` and the
/// clean-shutdown marker.
///
/// Write sequence (POSIX calls only):
///
///     1. open  <path>.tmp  O_WRONLY | O_CREAT | O_TRUNC   (a stale .tmp is overwritten)
///     2. write the bytes (partial writes and EINTR retried)
///     3. fsync <path>.tmp, close it
///     4. rename <path>.tmp -> <path>                       (atomic on POSIX file systems)
///     5. open the parent directory, fsync it, close it     (makes the rename durable)
///
/// Crash behaviour: a crash before step 4 leaves `<path>` with its old content (or absent) and
/// possibly a partial `<path>.tmp`; a crash after step 4 leaves the complete new content, the
/// rename possibly not yet durable, in which case the file system shows the old content after a
/// power loss. `<path>` itself is therefore always either wholly old or wholly new. ``read()``
/// ignores a leftover `.tmp`, the next write truncates it, and ``removeLeftoverTemporaryFile()``
/// deletes it (the log manager calls it when it opens a log directory).
///
/// A failed write (other than an injected interruption) removes its `.tmp` file, best effort.
/// A full disk is reported as ``AtomicFileError/diskFull(path:)``. A failure of step 5 is reported
/// even though the new content is already in place (it may not survive a power loss).
///
/// Thread safety: the type is an immutable `Sendable` value, but two concurrent writes of the
/// same path share one `.tmp` file and would interleave; callers serialise writes per path (the
/// log manager keeps one owner per checkpoint file). Reads may run concurrently with a write: they
/// see the old or the new content, never a mix.
public struct AtomicFileWriter: Sendable {
    /// The points of the write sequence after which a test can stop it, as a crash would.
    public enum Step: Sendable, Equatable, CaseIterable, CustomStringConvertible {
        /// The `.tmp` file holds the new bytes but is not yet synced.
        case temporaryFileWritten
        /// The `.tmp` file is synced and closed; the target still holds the old content.
        case temporaryFileSynced
        /// The rename is done; the directory is not yet synced.
        case renamed

        public var description: String {
            switch self {
            case .temporaryFileWritten: "temporaryFileWritten"
            case .temporaryFileSynced: "temporaryFileSynced"
            case .renamed: "renamed"
            }
        }
    }

    public struct Configuration: Sendable, Equatable {
        /// Sync the parent directory after the rename (step 5). Only tests turn this off.
        public var syncsDirectory = true
        /// Permission bits of a newly created file.
        public var permissions: UInt32 = 0o644
        /// The largest file ``read()`` accepts; these files are small, so a bigger one is damage.
        public var maxReadBytes = 64 * 1024 * 1024
        /// Failure injection for tests: stop right after this step and throw
        /// ``AtomicFileError/interrupted(after:)``, leaving the files as they are.
        public var interruptAfter: Step? = nil

        public init() {}
    }

    /// The file written and read.
    public let path: String
    public let configuration: Configuration

    public init(path: String, configuration: Configuration = Configuration()) {
        self.path = path
        self.configuration = configuration
    }

    /// Where the new content is staged before the rename: `<path>.tmp`.
    public var temporaryPath: String { path + ".tmp" }

    /// The directory holding ``path`` ("." for a bare file name).
    public var directoryPath: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[path.startIndex..<slash])
    }

    /// Replaces the file's content with `text` encoded as UTF-8.
    public func write(_ text: String) throws(AtomicFileError) {
        try write(Array(text.utf8))
    }

    /// Replaces the file's content with `bytes`; see the type's documentation for the sequence.
    public func write(_ bytes: [UInt8]) throws(AtomicFileError) {
        let temporary = temporaryPath
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(configuration.permissions))
        guard fd >= 0 else { throw .failure(.open, path: temporary, errno: errno) }

        if let code = StorageFaults.injectedErrno(.write, path: temporary) ?? CheckpointPOSIX.writeAll(fd, bytes) {
            _ = close(fd)
            discardTemporaryFile()
            throw .failure(.write, path: temporary, errno: code)
        }
        if configuration.interruptAfter == .temporaryFileWritten {
            _ = close(fd)
            throw .interrupted(after: .temporaryFileWritten)
        }
        if let code = StorageFaults.injectedErrno(.sync, path: temporary) ?? CheckpointPOSIX.sync(fd) {
            _ = close(fd)
            discardTemporaryFile()
            throw .failure(.sync, path: temporary, errno: code)
        }
        guard close(fd) == 0 else {
            let code = errno
            discardTemporaryFile()
            throw .failure(.close, path: temporary, errno: code)
        }
        if configuration.interruptAfter == .temporaryFileSynced {
            throw .interrupted(after: .temporaryFileSynced)
        }

        if let code = StorageFaults.injectedErrno(.rename, path: temporary) {
            discardTemporaryFile()
            throw .failure(.rename, path: path, errno: code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            discardTemporaryFile()
            throw .failure(.rename, path: path, errno: code)
        }
        if configuration.interruptAfter == .renamed {
            throw .interrupted(after: .renamed)
        }
        if configuration.syncsDirectory {
            try CheckpointPOSIX.syncDirectory(directoryPath)
        }
    }

    /// The file's bytes, or nil when it does not exist. A leftover `.tmp` is ignored.
    public func read() throws(AtomicFileError) -> [UInt8]? {
        try CheckpointPOSIX.readAll(path, limit: configuration.maxReadBytes)
    }

    /// The file's content decoded as UTF-8 (invalid sequences become U+FFFD, which the parsers
    /// then reject), or nil when it does not exist.
    public func readText() throws(AtomicFileError) -> String? {
        guard let bytes = try read() else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Deletes a `.tmp` left by an interrupted write. Returns whether there was one.
    @discardableResult
    public func removeLeftoverTemporaryFile() throws(AtomicFileError) -> Bool {
        try CheckpointPOSIX.remove(temporaryPath)
    }

    private func discardTemporaryFile() {
        _ = unlink(temporaryPath)
    }
}
