import NIOCore

/// One fixed-size, big-endian entry of an index file.
protocol IndexEntry: Sendable, Equatable {
    /// Encoded size in bytes.
    static var size: Int { get }
    /// Writes the entry at `offset` of `bytes`.
    func encode(into bytes: UnsafeMutableRawBufferPointer, at offset: Int)
    /// Reads an entry at `offset` of `bytes`.
    init(decoding bytes: UnsafeRawBufferPointer, at offset: Int)
}

/// The entries of an index (`.index` or `.timeindex`) held in memory, and the file they persist to.
///
/// The in-memory array is authoritative and is what lookups read, including entries not yet
/// written; the file receives new entries in one write on ``persist()``, which flush, roll and
/// close call (and recovery and truncation, which rewrite the file). Appending an entry costs no
/// system call.
/// That is safe because an index is only trusted after a crash when it belongs to a segment
/// below the recovery point, and the recovery point only advances after a flush, which persists
/// and syncs the entries first. Anything newer is rebuilt from the log.
///
/// No descriptor is held between operations (see ``IndexFile``): each write, length change or
/// load opens the file and closes it again, and ``prepareSync()`` hands the flush an open file
/// only when the file changed since its last fsync.
///
/// While its segment is active, the file is preallocated (`ftruncate`, sparse) to the configured
/// size as Kafka does, so its tail reads as zeros; ``trim()`` cuts it to the entries on roll and
/// close.
///
/// Thread safety: a plain value, mutated only under its segment's lock.
struct IndexEntryFile<Entry: IndexEntry> {
    private(set) var entries: [Entry] = []
    private(set) var file: IndexFile
    /// Current length of the file on disk.
    private(set) var fileLength: Int64
    /// How many leading entries of ``entries`` are on disk.
    private var persistedCount = 0
    /// Whether ``entries`` reflects the file (false until ``load()``).
    private(set) var isLoaded: Bool
    /// The file's last entry as found by ``init(existing:)`` (the open-time check reads it).
    private(set) var lastEntryAtOpen: Entry?
    /// Whether the file changed since it was last fsynced.
    private(set) var needsSync: Bool

    /// The path of the file.
    var path: String { file.path }

    /// How many entries are in memory only, waiting for the next ``persist()``.
    var pendingCount: Int { entries.count - persistedCount }

    /// An index over the existing file at `path`, or nil when there is no such file. Reads its
    /// length and last entry (one open), not its entries: ``load()`` does that on first use.
    init?(existing path: String) throws(StorageError) {
        file = IndexFile(path: path)
        isLoaded = false
        needsSync = false
        guard let handle = try file.openForReading() else { return nil }
        fileLength = try handle.length()
        lastEntryAtOpen = try Self.readLastEntry(of: handle, length: fileLength)
    }

    /// An empty index over a new (or emptied) file at `path`.
    init(empty path: String) throws(StorageError) {
        file = try IndexFile.create(path)
        fileLength = 0
        isLoaded = true
        needsSync = true
    }

