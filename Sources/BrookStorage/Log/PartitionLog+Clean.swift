import BrookRecords
import NIOCore
import Synchronization

/// A segment the cleaner may rewrite: a non-active segment of the published view, with the
/// bytes it held when the view was taken. Obtained from ``PartitionLog/cleanableSegments(below:)``.
struct CleanableSegment: Sendable {
    let segment: LogSegment
    /// Valid bytes of the segment (non-active segments never grow).
    let size: Int
    var baseOffset: Int64 { segment.baseOffset }

    /// Calls `body` with every batch of the segment, in order. A batch the scanner cannot read
    /// ends the walk with ``StorageError/corruptFile(path:reason:)``.
    func forEachBatch(_ body: (RecordBatch) throws(StorageError) -> Void) throws(StorageError) {
        var scanner = BatchScanner(file: segment.log, from: 0, limit: size, chunkSize: 1 << 20)
        while true {
            switch try scanner.nextBatch() {
            case .end:
                return
            case .invalid(let reason):
                throw .corruptFile(path: segment.log.path, reason: reason)
            case .batch(_, let batch):
                try body(batch)
            }
        }
    }
}

/// The cleaner's output for one original segment or a run of them: a segment written as
/// `<base>.log.cleaned` (with its indexes) with the base offset of the first original, holding the
/// retained batches at their original offsets. Build it with ``PartitionLog/makeCleanedSegment(replacing:)``, feed it with
/// ``append(_:)``, then hand it to ``PartitionLog/replaceSegments(_:with:)``.
struct CleanedSegment: Sendable {
    let segment: LogSegment
    let indexIntervalBytes: Int

    /// Appends one batch (a v2 batch, offsets already assigned) at the end of the segment.
    func append(_ batch: ByteBuffer) throws(StorageError) {
        try segment.appendCleaned(batch, indexIntervalBytes: indexIntervalBytes)
    }

    /// Adds the transaction index entry of an ABORT marker this segment keeps; markers come in
    /// offset order.
    func appendAbortedTransaction(_ transaction: AbortedTransaction) throws(StorageError) {
        try segment.appendAbortedTransaction(transaction)
    }

    /// Deletes the files (a cleaning that is abandoned).
    func discard() {
        try? segment.deleteFiles()
    }
}

