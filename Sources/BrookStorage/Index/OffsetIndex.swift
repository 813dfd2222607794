/// The sparse offset index of a segment: `<baseOffset>.index`, Kafka's format.
///
/// Byte layout: a sequence of 8-byte entries, nothing else (no header):
///
///     offset  size  field
///      0      4     relativeOffset  int32 big-endian   batch offset - segment base offset
///      4      4     position        int32 big-endian   byte position of that batch in the .log
///
/// Entries are strictly increasing in both fields. The log adds one when more than
/// `index.interval.bytes` were appended since the previous entry, pointing at the start of the
/// batch being appended and keyed by that batch's base offset, so a lookup lands on a batch
/// boundary at or before the target and a short scan of batch headers finds the batch. (Kafka keys
/// entries by a batch's last offset; both keys give the same lookups, and either reads the
/// other's files.) While the segment is active the file is preallocated to `segment.index.bytes`
/// and its tail is zeros; roll and close cut it to its entries.
///
/// Crash behaviour: the index is derived data. After an unclean shutdown every segment past the
/// recovery point gets a new index from its log; an index that fails ``validate(logSize:upperOffset:)``
/// anywhere is rebuilt, never trusted.
///
/// I/O: entries live in memory and are written with `pwrite` on flush, roll, truncation and
/// close, not `mmap` (see ``IndexEntryFile``): a full disk then surfaces as
/// ``StorageError/diskFull(path:)`` instead of SIGBUS, lookups never fault pages in, appends
/// make no index system call, and the file holds no descriptor between uses (``IndexFile``). Thread safety: a value mutated under its segment's lock.
struct OffsetIndex {
    static let entrySize = 8

    /// One entry as stored.
    struct Entry: IndexEntry {
        static var size: Int { OffsetIndex.entrySize }
        var relativeOffset: Int32
        var position: Int32

        init(relativeOffset: Int32, position: Int32) {
            self.relativeOffset = relativeOffset
            self.position = position
        }

        init(decoding bytes: UnsafeRawBufferPointer, at offset: Int) {
            relativeOffset = bytes.loadBigEndian(at: offset)
            position = bytes.loadBigEndian(at: offset + 4)
        }

        func encode(into bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
            bytes.storeBigEndian(relativeOffset, at: offset)
            bytes.storeBigEndian(position, at: offset + 4)
        }
    }

    /// What a lookup found: an absolute offset and the byte position of a batch starting there.
    struct Position: Equatable {
        var offset: Int64
        var position: Int
    }

    let baseOffset: Int64
    var storage: IndexEntryFile<Entry>
    /// Capacity from `segment.index.bytes`; a full index makes the log roll.
    var maxEntries: Int

    var entries: [Entry] { storage.entries }
    var count: Int { storage.entries.count }
    var isFull: Bool { storage.entries.count >= maxEntries }

    /// The offset of the last entry, or the base offset when there is none.
    var lastOffset: Int64 {
        storage.entries.last.map { baseOffset + Int64($0.relativeOffset) } ?? baseOffset
    }

    /// Adds an entry for a batch starting at `position` with base offset `offset`. Returns false
    /// (and adds nothing) when the index is full or the entry would not increase.
    mutating func append(offset: Int64, position: Int) -> Bool {
        guard !isFull else { return false }
        let relative = offset - baseOffset
        guard relative >= 0, relative <= Int64(Int32.max), position <= Int(Int32.max) else { return false }
        if let last = storage.entries.last, Int32(relative) <= last.relativeOffset || Int32(position) <= last.position {
            return false
        }
        storage.append(Entry(relativeOffset: Int32(relative), position: Int32(position)))
        return true
    }

    /// The entry with the largest offset ≤ `target`, or (baseOffset, 0) when none is.
    func lookup(offset target: Int64) -> Position {
        let relative = target - baseOffset
        guard relative >= 0 else { return Position(offset: baseOffset, position: 0) }
        let key = relative > Int64(Int32.max) ? Int32.max : Int32(relative)
        let entries = storage.entries
        // Index of the first entry with relativeOffset > key.
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].relativeOffset <= key { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return Position(offset: baseOffset, position: 0) }
        let entry = entries[low - 1]
        return Position(offset: baseOffset + Int64(entry.relativeOffset), position: Int(entry.position))
    }

    /// The entry with the largest position ≤ `target`, or (baseOffset, 0) when none is.
    func lookup(position target: Int) -> Position {
        let entries = storage.entries
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if Int(entries[middle].position) <= target { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return Position(offset: baseOffset, position: 0) }
        let entry = entries[low - 1]
        return Position(offset: baseOffset + Int64(entry.relativeOffset), position: Int(entry.position))
    }

    /// Drops the entries at or past byte `position` of the log (the log was cut there).
    mutating func truncate(toPosition position: Int) throws(StorageError) {
        let entries = storage.entries
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if Int(entries[middle].position) < position { low = middle + 1 } else { high = middle }
        }
        try storage.removeEntries(from: low)
    }

    /// Checks loaded entries: offsets and positions strictly increasing, offsets at or above the
    /// base and below `upperOffset`, positions inside a log of `logSize` bytes.
    func validate(logSize: Int, upperOffset: Int64?) -> String? {
        var previous: Entry?
        for entry in storage.entries {
            if entry.relativeOffset < 0 { return "offset below the base offset" }
            if entry.position < 0 || Int(entry.position) >= max(logSize, 1) { return "position \(entry.position) outside the log" }
            if let previous, entry.relativeOffset <= previous.relativeOffset || entry.position <= previous.position {
                return "entries do not increase"
            }
            previous = entry
        }
        if let upperOffset, let last = storage.entries.last, baseOffset + Int64(last.relativeOffset) >= upperOffset {
            return "last offset is past the next segment's base offset"
        }
        return nil
    }
}
