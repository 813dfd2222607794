#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an ``AtomicFileWriter`` read, write or removal failed.
///
/// A full disk (`ENOSPC`, `EDQUOT`) is its own case: the log manager reacts to it differently
/// (it takes the log directory offline rather than retrying). Every other system call failure
/// carries the operation, the path and the `errno`.
public enum AtomicFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file system has no space (or quota) left for `path`.
    case diskFull(path: String)
    /// A system call failed.
    case ioFailure(operation: Operation, path: String, errno: Int32)
    /// The file is larger than the reader accepts.
    case fileTooLarge(path: String, size: Int, limit: Int)
    /// A test asked the writer to stop after `step`, leaving the files as a crash there would.
    case interrupted(after: AtomicFileWriter.Step)

    /// The system call that failed.
    public enum Operation: String, Sendable, Equatable {
        case open, write, sync, close, rename, syncDirectory, read, stat, remove
    }

    public var description: String {
        switch self {
        case .diskFull(let path):
            "no space left on device while writing \(path)"
        case .ioFailure(let operation, let path, let code):
            "\(operation.rawValue) failed for \(path): \(Self.message(for: code)) (errno \(code))"
        case .fileTooLarge(let path, let size, let limit):
            "\(path) is \(size) bytes, more than the \(limit) bytes accepted"
        case .interrupted(let step):
            "atomic write interrupted after \(step) (injected failure)"
        }
    }

    /// Maps a failed call's errno to an error, singling out a full disk.
    static func failure(_ operation: Operation, path: String, errno code: Int32) -> AtomicFileError {
        if code == ENOSPC || code == EDQUOT {
            return .diskFull(path: path)
        }
        return .ioFailure(operation: operation, path: path, errno: code)
    }

    private static func message(for code: Int32) -> String {
        guard let text = strerror(code) else { return "unknown error" }
        return String(cString: text)
    }
}