extension LogSegment {
    /// Appends a whole, already-offset batch to this (cleaned, not yet published) segment.
    fileprivate func appendCleaned(_ bytes: ByteBuffer, indexIntervalBytes: Int) throws(StorageError) {
        let batch: RecordBatch
        do {
            batch = try RecordBatch(bytes)
        } catch {
            throw .invalidRecords(error)
        }
        let position = size
        var failure: StorageError?
        bytes.withUnsafeReadableBytes { raw in
            do throws(StorageError) {
                try log.write(raw, at: Int64(position))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        state.withLock { state in
            let header = BatchHeader(
                position: position, size: bytes.readableBytes, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset,
                partitionLeaderEpoch: batch.partitionLeaderEpoch, maxTimestamp: batch.maxTimestamp)
            state.track(header, indexIntervalBytes: indexIntervalBytes)
            state.size = position + bytes.readableBytes
            state.logFileLength = max(state.logFileLength, Int64(state.size))
        }
    }
}

extension PartitionLog {
    /// The non-active segments whose base offset is below `offset`, oldest first, as published
    /// now. The cleaner reads them without any lock: nothing but truncation and deletion changes
    /// a non-active segment, and ``replaceSegments(_:with:)`` refuses to swap if either happened.
    func cleanableSegments(below offset: Int64) -> [CleanableSegment] {
        let view = self.view
        guard !view.isClosed else { return [] }
        return view.segments.all.dropLast().prefix { $0.baseOffset < offset }.map {
            CleanableSegment(segment: $0, size: $0.size)
        }
    }

    /// Starts the cleaned replacement of `original`: `<base>.log.cleaned` and its indexes, with
    /// the same base offset (what recovery expects of a `.swap`: it replaces every segment whose
    /// base offset lies between its own base and its end).
    func makeCleanedSegment(replacing original: CleanableSegment) throws(StorageError) -> CleanedSegment {
        let config = self.config
        let segment = try LogSegment.create(
            directory: directory, baseOffset: original.baseOffset, config: config, now: clock.nowMilliseconds(),
            suffix: SegmentFileName.cleanedSuffix)
        return CleanedSegment(segment: segment, indexIntervalBytes: config.indexIntervalBytes)
    }

    /// Replaces the contiguous run `originals` of non-active segments with `cleaned`, crash-safely,
    /// as Kafka does. Each cleaned segment takes the base offset of the first original it
    /// replaces (so the first cleaned base is the first original's), and covers the originals up
    /// to the next cleaned one: several small originals may be merged into one.
    ///
    /// 1. the cleaned segments, which already hold the transaction index entries of the ABORT
    ///    markers they keep (the cleaner writes them with the markers, ``CleanedSegment/appendAbortedTransaction(_:)``;
    ///    the entries of markers it dropped are not carried over), are finished (final time
    ///    index entry, trimmed) and fsynced, with their `.txnindex`, and
    ///    renamed `.cleaned` → `.swap`, then the directory is fsynced — a crash before this
    ///    point leaves `.cleaned` files, which opening deletes (the old contents win); after it,
    ///    opening completes the swap (the new contents win);
    /// 2. under the write lock, after checking that the originals are still the published
    ///    segments at the same place and not active (no truncation or retention came between),
    ///    the originals are renamed `.deleted` (unlinked after file.delete.delay.ms; fetches
    ///    holding regions of them keep reading), the `.swap` files lose their suffix, the new
    ///    list is published and the directory fsynced.
    ///
    /// Offsets, the log start and end offsets and the leader epoch cache do not change. Returns
    /// false (and deletes the cleaned files) when the log changed underneath or is closed.
    @discardableResult
    func replaceSegments(_ originals: [CleanableSegment], with cleaned: [CleanedSegment]) throws(StorageError) -> Bool {
        precondition(!originals.isEmpty && !cleaned.isEmpty && cleaned.count <= originals.count, "a cleaned segment replaces one original or more")
        precondition(cleaned[0].segment.baseOffset == originals[0].baseOffset, "the first cleaned segment starts the run")
        precondition(
            cleaned.allSatisfy { replacement in originals.contains { $0.baseOffset == replacement.segment.baseOffset } }
                && zip(cleaned, cleaned.dropFirst()).allSatisfy { $0.segment.baseOffset < $1.segment.baseOffset },
            "cleaned segments take original base offsets, in order")
        do {
            for replacement in cleaned {
                try replacement.segment.deactivate()
                try replacement.segment.flush()
            }
            for replacement in cleaned {
                try replacement.segment.rename(suffix: SegmentFileName.swapSuffix)
            }
            try FileIO.syncDirectory(directory)
        } catch {
            cleaned.forEach { $0.discard() }
            throw error
        }

        try health.check()
        let swapped = try writeLock.withLock { (_: inout Void) throws(StorageError) -> Bool in
            let current = view
            let all = current.segments.all
            guard !current.isClosed,
                let first = all.firstIndex(where: { $0 === originals[0].segment }),
                first + originals.count < all.count,
                zip(all[first..<(first + originals.count)], originals).allSatisfy({ $0 === $1.segment && $0.size == $1.size })
            else {
                return false
            }
            let pending = try scheduleDeletion(originals.map(\.segment), config: current.config, now: clock.nowMilliseconds())
            for replacement in cleaned {
                try replacement.segment.rename(suffix: "")
            }
            var replaced = all
            replaced.replaceSubrange(first..<(first + originals.count), with: cleaned.map(\.segment))
            let published = LogSegments(replaced)
            state.withLock {
                $0.segments = published
                $0.pendingDeletions += pending
            }
            try FileIO.syncDirectory(directory)
            return true
        }
        if !swapped {
            cleaned.forEach { $0.discard() }
        }
        return swapped
    }
}
