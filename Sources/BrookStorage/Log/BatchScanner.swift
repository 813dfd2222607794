import BrookRecords
import NIOCore

/// The header fields of one batch in a `.log` file: what reads, lookups and recovery need, read
/// without decoding records.
struct BatchHeader: Sendable, Equatable {
    /// Byte position of the batch in the file.
    var position: Int
    /// Total size in bytes (batchLength + 12).
    var size: Int
    var baseOffset: Int64
    var lastOffset: Int64
    var partitionLeaderEpoch: Int32
    var maxTimestamp: Int64

    var end: Int { position + size }
    var nextOffset: Int64 { lastOffset + 1 }

    init(position: Int, size: Int, baseOffset: Int64, lastOffset: Int64, partitionLeaderEpoch: Int32, maxTimestamp: Int64) {
        self.position = position
        self.size = size
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.maxTimestamp = maxTimestamp
    }

}

/// Walks the batches of a `.log` file from a byte position up to a limit with `pread`, through a
/// reusable window so that small batches cost one read per window rather than one per batch.
///
/// Two modes: ``nextHeader()`` reads only the 61-byte headers (reads, lookups, the tail of a
/// segment on a clean open), checking length and magic; ``nextBatch()`` reads whole batches for
/// recovery, whose caller validates the CRC. Neither decodes records.
///
/// Thread safety: a value used by one thread; the file underneath is only read.
struct BatchScanner {
    enum Step {
        /// A batch; the scanner has moved past it.
        case batch(BatchHeader, RecordBatch)
        /// The limit was reached exactly.
        case end
        /// The bytes at ``position`` are not a batch (torn write, zeros, garbage).
        case invalid(reason: String)
    }

    let file: SegmentFile
    /// Position after the last byte the scanner may read.
    let limit: Int
    /// Position of the next batch.
    private(set) var position: Int
    private let chunkSize: Int
    private var window: ByteBuffer
    private var windowStart = 0
    private var lastBatchSize = 0

    /// Starts at `position`, reading no further than `limit`. `chunkSize` is the window size.
    init(file: SegmentFile, from position: Int, limit: Int, chunkSize: Int = 8 * 1024) {
        self.file = file
        self.position = position
        self.limit = limit
        self.chunkSize = chunkSize
        self.window = ByteBufferAllocator().buffer(capacity: 0)
    }

    /// The next batch's header (the returned view holds at least the 61-byte header).
    mutating func nextHeader() throws(StorageError) -> Step {
        try next(wholeBatch: false)
    }

    /// The next whole batch (the returned view holds all its bytes).
    mutating func nextBatch() throws(StorageError) -> Step {
        try next(wholeBatch: true)
    }

    private mutating func next(wholeBatch: Bool) throws(StorageError) -> Step {
        guard position < limit else { return .end }
        let headerSize = RecordBatch.headerSize
        guard limit - position >= headerSize else {
            return .invalid(reason: "\(limit - position) trailing bytes are too few for a batch header")
        }
        guard var header = try bytes(at: position, count: headerSize, readAhead: !wholeBatch) else {
            return .invalid(reason: "the file ends inside a batch header")
        }
        let length = header.getInteger(at: header.readerIndex + 8, as: Int32.self)!
        let magic = header.getInteger(at: header.readerIndex + 16, as: Int8.self)!
        guard length >= RecordBatch.minimumBatchLength else { return .invalid(reason: "batch length \(length)") }
        guard magic == RecordBatch.currentMagic else { return .invalid(reason: "magic \(magic)") }
        let size = Int(length) + RecordBatch.logOverhead
        guard size <= limit - position else {
            return .invalid(reason: "a \(size)-byte batch crosses the end at \(limit)")
        }
        if wholeBatch {
            guard let whole = try bytes(at: position, count: size, readAhead: true) else {
                return .invalid(reason: "the file ends inside a batch")
            }
            header = whole
        }
        let batch: RecordBatch
        do {
            batch = try RecordBatch(header)
        } catch {
            return .invalid(reason: "\(error)")
        }
        guard batch.lastOffsetDelta >= 0 else { return .invalid(reason: "negative lastOffsetDelta") }
        let found = BatchHeader(
            position: position, size: size, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset,
            partitionLeaderEpoch: batch.partitionLeaderEpoch, maxTimestamp: batch.maxTimestamp)
        position += size
        lastBatchSize = size
        return .batch(found, batch)
    }

    /// `count` bytes at `start` as a slice of the window, refilling it when needed; nil when the
    /// file is shorter. `readAhead` fills a whole window (when the previous batch was small
    /// enough that the next ones probably fit in it).
    private mutating func bytes(at start: Int, count: Int, readAhead: Bool) throws(StorageError) -> ByteBuffer? {
        if start < windowStart || start + count > windowStart + window.readableBytes {
            var want = count
            if readAhead && lastBatchSize < chunkSize {
                want = max(count, min(chunkSize, limit - start))
            }
            window.clear()
            windowStart = start
            try file.read(at: Int64(start), length: want, into: &window)
            guard window.readableBytes >= count else { return nil }
        }
        return window.getSlice(at: window.readerIndex + (start - windowStart), length: count)
    }
}
