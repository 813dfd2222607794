import NIOCore

/// Walks a buffer of concatenated record batches (a Produce request's or Fetch response's
/// `records`), yielding each batch as a zero-copy slice.
///
/// The reader only frames: it checks that each batchLength is plausible, that the magic is 2 and
/// that the bytes are there. Call ``RecordBatch/validate()`` on each batch for the CRC.
///
/// A trailing partial batch is reported distinctly: fetch responses may end in one (the broker
/// cuts at the byte limit), produce requests must not. With `allowsTruncatedTail`, ``next()``
/// returns nil and ``truncatedTail`` holds those bytes; without, it throws
/// ``RecordBatchError/truncated(needed:available:)``.
public struct RecordBatchReader: Sendable {
    private var buffer: ByteBuffer
    public let allowsTruncatedTail: Bool
    /// The incomplete batch that ended the buffer, once ``next()`` has returned nil.
    public private(set) var truncatedTail: ByteBuffer?

    public init(_ buffer: ByteBuffer, allowsTruncatedTail: Bool = false) {
        self.buffer = buffer
        self.allowsTruncatedTail = allowsTruncatedTail
    }

    /// Index, in the buffer given to `init`, where the next batch starts.
    public var position: Int { buffer.readerIndex }

    /// The next complete batch, or nil at the end of the buffer (or at a tolerated partial batch).
    public mutating func next() throws(RecordBatchError) -> RecordBatch? {
        let available = buffer.readableBytes
        guard available > 0 else { return nil }
        guard available >= RecordBatch.logOverhead else {
            return try truncated(needing: RecordBatch.headerSize)
        }
        let length = buffer.getInteger(at: buffer.readerIndex + RecordBatch.Field.batchLength, as: Int32.self)!
        guard length >= RecordBatch.minimumBatchLength else { throw .invalidBatchLength(length) }
        if available > RecordBatch.Field.magic {
            let magic = buffer.getInteger(at: buffer.readerIndex + RecordBatch.Field.magic, as: Int8.self)!
            guard magic == RecordBatch.currentMagic else { throw .invalidMagic(magic) }
        }
        let size = Int(length) + RecordBatch.logOverhead
        guard size <= available else { return try truncated(needing: size) }
        return RecordBatch(unchecked: buffer.readSlice(length: size)!)
    }

    private mutating func truncated(needing size: Int) throws(RecordBatchError) -> RecordBatch? {
        guard allowsTruncatedTail else { throw .truncated(needed: size, available: buffer.readableBytes) }
        truncatedTail = buffer.readSlice(length: buffer.readableBytes)
        return nil
    }

    /// Every batch in `buffer`; see ``init(_:allowsTruncatedTail:)`` for the trailing partial batch.
    public static func batches(in buffer: ByteBuffer, allowsTruncatedTail: Bool = false) throws(RecordBatchError) -> [RecordBatch] {
        var reader = RecordBatchReader(buffer, allowsTruncatedTail: allowsTruncatedTail)
        var batches: [RecordBatch] = []
        while let batch = try reader.next() {
            batches.append(batch)
        }
        return batches
    }
}
