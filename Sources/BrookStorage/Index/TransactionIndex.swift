import NIOCore

/// One aborted transaction, as the transaction index stores it and Fetch reports it.
public struct AbortedTransaction: Sendable, Equatable {
    public var producerId: Int64
    /// The transaction's first offset in this partition.
    public var firstOffset: Int64
    /// The offset of its ABORT marker.
    public var lastOffset: Int64
    /// The partition's last stable offset right after the marker was written.
    public var lastStableOffset: Int64

    public init(producerId: Int64, firstOffset: Int64, lastOffset: Int64, lastStableOffset: Int64) {
        self.producerId = producerId
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.lastStableOffset = lastStableOffset
    }
}

/// A segment's aborted-transaction index, `%020d.txnindex`: one entry per ABORT marker in the
/// segment, in marker order, in Kafka's format (34 bytes, big-endian, no header):
///
/// ```
/// version int16 = 0 | producerId int64 | firstOffset int64 | lastOffset int64 | lastStableOffset int64
/// ```
///
/// `lastOffset` is the marker's offset, so entries are ordered by it; `firstOffset` may lie in
/// an earlier segment. A READ_COMMITTED fetch asks every segment from the one holding its fetch
/// offset for the transactions overlapping the returned range.
///
/// The entries live in memory; the file is created with the first entry (most segments never
/// see an abort) and, like the other indexes (``IndexFile``), holds no descriptor: it is opened
/// for each write, truncation and fsync. Each entry is written with one `pwrite` when it is
/// added; the file is fsynced with its segment, so it is trusted only below the recovery point:
/// a crash can leave it short, torn or with entries for markers that did not survive, and
/// opening after an unclean shutdown rebuilds the index of every segment it scans from the
/// batches (with the producer state). A trailing partial entry, or anything after an entry of
/// an unknown version, is dropped on load and cut by the next write. Truncating the log drops
/// the entries whose marker is cut. Once its segment is renamed `.deleted` the file is retired:
/// nothing writes it again. A segment written by the log cleaner holds exactly the entries of
/// the ABORT markers the cleaner kept (an entry whose marker is gone is dropped with it).
///
/// Thread safety: a plain value, mutated only under its segment's lock.
struct TransactionIndex {
    static let entrySize = 34
    static let version: Int16 = 0

    private(set) var entries: [AbortedTransaction] = []
    private var file: IndexFile
    /// Whether the file exists (it is created with the first entry).
    private var hasFile = false
    /// Bytes of the file holding ``entries`` (the file may be longer after a torn write).
    private var fileLength: Int64 = 0
    /// Whether the file changed since its last fsync.
    private var needsSync = false

    /// Where the file is (or will be created).
    var path: String { file.path }
    /// The file's path when it exists.
    var existingPath: String? { hasFile ? file.path : nil }

    /// The index at `path`; no file means no entries.
    init(path: String) throws(StorageError) {
        file = IndexFile(path: path)
        guard let handle = try file.openForReading() else { return }
        hasFile = true
        let length = Int(try handle.length())
        var bytes = try handle.read(at: 0, length: length)
        while bytes.readableBytes >= Self.entrySize {
            guard let version = bytes.readInteger(as: Int16.self), version == Self.version,
                  let producerId = bytes.readInteger(as: Int64.self), let first = bytes.readInteger(as: Int64.self),
                  let last = bytes.readInteger(as: Int64.self), let stable = bytes.readInteger(as: Int64.self)
            else { break }
            entries.append(AbortedTransaction(producerId: producerId, firstOffset: first, lastOffset: last, lastStableOffset: stable))
        }
        fileLength = Int64(entries.count * Self.entrySize)
    }

    /// Appends an entry; its marker must follow the last entry's.
    mutating func append(_ entry: AbortedTransaction) throws(StorageError) {
        if let last = entries.last, entry.lastOffset <= last.lastOffset {
            throw .invalidBatch(reason: "aborted transaction at \(entry.lastOffset) does not follow \(last.lastOffset)")
        }
        if let handle = try file.openForWriting() {
            hasFile = true
            var bytes = ByteBuffer()
            bytes.writeInteger(Self.version)
            bytes.writeInteger(entry.producerId)
            bytes.writeInteger(entry.firstOffset)
            bytes.writeInteger(entry.lastOffset)
            bytes.writeInteger(entry.lastStableOffset)
            var failure: StorageError?
            let position = fileLength
            bytes.withUnsafeReadableBytes { raw in
                do throws(StorageError) {
                    try handle.write(raw, at: position)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            needsSync = true
        }
        entries.append(entry)
        fileLength += Int64(Self.entrySize)
    }

    /// Drops the entries whose marker is at or after `offset`.
    mutating func truncate(from offset: Int64) throws(StorageError) {
        let kept = entries.prefix { $0.lastOffset < offset }.count
        entries.removeLast(entries.count - kept)
        fileLength = Int64(kept * Self.entrySize)
        if hasFile, let handle = try file.openForWriting() {
            try handle.setLength(fileLength)
            needsSync = true
        }
    }

    /// Empties the index (before a rebuild).
    mutating func reset() throws(StorageError) {
        try truncate(from: .min)
    }

    /// A descriptor to fsync once the segment's lock is released, when the file changed since
    /// its last fsync.
    mutating func prepareSync() throws(StorageError) -> SegmentFile? {
        guard needsSync, hasFile, let handle = try file.openForWriting() else { return nil }
        needsSync = false
        return handle
    }

    /// The fsync of what ``prepareSync()`` returned failed (or was not attempted): sync again next time.
    mutating func syncFailed() {
        if hasFile { needsSync = true }
    }

    /// Renames the file (if any) and remembers the new path; a `retiring` rename (to
    /// `.deleted`) stops all further writes.
    mutating func rename(to newPath: String, retiring: Bool) throws(StorageError) {
        if hasFile {
            try file.rename(to: newPath)
        } else {
            file = IndexFile(path: newPath)
        }
        if retiring { file.retire() }
    }

    /// Unlinks the file (if any); nothing is written any more.
    mutating func deleteFile() throws(StorageError) {
        try file.delete()
        hasFile = false
    }

    /// The entries whose transaction overlaps `[startOffset, upperBoundOffset)`: marker at or
    /// after `startOffset` and first offset below `upperBoundOffset`. `isComplete` tells that a
    /// later segment cannot add any: an entry here already has a last stable offset at or past
    /// the upper bound, so every transaction starting below it was over by then.
    func collect(from startOffset: Int64, to upperBoundOffset: Int64) -> (transactions: [AbortedTransaction], isComplete: Bool) {
        var found: [AbortedTransaction] = []
        for entry in entries where entry.lastOffset >= startOffset {
            if entry.firstOffset < upperBoundOffset { found.append(entry) }
            if entry.lastStableOffset >= upperBoundOffset { return (found, true) }
        }
        return (found, false)
    }
}
