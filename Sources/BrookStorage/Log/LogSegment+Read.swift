import Synchronization
import BrookModel
import BrookRecords
import NIOCore

/// What a segment holds for a read.
enum SegmentReadOutcome {
    /// Whole batches from the one containing the requested offset.
    case found(LogFileRegion, firstOffset: Int64, nextOffset: Int64)
    /// No batch at or after the offset in this segment (look in the next one).
    case noneInSegment
    /// The batch holding the offset reaches the read's offset limit (the high watermark).
    case beyondLimit
}

extension LogSegment {
    /// Starts a header scan at the offset index entry `lookup` picks, below byte `limit`, and
    /// reads the first header. The entry is checked against the log: the batch there must hold
    /// the entry's offset. An index that fails is rebuilt from the log and the lookup repeated,
    /// so a damaged index file that passed the open-time check is still never trusted.
    private func indexedScan(
        limit: Int,
        _ lookup: (OffsetIndex) -> OffsetIndex.Position
    ) throws(StorageError) -> (entry: OffsetIndex.Position, scanner: BatchScanner, first: BatchScanner.Step) {
        var rebuilt = false
        while true {
            var entry = try state.withLock { (state: inout State) throws(StorageError) -> OffsetIndex.Position in
                try ensureIndexesLoaded(&state, upperOffset: nil)
                return lookup(state.offsetIndex)
            }
            if entry.position >= limit {
                // An entry past what this reader may see (appended since): scan from the start.
                entry = OffsetIndex.Position(offset: baseOffset, position: 0)
            }
            var scanner = BatchScanner(file: log, from: entry.position, limit: limit)
            let first = try scanner.nextHeader()
            if entry.position == 0 || rebuilt {
                return (entry, scanner, first)
            }
            if case .batch(let header, _) = first, header.baseOffset <= entry.offset, entry.offset <= header.lastOffset {
                return (entry, scanner, first)
            }
            try rebuildDamagedIndexes()
            rebuilt = true
        }
    }

