import Synchronization
import BrookRecords

/// What a recovery scan of a segment found.
struct SegmentRecovery: Equatable {
    /// Bytes of valid batches kept.
    var validBytes: Int
    /// Bytes cut from the end of the `.log` file (torn or corrupt batches, zeros).
    var truncatedBytes: Int
    /// The offset after the last valid batch (the base offset when none is left).
    var nextOffset: Int64
    /// Why the scan stopped before the end of the file, if it did.
    var problem: String?
}

extension LogSegment {
    /// Scans the whole `.log` file, validating each batch (framing, magic, CRC, record count, and
    /// offsets: increasing, at or above the base offset, within 2^31 of it and below
    /// `upperOffset`), rebuilds both indexes from the valid batches and cuts the file after the
    /// last one. `onBatch` sees every valid batch in order (the leader epoch cache learns from it).
    ///
    /// Runs while nobody reads the segment (opening the log).
    func recover(upperOffset: Int64?, onBatch: (BatchHeader) -> Void) throws(StorageError) -> SegmentRecovery {
        try state.withLock { (state: inout State) throws(StorageError) -> SegmentRecovery in
            try state.offsetIndex.storage.reset()
            try state.timeIndex.storage.reset()
            Self.resetTracking(&state, baseOffset: baseOffset)
            let fileLength = Int(try log.length())
            var scanner = BatchScanner(file: log, from: 0, limit: fileLength, chunkSize: 1 << 20)
            var validEnd = 0
            var next = baseOffset
            var problem: String?
            scan: while true {
                switch try scanner.nextBatch() {
                case .end:
                    break scan
                case .invalid(let reason):
                    problem = reason
                    break scan
                case .batch(let header, let batch):
                    do throws(RecordBatchError) {
                        try batch.validate()
                    } catch {
                        problem = error.description
                        break scan
                    }
                    if header.baseOffset < next {
                        problem = "batch offset \(header.baseOffset) does not follow \(next - 1)"
                    } else if header.lastOffset - baseOffset > Int64(Int32.max) {
                        problem = "batch offset \(header.lastOffset) overflows the segment's relative offsets"
                    } else if let upperOffset, header.lastOffset >= upperOffset {
                        problem = "batch offset \(header.lastOffset) reaches the next segment (\(upperOffset))"
                    }
                    if problem != nil { break scan }
                    state.track(header, indexIntervalBytes: state.indexIntervalBytes)
                    onBatch(header)
                    validEnd = header.end
                    next = header.nextOffset
                }
            }
            if fileLength > validEnd {
                try log.setLength(Int64(validEnd))
            }
            state.size = validEnd
            state.logFileLength = Int64(validEnd)
            state.nextOffset = next
            if validEnd == 0 { state.firstBatchTimestamp = -1 }
            state.indexesNeedRebuild = false
            if !state.isActive {
                try Self.finishInactiveIndexes(&state)
            }
            return SegmentRecovery(validBytes: validEnd, truncatedBytes: fileLength - validEnd, nextOffset: next, problem: problem)
        }
    }

    /// Reads the index files on first use. Missing, corrupt or implausible ones (entries not
    /// increasing, below the base offset, past `upperOffset` or outside the log) are rebuilt
    /// from the log's batch headers, never trusted.
    func ensureIndexesLoaded(_ state: inout State, upperOffset: Int64?) throws(StorageError) {
        if state.indexesNeedRebuild {
            try rebuildIndexes(&state)
            return
        }
        guard !state.offsetIndex.storage.isLoaded || !state.timeIndex.storage.isLoaded else { return }
        do throws(StorageError) {
            try state.offsetIndex.storage.load()
            try state.timeIndex.storage.load()
        } catch {
            guard case .corruptFile = error else { throw error }
            try rebuildIndexes(&state)
            return
        }
        if state.offsetIndex.validate(logSize: state.size, upperOffset: upperOffset) != nil
            || state.timeIndex.validate(upperOffset: upperOffset) != nil
        {
            try rebuildIndexes(&state)
        }
    }

    /// Rebuilds both indexes from the batch headers (no CRC check, nothing cut: the segment
    /// below the recovery point was already validated, only its index was damaged).
    /// Returns the end of the last readable batch.
    @discardableResult
    private func rebuildIndexes(_ state: inout State) throws(StorageError) -> Int {
        try state.offsetIndex.storage.reset()
        try state.timeIndex.storage.reset()
        Self.resetTracking(&state, baseOffset: baseOffset)
        var scanner = BatchScanner(file: log, from: 0, limit: state.size)
        var next = baseOffset
        var end = 0
        scan: while true {
            switch try scanner.nextHeader() {
            case .batch(let header, _):
                state.track(header, indexIntervalBytes: state.indexIntervalBytes)
                next = header.nextOffset
                end = header.end
            case .end, .invalid:
                break scan
            }
        }
        state.nextOffset = next
        state.indexesNeedRebuild = false
        if !state.isActive {
            try Self.finishInactiveIndexes(&state)
        }
        return end
    }