    /// Reads every entry of the file. A length that is not a multiple of the entry size, or a
    /// missing file, throws ``StorageError/corruptFile(path:reason:)``; checking the entries is
    /// the caller's job.
    mutating func load() throws(StorageError) {
        guard let handle = try file.openForReading() else {
            throw .corruptFile(path: file.path, reason: "missing")
        }
        let length = Int(try handle.length())
        guard length % Entry.size == 0 else {
            throw .corruptFile(path: file.path, reason: "size \(length) is not a multiple of \(Entry.size)")
        }
        let bytes = try handle.read(at: 0, length: length)
        guard bytes.readableBytes == length else {
            throw .corruptFile(path: file.path, reason: "short read")
        }
        var loaded: [Entry] = []
        loaded.reserveCapacity(length / Entry.size)
        bytes.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < length {
                loaded.append(Entry(decoding: raw, at: offset))
                offset += Entry.size
            }
        }
        entries = loaded
        persistedCount = loaded.count
        fileLength = Int64(length)
        isLoaded = true
    }

    /// The last whole entry of a file `length` bytes long (nil when empty or not whole entries).
    private static func readLastEntry(of handle: SegmentFile, length: Int64) throws(StorageError) -> Entry? {
        guard length >= Int64(Entry.size), length % Int64(Entry.size) == 0 else { return nil }
        let bytes = try handle.read(at: length - Int64(Entry.size), length: Entry.size)
        guard bytes.readableBytes == Entry.size else { return nil }
        return bytes.withUnsafeReadableBytes { Entry(decoding: $0, at: 0) }
    }

    /// Adds an entry in memory; it reaches the file with the next ``persist()``.
    mutating func append(_ entry: Entry) {
        entries.append(entry)
    }

    /// Drops the entries from `count` on, in memory and on disk. A preallocated file keeps its
    /// length (the dropped entries read as zeros); a trimmed one is cut to the entries left.
    mutating func removeEntries(from count: Int) throws(StorageError) {
        guard count < entries.count else { return }
        entries.removeSubrange(count...)
        guard persistedCount > count else { return }
        let wasPreallocated = fileLength > Int64(persistedCount * Entry.size)
        let kept = Int64(count * Entry.size)
        if let handle = try file.openForWriting() {
            try handle.setLength(kept)
            if wasPreallocated {
                try handle.setLength(fileLength)
            }
            needsSync = true
        }
        if !wasPreallocated {
            fileLength = kept
        }
        persistedCount = count
    }

    /// Removes every entry and empties the file (before a rebuild).
    mutating func reset() throws(StorageError) {
        entries.removeAll(keepingCapacity: true)
        persistedCount = 0
        if let handle = try file.openForWriting() {
            try handle.setLength(0)
            needsSync = true
        }
        fileLength = 0
        isLoaded = true
    }

    /// Writes the entries not yet on disk, in one `pwrite` (nothing, not even an `open`, when
    /// there are none).
    mutating func persist() throws(StorageError) {
        guard pendingCount > 0, let handle = try file.openForWriting() else { return }
        try writePending(to: handle)
    }

    /// Persists pending entries and cuts the file to them (roll, close).
    mutating func trim() throws(StorageError) {
        let length = Int64(entries.count * Entry.size)
        guard pendingCount > 0 || fileLength != length, let handle = try file.openForWriting() else { return }
        try writePending(to: handle)
        if fileLength != length {
            try handle.setLength(length)
            fileLength = length
            needsSync = true
        }
    }

    /// Extends the file to `bytes` (rounded down to whole entries) so the active segment's
    /// index does not grow file by file; never shrinks below the entries.
    mutating func preallocate(_ bytes: Int) throws(StorageError) {
        let length = Int64(max(bytes / Entry.size, entries.count) * Entry.size)
        guard length > fileLength, let handle = try file.openForWriting() else { return }
        try handle.setLength(length)
        fileLength = length
        needsSync = true
    }

    /// Persists pending entries and, when the file changed since its last fsync, returns it open
    /// so that the caller can fsync it outside the segment's lock; nil when there is nothing to
    /// sync. A caller whose fsync fails reports it with ``syncFailed()``.
    mutating func prepareSync() throws(StorageError) -> SegmentFile? {
        guard pendingCount > 0 || needsSync, let handle = try file.openForWriting() else { return nil }
        try writePending(to: handle)
        needsSync = false
        return handle
    }

    /// The fsync of the file ``prepareSync()`` returned failed: the next flush syncs again.
    mutating func syncFailed() {
        needsSync = true
    }

    /// Renames the file (the segment was renamed); a `retiring` rename (to `.deleted`) also
    /// stops all further writes.
    mutating func rename(to newPath: String, retiring: Bool) throws(StorageError) {
        try file.rename(to: newPath)
        if retiring {
            file.retire()
        }
    }

    /// Unlinks the file; the entries stay in memory and nothing is written any more.
    mutating func deleteFile() throws(StorageError) {
        try file.delete()
    }

    /// Writes the pending entries through `handle`, in one `pwrite`.
    private mutating func writePending(to handle: SegmentFile) throws(StorageError) {
        let pending = pendingCount
        guard pending > 0 else { return }
        let bytes = [UInt8](unsafeUninitializedCapacity: pending * Entry.size) { raw, initialized in
            let target = UnsafeMutableRawBufferPointer(raw)
            for index in 0..<pending {
                entries[persistedCount + index].encode(into: target, at: index * Entry.size)
            }
            initialized = pending * Entry.size
        }
        let position = Int64(persistedCount * Entry.size)
        var failure: StorageError?
        bytes.withUnsafeBytes { raw in
            do throws(StorageError) {
                try handle.write(raw, at: position)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        persistedCount = entries.count
        fileLength = max(fileLength, position + Int64(bytes.count))
        needsSync = true
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadBigEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type = T.self) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