    /// Marks the indexes as damaged and rebuilds them from the log now.
    private func rebuildDamagedIndexes() throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            state.indexesNeedRebuild = true
            try ensureIndexesLoaded(&state, upperOffset: nil)
        }
    }

    /// Scans headers from `position` (a batch boundary) up to `limit` for the first batch whose
    /// last offset is ≥ `target`.
    func firstBatch(endingAtOrAfter target: Int64, from position: Int, limit: Int) throws(StorageError) -> BatchHeader? {
        var scanner = BatchScanner(file: log, from: position, limit: limit)
        while true {
            switch try scanner.nextHeader() {
            case .batch(let header, _):
                if header.lastOffset >= target { return header }
            case .end, .invalid:
                return nil
            }
        }
    }

    /// The batch containing `offset`, or the first one after it, below byte `limit`: an index
    /// lookup, then a short scan of headers.
    func translate(_ offset: Int64, limit: Int) throws(StorageError) -> BatchHeader? {
        var (_, scanner, step) = try indexedScan(limit: limit) { $0.lookup(offset: offset) }
        while true {
            switch step {
            case .batch(let header, _):
                if header.lastOffset >= offset { return header }
            case .end, .invalid:
                return nil
            }
            step = try scanner.nextHeader()
        }
    }

    /// Reads whole batches from the one containing `offset`, stopping before byte `limit` (the
    /// end the reader observed), before the batch holding `maxOffset`, and before `maxBytes` —
    /// except that the first batch is always whole, however large.
    ///
    /// Cost: index lookups and short header scans (from the entry below the offset, and from the
    /// entry below the byte limit); records are never decoded.
    func read(from offset: Int64, maxBytes: Int, limit: Int, maxOffset: Int64?) throws(StorageError) -> SegmentReadOutcome {
        guard let first = try translate(offset, limit: limit) else { return .noneInSegment }
        var end = limit
        if let maxOffset {
            if first.lastOffset >= maxOffset { return .beyondLimit }
            if let cut = try translate(maxOffset, limit: limit) {
                end = cut.position
            }
        }
        let bound = min(end, first.position + max(maxBytes, 0))
        var regionEnd = first.end
        var next = first.nextOffset
        if bound > first.end {
            // Jump to the last indexed batch that starts below the bound, then walk headers.
            var (entry, scanner, step) = try indexedScan(limit: end) { $0.lookup(position: bound - 1) }
            if entry.position <= first.end {
                scanner = BatchScanner(file: log, from: first.end, limit: end)
                step = try scanner.nextHeader()
            }
            scan: while true {
                switch step {
                case .batch(let header, _):
                    guard header.end <= bound else {
                        if header.position > regionEnd {
                            // Everything between the first batch and this one fits.
                            regionEnd = header.position
                            next = header.baseOffset
                        }
                        break scan
                    }
                    regionEnd = header.end
                    next = header.nextOffset
                case .end, .invalid:
                    break scan
                }
                step = try scanner.nextHeader()
            }
        }
        let region = LogFileRegion(file: log, position: Int64(first.position), length: regionEnd - first.position)
        return .found(region, firstOffset: first.baseOffset, nextOffset: next)
    }

    /// ListOffsets by time inside this segment: the first record with timestamp ≥ `target` and
    /// offset ≥ `startingOffset`, below byte `limit`. The time index gives a batch before which
    /// every batch is older; headers are scanned from there, and only the one batch whose
    /// maxTimestamp reaches the target is decoded to find the record. A time index entry that
    /// the log contradicts makes the indexes be rebuilt and the search repeated.
    func findOffset(byTimestamp target: Int64, startingOffset: Int64, limit: Int) throws(StorageError) -> TimestampAndOffset? {
        for attempt in 0..<2 {
            let timeEntry = try state.withLock { (state: inout State) throws(StorageError) -> (timestamp: Int64, offset: Int64) in
                try ensureIndexesLoaded(&state, upperOffset: nil)
                return state.timeIndex.lookup(timestamp: target)
            }
            var (_, scanner, step) = try indexedScan(limit: limit) { $0.lookup(offset: max(timeEntry.offset, startingOffset)) }
            var damaged = false
            scan: while true {
                switch step {
                case .batch(let header, _):
                    if timeEntry.timestamp >= 0, header.baseOffset <= timeEntry.offset, timeEntry.offset <= header.lastOffset,
                        header.maxTimestamp != timeEntry.timestamp, attempt == 0
                    {
                        damaged = true
                        break scan
                    }
                    if header.maxTimestamp >= target, header.lastOffset >= startingOffset,
                        let found = try firstRecord(of: header, where: { $0.timestamp >= target && $0.offset >= startingOffset })
                    {
                        return found
                    }
                case .end, .invalid:
                    break scan
                }
                step = try scanner.nextHeader()
            }
            guard damaged else { return nil }
            try rebuildDamagedIndexes()
        }
        return nil
    }

    /// The record holding this segment's largest timestamp (the first one, if several share it),
    /// below byte `limit`; nil when the batches carry no timestamps.
    func maxTimestampRecord(limit: Int) throws(StorageError) -> TimestampAndOffset? {
        for attempt in 0..<2 {
            let (timestamp, offset) = state.withLock { ($0.maxTimestamp, $0.offsetOfMaxTimestamp) }
            guard timestamp >= 0, let header = try translate(offset, limit: limit) else { return nil }
            guard header.maxTimestamp == timestamp || attempt == 1 else {
                // The time index's last entry disagrees with the log.
                try rebuildDamagedIndexes()
                continue
            }
            if let found = try firstRecord(of: header, where: { $0.timestamp >= header.maxTimestamp }) {
                return found
            }
            return TimestampAndOffset(
                timestamp: header.maxTimestamp, offset: header.baseOffset,
                leaderEpoch: LeaderEpoch(validating: header.partitionLeaderEpoch))
        }
        return nil
    }

    /// Decodes one batch and returns its first record matching `predicate`.
    private func firstRecord(of header: BatchHeader, where predicate: (Record) -> Bool) throws(StorageError) -> TimestampAndOffset? {
        let bytes = try log.read(at: Int64(header.position), length: header.size)
        do throws(RecordBatchError) {
            let batch = try RecordBatch(bytes)
            var records = try batch.makeRecordIterator()
            while let record = try records.next() {
                if predicate(record) {
                    return TimestampAndOffset(
                        timestamp: record.timestamp, offset: record.offset,
                        leaderEpoch: LeaderEpoch(validating: header.partitionLeaderEpoch))
                }
            }
            return nil
        } catch {
            throw .invalidRecords(error)
        }
    }
}

extension LeaderEpoch {
    /// The epoch a batch carries, or nil for Kafka's "no epoch" (-1).
    init?(validating raw: Int32) {
        guard raw >= 0 else { return nil }
        self.init(raw)
    }
}
