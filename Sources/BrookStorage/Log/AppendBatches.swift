#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import BrookRecords
import NIOCore

/// The batches of one append, ready to be written: the request's bytes untouched, plus (for a
/// leader append) a replacement copy of each batch's 61-byte header carrying the assigned base
/// offset, the leader epoch and, for LogAppendTime, the new attributes, maxTimestamp and CRC.
///
/// Writing gathers the replacement headers and the untouched record bytes with one `pwritev`,
/// so the request's buffer is neither copied nor mutated (mutating it would copy it, since the
/// decoded request still shares its storage). A follower append has no replacement headers and
/// is written as one contiguous range.
///
/// Thread safety: a value owned by the appending call.
struct AppendBatches {
    /// One batch: where it sits in ``buffer`` and the header values the log stores.
    struct Batch {
        /// Index of the batch's first byte, relative to the buffer's reader index.
        var start: Int
        var size: Int
        var baseOffset: Int64
        var lastOffsetDelta: Int32
        var maxTimestamp: Int64
        var partitionLeaderEpoch: Int32
        var recordCount: Int32
        /// The idempotent producer's id (-1 for none), epoch and first sequence; control batches
        /// carry producer ids too but take no part in sequence checks.
        var producerId: Int64 = -1
        var producerEpoch: Int16 = -1
        var baseSequence: Int32 = -1
        var isControl = false
        /// Whether the batch belongs to a transaction (data or marker).
        var isTransactional = false
        /// The COMMIT or ABORT marker of a control batch.
        var marker: TransactionMarker?

        var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
        /// The sequence of the last record; -1 (no sequence) when the batch has none, as the
        /// coordinator's transactional batches do.
        var lastSequence: Int32 { baseSequence < 0 ? -1 : baseSequence &+ lastOffsetDelta }
    }

    var buffer: ByteBuffer
    var batches: [Batch]
    /// 61 bytes per batch replacing the header in ``buffer``, or nil to write the buffer as is.
    var headers: [UInt8]?

    var totalSize: Int { batches.last.map { $0.start + $0.size - batches[0].start } ?? 0 }

    /// Sets the base offset of batch `index`, in the replacement header too.
    mutating func assignBaseOffset(_ offset: Int64, toBatch index: Int) {
        batches[index].baseOffset = offset
        if headers != nil {
            let at = index * RecordBatch.headerSize
            headers!.withUnsafeMutableBytes { raw in
                UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + 8)]).storeBigEndian(offset, at: 0)
            }
        }
    }

    /// Writes batches `range` at `position` of `file`.
    func write(_ range: Range<Int>, to file: SegmentFile, at position: Int64) throws(StorageError) {
        guard !range.isEmpty else { return }
        var failure: StorageError?
        buffer.withUnsafeReadableBytes { records in
            guard let headers else {
                let start = batches[range.lowerBound].start
                let end = batches[range.upperBound - 1].start + batches[range.upperBound - 1].size
                do throws(StorageError) {
                    try file.write(UnsafeRawBufferPointer(rebasing: records[start..<end]), at: position)
                } catch {
                    failure = error
                }
                return
            }
            headers.withUnsafeBytes { headerBytes in
                failure = Self.gather(
                    range, batches: batches, records: records, headers: headerBytes, file: file, position: position)
            }
        }
        if let failure { throw failure }
    }

    /// The `pwritev`: header copy, then the rest of the batch from the request, for each batch.
    private static func gather(
        _ range: Range<Int>,
        batches: [Batch],
        records: UnsafeRawBufferPointer,
        headers: UnsafeRawBufferPointer,
        file: SegmentFile,
        position: Int64
    ) -> StorageError? {
        let headerSize = RecordBatch.headerSize
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: range.count * 2) { vectors -> StorageError? in
            var count = 0
            for index in range {
                let batch = batches[index]
                vectors[count] = iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: headers.baseAddress! + index * headerSize),
                    iov_len: headerSize)
                vectors[count + 1] = iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: records.baseAddress! + batch.start + headerSize),
                    iov_len: batch.size - headerSize)
                count += 2
            }
            do throws(StorageError) {
                try file.write(UnsafeMutableBufferPointer(rebasing: vectors[0..<count]), at: position)
                return nil
            } catch {
                return error
            }
        }
    }
}
