#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The file behind an index (`.index` or `.timeindex`), known by path and opened only for the
/// moment an operation needs it.
///
/// An index keeps its entries in memory (``IndexEntryFile``), so its file is touched only to
/// read it on first use, to write new entries, to change its length and to fsync it: on open,
/// flush, roll, truncation, recovery and close. Holding no descriptor in between means a
/// partition keeps one descriptor per segment (the `.log`, which reads need) instead of three,
/// so 10,000 partitions fit in a 20,000-file limit.
///
/// Once its segment is scheduled for deletion (renamed `.deleted`) or deleted, the file is
/// *retired*: writes and length changes become no-ops (the entries stay in memory), so nothing
/// recreates a file that is about to go; reads still work until the file is unlinked, and then
/// report it missing (the caller rebuilds the index from the log in memory).
///
/// Thread safety: a value, mutated only under its segment's lock. Descriptors it hands out
/// (``openForWriting()``) are the caller's; they close when released.
struct IndexFile: Sendable {
    /// The path the file is known by (it changes when the segment is renamed).
    private(set) var path: String
    /// Whether writes are dropped (the segment is being deleted).
    private(set) var isRetired = false

    /// A handle for an existing file at `path`; nothing is opened.
    init(path: String) {
        self.path = path
    }

    /// Creates (or empties) the file at `path` and closes it again.
    static func create(_ path: String) throws(StorageError) -> IndexFile {
        _ = try SegmentFile.create(path, truncate: true)
        return IndexFile(path: path)
    }

    /// Opens the file for reading; nil when it does not exist (any more).
    func openForReading() throws(StorageError) -> SegmentFile? {
        do throws(StorageError) {
            return try SegmentFile.open(path)
        } catch {
            if case .io(let code, _, .open) = error, code == ENOENT { return nil }
            throw error
        }
    }

    /// Opens the file for a write (created if it went missing); nil once retired.
    func openForWriting() throws(StorageError) -> SegmentFile? {
        guard !isRetired else { return nil }
        return try SegmentFile.create(path, truncate: false)
    }

    /// Renames the file on disk (unless retired) and remembers the new path.
    mutating func rename(to newPath: String) throws(StorageError) {
        if !isRetired {
            try FileIO.move(path, to: newPath)
        }
        path = newPath
    }

    /// Drops all further writes (the segment is scheduled for deletion).
    mutating func retire() {
        isRetired = true
    }

    /// Unlinks the file and retires it.
    mutating func delete() throws(StorageError) {
        try FileIO.remove(path)
        isRetired = true
    }
}
