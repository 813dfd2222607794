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
/// The file is created with the first entry (most segments never see an abort) and written
/// with `pwrite`; the entries are also kept in memory. It is fsynced with its segment, so it is
/// trusted only below the recovery point: a crash can leave it short, torn or with entries for
/// markers that did not survive, and opening after an unclean shutdown rebuilds the index of
/// every segment it scans from the batches (with the producer state). A trailing partial entry,
/// or anything after an entry of an unknown version, is dropped on load and cut by the next
/// write. Truncating the log drops the entries whose marker is cut.
///
/// Thread safety: a plain value, mutated only under its segment's lock.
struct TransactionIndex {
    static let entrySize = 34
    static let version: Int16 = 0

    private(set) var entries: [AbortedTransaction] = []
    /// Where the file is (or will be created).
    private(set) var path: String
    private(set) var file: SegmentFile?
    /// Bytes of the file holding ``entries`` (the file may be longer after a torn write).
    private var fileLength: Int64 = 0

    /// The index at `path`; no file means no entries.
    init(path: String) throws(StorageError) {
        self.path = path
        guard FileIO.exists(path) else { return }
        let file = try SegmentFile.open(path)
        self.file = file
        let length = Int(try file.length())
        var bytes = try file.read(at: 0, length: length)
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
        let file: SegmentFile
        if let existing = self.file {
            file = existing
        } else {
            file = try SegmentFile.create(path, truncate: true)
            self.file = file
        }
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
                try file.write(raw, at: position)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        entries.append(entry)
        fileLength += Int64(Self.entrySize)
    }

    /// Drops the entries whose marker is at or after `offset`.
    mutating func truncate(from offset: Int64) throws(StorageError) {
        let kept = entries.prefix { $0.lastOffset < offset }.count
        entries.removeLast(entries.count - kept)
        fileLength = Int64(kept * Self.entrySize)
        try file?.setLength(fileLength)
    }

    /// Empties the index (before a rebuild).
    mutating func reset() throws(StorageError) {
        try truncate(from: .min)
    }

    /// fdatasync of the file, if there is one.
    func sync() throws(StorageError) {
        try file?.sync()
    }

    /// Renames the file (if any) and remembers the new path.
    mutating func rename(to newPath: String) throws(StorageError) {
        try file?.rename(to: newPath)
        path = newPath
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