    /// Finds the end of the data, the next offset and the largest timestamp by scanning only
    /// from the last offset index entry to `limit` (a clean open, a truncation). The largest
    /// timestamp before that entry is the time index's last entry; garbage after the last whole
    /// batch is cut.
    func rescanTail(_ state: inout State, limit: Int) throws(StorageError) {
        let entry = state.offsetIndex.lookup(offset: .max)
        if let last = state.timeIndex.lastEntry {
            state.maxTimestamp = last.timestamp
            state.offsetOfMaxTimestamp = last.offset
        } else {
            state.maxTimestamp = -1
            state.offsetOfMaxTimestamp = baseOffset
        }
        var scanner = BatchScanner(file: log, from: entry.position, limit: limit)
        var end = entry.position
        var next: Int64? = entry.position == 0 ? baseOffset : nil
        var first = true
        scan: while true {
            switch try scanner.nextHeader() {
            case .batch(let header, _):
                if first && entry.position > 0 && !(header.baseOffset <= entry.offset && entry.offset <= header.lastOffset) {
                    break scan
                }
                first = false
                if header.maxTimestamp > state.maxTimestamp {
                    state.maxTimestamp = header.maxTimestamp
                    state.offsetOfMaxTimestamp = header.baseOffset
                }
                end = header.end
                next = header.nextOffset
            case .end, .invalid:
                break scan
            }
        }
        guard let next else {
            // The indexed batch itself is unreadable: the index cannot be trusted.
            state.size = limit
            try cutFile(&state, at: try rebuildIndexes(&state))
            return
        }
        state.bytesSinceLastIndexEntry = end - entry.position
        state.nextOffset = next
        try cutFile(&state, at: end)
    }

    /// After a clean shutdown: loads the indexes of what becomes the active segment and finds the
    /// end of its data from the last index entry (no CRC scan, as Kafka).
    func loadTail() throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try ensureIndexesLoaded(&state, upperOffset: nil)
            try rescanTail(&state, limit: state.size)
        }
    }

    /// Whether the open-time check found an index file missing or implausible.
    var needsIndexRebuild: Bool { state.withLock { $0.indexesNeedRebuild } }

    /// Makes `end` the end of the data, cutting the file if it is longer.
    private func cutFile(_ state: inout State, at end: Int) throws(StorageError) {
        if state.logFileLength > Int64(end) {
            try log.setLength(Int64(end))
            state.logFileLength = Int64(end)
        }
        state.size = end
    }

    /// Removes the batch holding `offset` (or the first batch after it) and everything after.
    /// Returns the bytes removed. Only the partition's writer calls this.
    func truncate(to offset: Int64, now: Int64) throws(StorageError) -> Int {
        guard let cut = try translate(offset, limit: size) else { return 0 }
        return try state.withLock { (state: inout State) throws(StorageError) -> Int in
            let removed = state.size - cut.position
            try state.offsetIndex.truncate(toPosition: cut.position)
            try state.timeIndex.truncate(toOffset: cut.baseOffset)
            try state.transactionIndex.truncate(from: cut.baseOffset)
            try cutFile(&state, at: cut.position)
            try rescanTail(&state, limit: cut.position)
            if state.size == 0 {
                state.firstBatchTimestamp = -1
                state.createdMs = now
            }
            return removed
        }
    }

    /// The first batch's header, if the segment has one.
    func firstBatchHeader() throws(StorageError) -> BatchHeader? {
        try firstBatch(endingAtOrAfter: .min, from: 0, limit: size)
    }

    private static func resetTracking(_ state: inout State, baseOffset: Int64) {
        state.maxTimestamp = -1
        state.offsetOfMaxTimestamp = baseOffset
        state.bytesSinceLastIndexEntry = 0
        state.firstBatchTimestamp = nil
        state.nextOffset = nil
    }

    /// An inactive segment's indexes as roll leaves them: the final time entry, trimmed files.
    private static func finishInactiveIndexes(_ state: inout State) throws(StorageError) {
        if state.maxTimestamp >= 0 {
            state.timeIndex.maybeAppend(timestamp: state.maxTimestamp, offset: state.offsetOfMaxTimestamp, force: true)
        }
        try state.offsetIndex.storage.trim()
        try state.timeIndex.storage.trim()
    }
}
