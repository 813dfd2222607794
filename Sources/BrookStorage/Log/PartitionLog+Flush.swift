import Synchronization
import BrookModel

extension PartitionLog {
    /// fsyncs every segment holding offsets in [recovery point, `offset`) — log and indexes —
    /// and the directory, then moves the recovery point to `offset` (nil: the log end offset).
    ///
    /// Runs without the write lock, so appends and reads continue during the syncs; a
    /// truncation that happens meanwhile keeps the recovery point from moving past the new end.
    public func flush(upTo offset: Int64? = nil) throws(StorageError) {
        try health.guarding { () throws(StorageError) in try flushOnline(upTo: offset) }
    }

    /// ``flush(upTo:)`` once the directory is known online. A failed fsync never moves the
    /// recovery point, and (through ``LogDirectoryHealth``) no fsync is tried again.
    private func flushOnline(upTo offset: Int64?) throws(StorageError) {
        let view = self.view
        let target = min(offset ?? view.logEndOffset, view.logEndOffset)
        guard target > view.recoveryPoint else { return }
        try flushSegments(below: target, in: view)
        // The epochs of the records below the new recovery point: recovery will not relearn them.
        try saveEpochCheckpointIfChanged()
        let now = clock.nowMilliseconds()
        state.withLock {
            if $0.truncations == view.truncations {
                $0.recoveryPoint = max($0.recoveryPoint, target)
            }
            if let pending = $0.unsyncedRollOffset, pending <= $0.recoveryPoint {
                $0.unsyncedRollOffset = nil
            }
            $0.lastFlushMs = now
        }
    }

    /// flush.ms: flushes when the last flush is at least flush.ms old and something is
    /// unflushed; also fsyncs segments rolled away whose sync was deferred (see
    /// `syncsRolledSegmentsInline`). The broker's flush scheduler calls this periodically.
    public func flushIfDue() throws(StorageError) {
        let (config, lastFlush, end, recoveryPoint, rolled) = state.withLock {
            ($0.config, $0.lastFlushMs, $0.logEndOffset, $0.recoveryPoint, $0.unsyncedRollOffset)
        }
        guard end > recoveryPoint else { return }
        if config.flushMs != .max && clock.nowMilliseconds() &- lastFlush >= config.flushMs {
            try flush()
        } else if let rolled, rolled > recoveryPoint {
            try flush(upTo: rolled)
        }
    }

    /// fsyncs the segments of `view` that hold offsets in [view.recoveryPoint, `target`), then
    /// the directory (new segment files).
    func flushSegments(below target: Int64, in view: LogState) throws(StorageError) {
        let first = view.segments.floorIndex(of: view.recoveryPoint) ?? 0
        for index in first..<view.segments.count where view.segments[index].baseOffset < target {
            try view.segments[index].flush()
        }
        try FileIO.syncDirectory(directory)
        state.withLock { $0.segmentsCreatedAtDirectorySync = max($0.segmentsCreatedAtDirectorySync, view.segmentsCreated) }
    }

    /// Makes the records up to the log end durable, cheaper than ``flush(upTo:)``: fdatasyncs
    /// only the `.log` files holding offsets above ``durableOffset`` — not their indexes, which
    /// recovery rebuilds from the log above the recovery point — and the directory only when a
    /// segment was created since it was last synced. Moves ``durableOffset``, not the recovery
    /// point. Durable acknowledgements wait for this; a failure takes the directory offline.
    public func syncData() throws(StorageError) {
        try health.guarding { () throws(StorageError) in
            let view = self.view
            let target = view.logEndOffset
            let durable = max(view.recoveryPoint, view.dataSyncedOffset)
            guard target > durable else { return }
            let first = view.segments.floorIndex(of: durable) ?? 0
            for index in first..<view.segments.count where view.segments[index].baseOffset < target {
                try view.segments[index].syncLogFile()
            }
            if view.segmentsCreated != view.segmentsCreatedAtDirectorySync {
                try FileIO.syncDirectory(directory)
            }
            state.withLock {
                $0.segmentsCreatedAtDirectorySync = max($0.segmentsCreatedAtDirectorySync, view.segmentsCreated)
                if $0.truncations == view.truncations {
                    $0.dataSyncedOffset = max($0.dataSyncedOffset, target)
                }
            }
        }
    }

    /// Closes the log cleanly: the active segment's final time index entry, indexes trimmed to
    /// their entries, everything fsynced, the leader epoch checkpoint written; the recovery
    /// point becomes the log end offset. Later calls throw ``StorageError/logClosed(directory:)``
    /// (a second close does nothing). Files stay open while reads hold regions of them. The
    /// log manager writes the directory's checkpoints and clean-shutdown marker afterwards.
    public func close() throws(StorageError) {
        try health.guarding { () throws(StorageError) in try closeOnline() }
    }

    private func closeOnline() throws(StorageError) {
        try writeLock.withLock { (_: inout Void) throws(StorageError) in
            let current = view
            guard !current.isClosed else { return }
            try current.segments.active.deactivate()
            try flushSegments(below: .max, in: current)
            try checkpointLock.withLock { (_: inout Void) throws(StorageError) in
                try epochCheckpoint.write(current.epochCache.entries)
            }
            // A snapshot at the end spares the next open any scan for producer state.
            try ProducerStateSnapshot.write(current.producers, directory: directory, offset: current.logEndOffset)
            state.withLock {
                $0.recoveryPoint = $0.logEndOffset
                $0.isClosed = true
            }
        }
    }
}
