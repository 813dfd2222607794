/// The sparse time index of a segment: `<baseOffset>.timeindex`, Kafka's format.
///
/// Byte layout: a sequence of 12-byte entries, nothing else:
///
///     offset  size  field
///      0      8     timestamp       int64 big-endian   largest batch maxTimestamp so far
///      8      4     relativeOffset  int32 big-endian   base offset of the first batch that
///                                                      reached it, minus the segment base offset
///
/// An entry is added at the same points as an offset index entry, but only when the segment's
/// largest timestamp has grown since the last entry, so timestamps strictly increase. When the
/// segment stops being active (roll, close) a final entry records its largest timestamp, which
/// is how a reopened segment knows it without reading its log.
///
/// A lookup for timestamp T returns the last entry with timestamp ≤ T: every batch before that
/// entry's batch has a smaller maxTimestamp, so the first batch with maxTimestamp ≥ T is found by
/// scanning from there. Preallocation, crash behaviour, I/O and thread safety are as for
/// ``OffsetIndex``.
struct TimeIndex {
    static let entrySize = 12

    struct Entry: IndexEntry {
        static var size: Int { TimeIndex.entrySize }
        var timestamp: Int64
        var relativeOffset: Int32

        init(timestamp: Int64, relativeOffset: Int32) {
            self.timestamp = timestamp
            self.relativeOffset = relativeOffset
        }

        init(decoding bytes: UnsafeRawBufferPointer, at offset: Int) {
            timestamp = bytes.loadBigEndian(at: offset)
            relativeOffset = bytes.loadBigEndian(at: offset + 8)
        }

        func encode(into bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
            bytes.storeBigEndian(timestamp, at: offset)
            bytes.storeBigEndian(relativeOffset, at: offset + 8)
        }
    }

    let baseOffset: Int64
    var storage: IndexEntryFile<Entry>
    var maxEntries: Int

    var entries: [Entry] { storage.entries }
    var count: Int { storage.entries.count }
    var isFull: Bool { storage.entries.count >= maxEntries }

    /// The last entry as (timestamp, absolute offset), if any.
    var lastEntry: (timestamp: Int64, offset: Int64)? {
        storage.entries.last.map { ($0.timestamp, baseOffset + Int64($0.relativeOffset)) }
    }

    /// Adds (timestamp, offset) when the timestamp is larger than the last entry's. `force`
    /// ignores the capacity (the final entry on roll and close, as Kafka does).
    @discardableResult
    mutating func maybeAppend(timestamp: Int64, offset: Int64, force: Bool = false) -> Bool {
        guard force || !isFull else { return false }
        let relative = offset - baseOffset
        guard timestamp >= 0, relative >= 0, relative <= Int64(Int32.max) else { return false }
        if let last = storage.entries.last, timestamp <= last.timestamp || Int32(relative) < last.relativeOffset {
            return false
        }
        storage.append(Entry(timestamp: timestamp, relativeOffset: Int32(relative)))
        return true
    }

    /// The last entry with timestamp ≤ `target` as (timestamp, offset), or (-1, baseOffset).
    func lookup(timestamp target: Int64) -> (timestamp: Int64, offset: Int64) {
        let entries = storage.entries
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].timestamp <= target { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return (-1, baseOffset) }
        let entry = entries[low - 1]
        return (entry.timestamp, baseOffset + Int64(entry.relativeOffset))
    }

    /// Drops the entries whose offset is ≥ `offset` (the log was cut there).
    mutating func truncate(toOffset offset: Int64) throws(StorageError) {
        let relative = offset - baseOffset
        let entries = storage.entries
        var keep = entries.count
        while keep > 0 && Int64(entries[keep - 1].relativeOffset) >= relative {
            keep -= 1
        }
        try storage.removeEntries(from: keep)
    }

    /// Checks loaded entries: timestamps strictly increasing, offsets non-decreasing, at or
    /// above the base and below `upperOffset`.
    func validate(upperOffset: Int64?) -> String? {
        var previous: Entry?
        for entry in storage.entries {
            if entry.relativeOffset < 0 { return "offset below the base offset" }
            if let previous, entry.timestamp <= previous.timestamp || entry.relativeOffset < previous.relativeOffset {
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
