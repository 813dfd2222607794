import Synchronization
import BrookModel

extension PartitionLog {
    /// Reads whole batches from the one containing `offset` (Fetch).
    ///
    /// The region starts at the batch holding `offset` (a fetch from the middle of a batch gets the
    /// whole batch), ends before `maxBytes` are exceeded — but always holds at least one whole
    /// batch, however large — and never includes a batch that reaches `maxOffset` (the high
    /// watermark, or the last stable offset; nil means the log end offset). It comes from one
    /// segment; the next read continues at ``LogReadResult/nextOffset``.
    ///
    /// - Throws: ``StorageError/offsetOutOfRange(offset:logStartOffset:logEndOffset:)`` when
    ///   `offset` is below the log start offset or above the log end offset. At the log end
    ///   offset (or at `maxOffset`) the result is empty.
    public func read(from offset: Int64, maxBytes: Int, upTo maxOffset: Int64? = nil) throws(StorageError) -> LogReadResult {
        try health.check()
        let view = self.view
        guard !view.isClosed else { throw .logClosed(directory: directory) }
        guard offset >= view.logStartOffset, offset <= view.logEndOffset else {
            throw .offsetOutOfRange(offset: offset, logStartOffset: view.logStartOffset, logEndOffset: view.logEndOffset)
        }
        let empty = LogReadResult(
            region: nil, firstBatchOffset: nil, nextOffset: offset,
            logStartOffset: view.logStartOffset, logEndOffset: view.logEndOffset)
        let limitOffset = min(maxOffset ?? view.logEndOffset, view.logEndOffset)
        guard offset < limitOffset else { return empty }
        var index = view.segments.floorIndex(of: offset) ?? 0
        while index < view.segments.count {
            let segment = view.segments[index]
            let limit = index == view.segments.count - 1 ? view.activeSize : segment.size
            let outcome = try segment.read(
                from: offset, maxBytes: maxBytes, limit: limit,
                maxOffset: limitOffset < view.logEndOffset ? limitOffset : nil)
            switch outcome {
            case .found(let region, let firstOffset, let nextOffset):
                return LogReadResult(
                    region: region, firstBatchOffset: firstOffset, nextOffset: nextOffset,
                    logStartOffset: view.logStartOffset, logEndOffset: view.logEndOffset)
            case .beyondLimit:
                return empty
            case .noneInSegment:
                index += 1
            }
        }
        return empty
    }

    /// ListOffsets: earliest is the log start offset, latest the log end offset (both with
    /// timestamp -1), max-timestamp the record with the largest timestamp, and a timestamp the
    /// first record at or after the log start offset whose timestamp is ≥ it — found through the
    /// segments' largest timestamps, then the time index, then a scan of batch headers, decoding
    /// only the one batch that holds the answer. Nil when no record qualifies.
    public func offset(for query: OffsetQuery) throws(StorageError) -> TimestampAndOffset? {
        try health.check()
        let view = self.view
        guard !view.isClosed else { throw .logClosed(directory: directory) }
        switch query {
        case .earliest:
            return TimestampAndOffset(
                timestamp: -1, offset: view.logStartOffset, leaderEpoch: view.epochCache.epoch(forOffset: view.logStartOffset))
        case .latest:
            return TimestampAndOffset(timestamp: -1, offset: view.logEndOffset, leaderEpoch: view.epochCache.latest?.epoch)
        case .maxTimestamp:
            var best: LogSegment?
            for segment in view.segments.all where segment.maxTimestamp > (best?.maxTimestamp ?? -1) {
                best = segment
            }
            guard let best else { return nil }
            return try best.maxTimestampRecord(limit: best.size)
        case .timestamp(let target):
            let start = view.segments.floorIndex(of: view.logStartOffset) ?? 0
            for index in start..<view.segments.count {
                let segment = view.segments[index]
                guard segment.maxTimestamp >= target else { continue }
                let limit = index == view.segments.count - 1 ? view.activeSize : segment.size
                if let found = try segment.findOffset(byTimestamp: target, startingOffset: view.logStartOffset, limit: limit) {
                    return found
                }
            }
            return nil
        }
    }

    /// ListOffsets v0's answer (Kafka's legacyFetchOffsetsBefore): up to `maximumCount` offsets,
    /// newest first, drawn from each segment's base offset (at least the log start offset) paired
    /// with its file's last-modified time, followed by the log end offset at the current time
    /// when the active segment holds anything. `-1` (latest) starts from the newest pair,
    /// `-2` (earliest) answers only the oldest, and any other value starts from the newest pair
    /// whose time is at most it (none: an empty answer).
    public func legacyOffsets(before timestamp: Int64, maximumCount: Int) throws(StorageError) -> [Int64] {
        let view = self.view
        guard !view.isClosed else { throw .logClosed(directory: directory) }
        guard maximumCount > 0 else { return [] }
        var pairs: [(offset: Int64, time: Int64)] = []
        for segment in view.segments.all {
            pairs.append((max(segment.baseOffset, view.logStartOffset), try segment.log.modifiedMilliseconds()))
        }
        if view.activeSize > 0 { pairs.append((view.logEndOffset, clock.nowMilliseconds())) }
        let start: Int
        switch timestamp {
        case -1: start = pairs.count - 1
        case -2: start = pairs.isEmpty ? -1 : 0
        default: start = pairs.lastIndex { $0.time <= timestamp } ?? -1
        }
        guard start >= 0 else { return [] }
        let chosen = pairs[max(0, start - maximumCount + 1)...start].map(\.offset)
        return chosen.sorted(by: >)
    }

    /// ListOffsets with Kafka's timestamp field (-1 latest, -2 earliest, -3 max timestamp, -4
    /// earliest local, -5 latest tiered, or a time). Nil when nothing qualifies or the value is
    /// another negative number.
    public func offset(forTimestamp timestamp: Int64) throws(StorageError) -> TimestampAndOffset? {
        guard let query = OffsetQuery(kafkaTimestamp: timestamp) else { return nil }
        return try offset(for: query)
    }
}
