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
/// The in-memory array is authoritative; the file receives new entries in one write on
/// ``persist()``, which flush, roll and close call.
/// That is safe because an index is only trusted after a crash when it belongs to a segment
/// below the recovery point, and the recovery point only advances after a flush, which persists
/// and syncs the entries first. Anything newer is rebuilt from the log.
///
/// While its segment is active, the file is preallocated (`ftruncate`, sparse) to the configured
/// size as Kafka does, so its tail reads as zeros; ``trim()`` cuts it to the entries on roll and
/// close.
///
/// Thread safety: a plain value, mutated only under its segment's lock.
struct IndexEntryFile<Entry: IndexEntry> {
    private(set) var entries: [Entry] = []
    let file: SegmentFile
    /// Current length of the file on disk.
    private(set) var fileLength: Int64
    /// How many leading entries of ``entries`` are on disk.
    private var persistedCount = 0
    /// Whether ``entries`` reflects the file (false until ``load()``).
    private(set) var isLoaded: Bool

    /// An index over an existing file whose entries are read later by ``load()``.
    init(unloaded file: SegmentFile, length: Int64) {
        self.file = file
        self.fileLength = length
        self.isLoaded = false
    }

    /// An empty index over an empty (or to be emptied) file.
    init(empty file: SegmentFile) throws(StorageError) {
        self.file = file
        try file.setLength(0)
        self.fileLength = 0
        self.isLoaded = true
    }

    /// Reads every entry of the file. A length that is not a multiple of the entry size throws
    /// ``StorageError/corruptFile(path:reason:)``; checking the entries is the caller's job.
    mutating func load() throws(StorageError) {
        let length = Int(try file.length())
        guard length % Entry.size == 0 else {
            throw .corruptFile(path: file.path, reason: "size \(length) is not a multiple of \(Entry.size)")
        }
        let bytes = try file.read(at: 0, length: length)
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

    /// Reads only the last entry, without loading the rest (nil for an empty file).
    func readLastEntry() throws(StorageError) -> Entry? {
        guard fileLength >= Int64(Entry.size), fileLength % Int64(Entry.size) == 0 else { return nil }
        let bytes = try file.read(at: fileLength - Int64(Entry.size), length: Entry.size)
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
        if persistedCount > count {
            let wasPreallocated = fileLength > Int64(persistedCount * Entry.size)
            let kept = Int64(count * Entry.size)
            try file.setLength(kept)
            if wasPreallocated {
                try file.setLength(fileLength)
            } else {
                fileLength = kept
            }
            persistedCount = count
        }
    }

    /// Removes every entry and empties the file (before a rebuild).
    mutating func reset() throws(StorageError) {
        entries.removeAll(keepingCapacity: true)
        persistedCount = 0
        try file.setLength(0)
        fileLength = 0
        isLoaded = true
    }

    /// Writes the entries not yet on disk, in one `pwrite`.
    mutating func persist() throws(StorageError) {
        let pending = entries.count - persistedCount
        guard pending > 0 else { return }
        let bytes = [UInt8](unsafeUninitializedCapacity: pending * Entry.size) { raw, initialized in
            let target = UnsafeMutableRawBufferPointer(raw)
            for index in 0..<pending {
                entries[persistedCount + index].encode(into: target, at: index * Entry.size)
            }
            initialized = pending * Entry.size
        }
        let position = Int64(persistedCount * Entry.size)
        let file = self.file
        var failure: StorageError?
        bytes.withUnsafeBytes { raw in
            do throws(StorageError) {
                try file.write(raw, at: position)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        persistedCount = entries.count
        fileLength = max(fileLength, position + Int64(bytes.count))
    }

    /// Persists pending entries and cuts the file to them (roll, close).
    mutating func trim() throws(StorageError) {
        try persist()
        let length = Int64(entries.count * Entry.size)
        if fileLength != length {
            try file.setLength(length)
            fileLength = length
        }
    }

    /// Extends the file to `bytes` (rounded down to whole entries) so the active segment's
    /// index does not grow file by file; never shrinks below the entries.
    mutating func preallocate(_ bytes: Int) throws(StorageError) {
        let length = Int64(max(bytes / Entry.size, entries.count) * Entry.size)
        if length > fileLength {
            try file.setLength(length)
            fileLength = length
        }
    }

    /// Persists pending entries and fdatasyncs the file.
    mutating func flush() throws(StorageError) {
        try persist()
        try file.sync()
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
