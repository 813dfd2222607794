import Synchronization
import BrookModel

extension PartitionLog {
    /// Removes every record at or after `offset` (a follower truncating to its leader, or
    /// unclean leader election). A batch holding `offset` goes whole, so the log end offset can
    /// end up below `offset`; later segments are renamed `.deleted`. An offset at or past the log
    /// end removes no record, but still the leader epochs that start at the log end with no
    /// record written in them (a broker that led without writing, then followed: its follower
    /// fetches must not keep naming that epoch); one below the first segment empties the log and
    /// restarts it there.
    public func truncate(to offset: Int64) throws(StorageError) {
        guard offset >= 0 else {
            throw .offsetOutOfRange(offset: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        }
        try mutating { (current: LogState) throws(StorageError) in
            guard offset < current.logEndOffset else {
                var cache = current.epochCache
                if cache.truncateFromEnd(current.logEndOffset) { try saveEpochCache(cache, previous: current.epochCache) }
                return
            }
            guard let index = current.segments.floorIndex(of: offset) else {
                try restart(at: offset, current: current)
                return
            }
            let now = clock.nowMilliseconds()
            var segments = current.segments
            let removed = segments.removeAll(after: index)
            let kept = segments.active
            _ = try kept.truncate(to: offset, now: now)
            try kept.activate(config: current.config)
            let logEnd = kept.nextOffset ?? kept.baseOffset
            let pending = try scheduleDeletion(removed, config: current.config, now: now)
            var cache = current.epochCache
            cache.truncateFromEnd(logEnd)
            // Rebuilt rather than trimmed: a cut marker reopens its transaction.
            try ProducerStateSnapshot.deleteAbove(logEnd, in: directory)
            let producers = try Self.loadProducerState(
                directory: directory, segments: segments.all, activeSize: kept.size, logEnd: logEnd)
            let published = segments
            let activeSize = kept.size
            state.withLock {
                $0.producers = producers
                $0.segments = published
                $0.logEndOffset = logEnd
                $0.activeSize = activeSize
                $0.logStartOffset = min($0.logStartOffset, logEnd)
                $0.recoveryPoint = min($0.recoveryPoint, logEnd)
                $0.dataSyncedOffset = min($0.dataSyncedOffset, logEnd)
                $0.truncations &+= 1
                $0.pendingDeletions += pending
            }
            try saveEpochCache(cache, previous: current.epochCache)
        }
    }

    /// Empties the log and restarts it at `offset` (a follower whose fetch offset fell below the
    /// leader's log start offset): every segment is renamed `.deleted`, the leader epoch cache is
    /// cleared, and log start, log end and recovery point all become `offset`.
    public func truncateFullyAndStart(at offset: Int64) throws(StorageError) {
        guard offset >= 0 else {
            throw .offsetOutOfRange(offset: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        }
        try mutating { (current: LogState) throws(StorageError) in
            try restart(at: offset, current: current)
        }
    }

    private func restart(at offset: Int64, current: LogState) throws(StorageError) {
        let now = clock.nowMilliseconds()
        var segments = current.segments
        try segments.active.deactivate()
        let removed = segments.removeAll()
        let pending = try scheduleDeletion(removed, config: current.config, now: now)
        let fresh = try LogSegment.create(directory: directory, baseOffset: offset, config: current.config, now: now)
        try FileIO.syncDirectory(directory)
        segments.append(fresh)
        try ProducerStateSnapshot.deleteAbove(-1, in: directory)
        let published = segments
        state.withLock {
            $0.producers = ProducerStateTable()
            $0.segments = published
            $0.logStartOffset = offset
            $0.logEndOffset = offset
            $0.activeSize = 0
            $0.recoveryPoint = offset
            $0.dataSyncedOffset = offset
            $0.segmentsCreated &+= 1
            $0.truncations &+= 1
            $0.pendingDeletions += pending
        }
        try saveEpochCache(LeaderEpochCache(), previous: current.epochCache)
    }

    /// DeleteRecords: moves the log start offset to `offset` (no-op when it is not above the
    /// current one) and deletes the segments wholly below it. The broker checks `offset` against
    /// the high watermark. Returns the new log start offset.
    ///
    /// - Throws: ``StorageError/offsetOutOfRange(offset:logStartOffset:logEndOffset:)`` when
    ///   `offset` is past the log end offset.
    @discardableResult
    public func deleteRecordsBefore(_ offset: Int64) throws(StorageError) -> Int64 {
        try mutating { (current: LogState) throws(StorageError) -> Int64 in
            guard offset <= current.logEndOffset, offset >= 0 else {
                throw .offsetOutOfRange(offset: offset, logStartOffset: current.logStartOffset, logEndOffset: current.logEndOffset)
            }
            guard offset > current.logStartOffset else { return current.logStartOffset }
            var count = 0
            while count + 1 < current.segments.count && current.segments[count + 1].baseOffset <= offset {
                count += 1
            }
            try removeOldest(count, current: current, newStart: offset)
            return offset
        }
    }

    /// Retention's primitive: renames to `.deleted` the oldest segments for which `predicate`
    /// holds, stopping at the first that does not, and returns what they were. The log start
    /// offset moves to the first remaining segment. When every segment qualifies and the active
    /// one holds data, a new empty active segment is rolled first (Kafka's behaviour when all
    /// data has expired), so an active segment always remains; an empty active segment is never
    /// deleted. Files are unlinked later by ``deleteExpiredSegmentFiles(now:)``.
    @discardableResult
    public func deleteSegments(where predicate: (SegmentSummary) -> Bool) throws(StorageError) -> [SegmentSummary] {
        try mutating { (current: LogState) throws(StorageError) -> [SegmentSummary] in
            let summaries = try segmentSummaries()
            var count = 0
            while count < summaries.count && count < current.segments.count
                && summaries[count].baseOffset == current.segments[count].baseOffset && predicate(summaries[count])
            {
                count += 1
            }
            guard count > 0 else { return [] }
            var latest = current
            if count == current.segments.count {
                if current.activeSize == 0 {
                    count -= 1
                } else {
                    // The segments rolled away are deleted at once: nothing to fsync first.
                    var segments = current.segments
                    try roll(&segments, at: current.logEndOffset, config: current.config, now: clock.nowMilliseconds())
                    latest = view
                }
            }
            guard count > 0 else { return [] }
            try removeOldest(count, current: latest, newStart: latest.segments[count].baseOffset)
            return Array(summaries.prefix(count))
        }
    }

    /// Unlinks the files of `.deleted` segments whose file.delete.delay.ms has passed (a
    /// scheduler calls this periodically). Returns how many segments were deleted.
    @discardableResult
    public func deleteExpiredSegmentFiles(now: Int64? = nil) throws(StorageError) -> Int {
        try health.check()
        let now = now ?? clock.nowMilliseconds()
        let due = state.withLock { state -> [PendingSegmentDeletion] in
            let due = state.pendingDeletions.filter { $0.deleteAtMs <= now }
            state.pendingDeletions.removeAll { $0.deleteAtMs <= now }
            return due
        }
        for deletion in due {
            for path in deletion.paths {
                try FileIO.remove(path)
            }
        }
        return due.count
    }

    // MARK: Helpers (write lock held)

    /// Drops the oldest `count` segments and moves the log start offset to `newStart`.
    private func removeOldest(_ count: Int, current: LogState, newStart: Int64) throws(StorageError) {
        var segments = current.segments
        let removed = count > 0 ? segments.removeFirst(count) : []
        let pending = try scheduleDeletion(removed, config: current.config, now: clock.nowMilliseconds())
        let start = max(current.logStartOffset, newStart)
        var cache = current.epochCache
        cache.truncateFromStart(start)
        let published = segments
        state.withLock {
            $0.segments = published
            $0.logStartOffset = start
            $0.pendingDeletions += pending
        }
        try saveEpochCache(cache, previous: current.epochCache)
    }

    /// Renames segments to `.deleted` and returns their pending deletions.
    func scheduleDeletion(_ segments: [LogSegment], config: LogConfig, now: Int64) throws(StorageError) -> [PendingSegmentDeletion] {
        var pending: [PendingSegmentDeletion] = []
        for segment in segments {
            try segment.rename(suffix: SegmentFileName.deletedSuffix)
            pending.append(
                PendingSegmentDeletion(
                    baseOffset: segment.baseOffset, paths: segment.filePaths,
                    deleteAtMs: now &+ max(0, config.fileDeleteDelayMs)))
        }
        if !segments.isEmpty {
            try FileIO.syncDirectory(directory)
        }
        return pending
    }
}
