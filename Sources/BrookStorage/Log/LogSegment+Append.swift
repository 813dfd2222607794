import Synchronization
extension LogSegment.State {
    /// Accounts for a batch that now sits at `header.position`: largest timestamp, first-batch
    /// timestamp, next offset, and the sparse index entries (one offset entry, and a time entry
    /// if the largest timestamp grew, once more than `indexIntervalBytes` were added since the
    /// last entry). In memory only; the index files catch up on flush, roll and close.
    mutating func track(_ header: BatchHeader, indexIntervalBytes: Int) {
        if header.maxTimestamp > maxTimestamp {
            maxTimestamp = header.maxTimestamp
            offsetOfMaxTimestamp = header.baseOffset
        }
        if header.position == 0 {
            firstBatchTimestamp = header.maxTimestamp
        }
        if bytesSinceLastIndexEntry > indexIntervalBytes {
            if offsetIndex.append(offset: header.baseOffset, position: header.position) {
                timeIndex.maybeAppend(timestamp: maxTimestamp, offset: offsetOfMaxTimestamp)
            }
            bytesSinceLastIndexEntry = 0
        }
        bytesSinceLastIndexEntry += header.size
        nextOffset = header.nextOffset
    }
}

extension LogSegment {
    /// Appends batches `range` of `batches` at the end of the segment: one write, then the
    /// in-memory bookkeeping. On failure nothing is accounted for and a partial write past the
    /// old end is cut. A full disk whose partial write was cut (or fell in preallocated space
    /// the next append overwrites) throws ``StorageError/appendRefusedForSpace(path:)``: the
    /// segment is as it was. If the cut fails too, the original failure is thrown.
    ///
    /// Only the partition's single writer calls this; the write itself runs without the lock.
    func append(_ batches: AppendBatches, range: Range<Int>, indexIntervalBytes: Int) throws(StorageError) {
        let (position, preallocated) = state.withLock { ($0.size, $0.logFileLength > Int64($0.size)) }
        do {
            try batches.write(range, to: log, at: Int64(position))
        } catch {
            guard case .diskFull(let path) = error else {
                if !preallocated { try? log.setLength(Int64(position)) }
                throw error
            }
            if !preallocated {
                do {
                    try log.setLength(Int64(position))
                } catch _ {
                    throw error
                }
            }
            throw .appendRefusedForSpace(path: path)
        }
        state.withLock { state in
            var at = position
            for index in range {
                let batch = batches.batches[index]
                let header = BatchHeader(
                    position: at, size: batch.size, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset,
                    partitionLeaderEpoch: batch.partitionLeaderEpoch, maxTimestamp: batch.maxTimestamp)
                state.track(header, indexIntervalBytes: indexIntervalBytes)
                at += batch.size
            }
            state.size = at
            state.logFileLength = max(state.logFileLength, Int64(at))
        }
    }

    /// Whether appending `size` bytes holding offsets up to `lastOffset` and timestamps up to
    /// `maxTimestamp` at `now` should go to a new segment (Kafka's roll rules): the segment is
    /// non-empty and would pass segment.bytes; its first batch is older than segment.ms minus
    /// this segment's jitter (by record time, or by wall time since creation when batches carry
    /// none); an index is full; or an offset would not fit the 32-bit relative offset.
    func shouldRoll(size incoming: Int, lastOffset: Int64, maxTimestamp: Int64, now: Int64, config: LogConfig) -> Bool {
        state.withLock { state in
            if state.size > 0 && (state.size + incoming > config.segmentBytes || state.size + incoming > Int(Int32.max)) {
                return true
            }
            if state.size > 0 {
                let waited: Int64
                if let first = state.firstBatchTimestamp, first >= 0 {
                    waited = maxTimestamp &- first
                } else {
                    waited = now &- state.createdMs
                }
                if waited > config.segmentMs &- state.rollJitterMs { return true }
            }
            if state.offsetIndex.isFull || state.timeIndex.isFull { return true }
            return lastOffset - baseOffset > Int64(Int32.max)
        }
    }
}
