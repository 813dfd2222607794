import Synchronization
import BrookModel
import BrookRecords
import NIOCore

extension PartitionLog {
    /// Appends a producer's batches as the leader.
    ///
    /// Every batch is validated first (``AppendPreparation/leader(_:leaderEpoch:config:now:origin:)``);
    /// one bad batch rejects the request and nothing is written. Then, under the write lock,
    /// offsets are assigned from the log end offset (base offset = LEO, LEO += lastOffsetDelta + 1
    /// per batch), the segment rolls if segment.bytes, segment.ms (+ jitter), a full index or the
    /// 32-bit relative offset demand it, and the request is written with one `pwritev` that
    /// gathers the patched headers and the untouched record bytes. Records are neither decoded
    /// nor copied. A roll fsyncs the previous segment and the directory after the lock is
    /// released (or at the next ``flushIfDue()`` when the log was opened with
    /// `syncsRolledSegmentsInline: false`); flush.messages may fsync too.
    ///
    /// Producer state is checked and updated under the lock (``ProducerStateTable``): sequence
    /// numbers (``AppendOrigin/client`` only) and epochs of idempotent batches, transactions
    /// opened by transactional batches and closed by COMMIT/ABORT markers
    /// (``AppendOrigin/coordinator`` only); an ABORT is recorded in the transaction index of the
    /// segment holding it. Not done here (yet): per-record
    /// timestamps (timestamps are checked on each batch's baseTimestamp and maxTimestamp).
    ///
    /// Left to the caller, because they need the records decoded: keys on compacted topics, and
    /// re-encoding to a compression.type other than `producer` (``LogConfig/storedCompression``).
    /// The log stores each batch with the codec it arrives in; the broker checks keys and
    /// re-encodes before it calls this.
    @discardableResult
    public func append(_ records: ByteBuffer, leaderEpoch: LeaderEpoch, origin: AppendOrigin = .client) throws(StorageError) -> AppendInfo {
        let now = clock.nowMilliseconds()
        let config = self.config
        var batches = try AppendPreparation.leader(
            records, leaderEpoch: leaderEpoch, config: config, now: now, origin: origin)
        guard !batches.batches.isEmpty else { return emptyAppendInfo() }
        let outcome = try mutating { (current: LogState) throws(StorageError) -> AppendOutcome in
            var next = current.logEndOffset
            for index in batches.batches.indices {
                batches.assignBaseOffset(next, toBatch: index)
                next = batches.batches[index].lastOffset + 1
            }
            var producers = current.producers
            let completed: [ProducerStateTable.CompletedTransaction]
            switch try producers.admit(batches.batches, origin: origin) {
            case .duplicate(let original):
                // A producer's retry of a batch already in the log: answer with where it is.
                return AppendOutcome(info: duplicateAppendInfo(original, logStartOffset: current.logStartOffset))
            case .append(let closed):
                completed = closed
            }
            var outcome = try write(
                batches, current: current, now: now, producers: producers != current.producers ? producers : nil, completed: completed)
            var cache = current.epochCache
            cache.assign(epoch: leaderEpoch.rawValue, startOffset: batches.batches[0].baseOffset)
            recordEpochCache(cache, previous: current.epochCache)
            if config.messageTimestampType == .logAppendTime {
                outcome.info.logAppendTime = now
            }
            return outcome
        }
        try finish(outcome)
        return outcome.info
    }

    /// Appends a replica's batches with the offsets the leader gave them (replication, and the
    /// Raft adapter). Batches are CRC-checked and must start at or after the log end offset and
    /// increase; they are written unchanged, and the leader epoch cache learns their epochs.
    @discardableResult
    public func appendAsFollower(_ records: ByteBuffer) throws(StorageError) -> AppendInfo {
        let now = clock.nowMilliseconds()
        let batches = try AppendPreparation.follower(records, config: config)
        guard !batches.batches.isEmpty else { return emptyAppendInfo() }
        let outcome = try mutating { (current: LogState) throws(StorageError) -> AppendOutcome in
            let first = batches.batches[0].baseOffset
            guard first >= current.logEndOffset else {
                throw .invalidBatch(reason: "batch offset \(first) is below the log end offset \(current.logEndOffset)")
            }
            var producers = current.producers
            let completed = producers.record(batches.batches)
            let outcome = try write(
                batches, current: current, now: now, producers: producers != current.producers ? producers : nil, completed: completed)
            var cache = current.epochCache
            for batch in batches.batches {
                cache.assign(epoch: batch.partitionLeaderEpoch, startOffset: batch.baseOffset)
            }
            recordEpochCache(cache, previous: current.epochCache)
            return outcome
        }
        try finish(outcome)
        return outcome.info
    }

    /// Records that `epoch` starts at the log end offset, as a new leader does before it writes
    /// (Kafka's `maybeAssignEpochStartOffset` on becoming leader), so OffsetForLeaderEpoch
    /// answers for it at once.
    public func assignEpochStartOffset(_ epoch: LeaderEpoch) throws(StorageError) {
        try mutating { (current: LogState) throws(StorageError) in
            var cache = current.epochCache
            cache.assign(epoch: epoch.rawValue, startOffset: current.logEndOffset)
            recordEpochCache(cache, previous: current.epochCache)
        }
    }

    /// Starts a new active segment at the log end offset unless the active one is empty
    /// (Kafka's `roll()`, for tools and tests; appends roll by themselves).
    public func roll() throws(StorageError) {
        let rolledTo = try mutating { (current: LogState) throws(StorageError) -> Int64? in
            guard current.activeSize > 0 else { return nil }
            var segments = current.segments
            try roll(&segments, at: current.logEndOffset, config: current.config, now: clock.nowMilliseconds())
            return current.logEndOffset
        }
        if let rolledTo {
            try flush(upTo: rolledTo)
        }
    }

    // MARK: Under the write lock

    struct AppendOutcome: Sendable {
        var info: AppendInfo
        /// The base offset of a segment rolled to, whose predecessors must be fsynced.
        var rolledTo: Int64?
        /// flush.messages offsets are unflushed.
        var flushDue = false
        /// The producer state at a roll, to snapshot once the write lock is released (its
        /// fsync must not hold up the partition's next append).
        var snapshot: (producers: ProducerStateTable, offset: Int64)?
    }

    /// Writes prepared batches (offsets already assigned) at the end of the log, rolling as
    /// needed, and publishes the new log end offset.
    ///
    /// Transactions: the ABORT markers among `completed` go to the transaction index of the
    /// segment they were written to before anything is published, and `producers` (the updated
    /// producer state, nil when unchanged) is published together with the log end offset. So a
    /// READ_COMMITTED reader, which reads the last stable offset, then data below it, then the
    /// aborted transactions, never sees an open transaction's data below the last stable offset
    /// nor an aborted one's data without its index entry. (A request split across segments by the
    /// 32-bit relative-offset limit publishes the state with its first part, so a marker in a
    /// later part may move that offset a moment before its entry is indexed.)
    private func write(
        _ batches: AppendBatches, current: LogState, now: Int64,
        producers: ProducerStateTable? = nil, completed: [ProducerStateTable.CompletedTransaction] = []
    ) throws(StorageError) -> AppendOutcome {
        let config = current.config
        var segments = current.segments
        var rolledTo: Int64?
        var snapshot: (producers: ProducerStateTable, offset: Int64)?
        var maxTimestamp: Int64 = -1
        var offsetOfMaxTimestamp = batches.batches[0].baseOffset
        var recordCount = 0
        for batch in batches.batches {
            if batch.maxTimestamp > maxTimestamp {
                maxTimestamp = batch.maxTimestamp
                offsetOfMaxTimestamp = batch.baseOffset
            }
            recordCount += Int(batch.recordCount)
        }
        let lastOffset = batches.batches[batches.batches.count - 1].lastOffset

        var index = 0
        while index < batches.batches.count {
            let first = batches.batches[index]
            let remaining = batches.batches[batches.batches.count - 1].start + batches.batches[batches.batches.count - 1].size - first.start
            var active = segments.active
            let mustRoll = active.shouldRoll(size: remaining, lastOffset: lastOffset, maxTimestamp: maxTimestamp, now: now, config: config)
            if mustRoll && !(active.size == 0 && active.baseOffset == first.baseOffset) {
                active = try roll(&segments, at: first.baseOffset, config: config, now: now)
                rolledTo = active.baseOffset
                if index == 0 { snapshot = (current.producers, first.baseOffset) }
            }
            // Normally the whole request; fewer batches only when offsets overflow the segment.
            var end = index + 1
            while end < batches.batches.count && batches.batches[end].lastOffset - active.baseOffset <= Int64(Int32.max) {
                end += 1
            }
            do {
                try active.append(batches, range: index..<end, indexIntervalBytes: config.indexIntervalBytes)
            } catch {
                // Refused whole only if no earlier part of this request was published.
                guard case .appendRefusedForSpace(let path) = error, index > 0 else { throw error }
                throw .diskFull(path: path)
            }
            let logEnd = batches.batches[end - 1].lastOffset + 1
            let written = batches.batches[index].baseOffset..<logEnd
            for transaction in completed where transaction.isAborted && written.contains(transaction.lastOffset) {
                try active.appendAbortedTransaction(AbortedTransaction(
                    producerId: transaction.producerId, firstOffset: transaction.firstOffset,
                    lastOffset: transaction.lastOffset, lastStableOffset: transaction.lastStableOffset))
            }
            let activeSize = active.size
            let publishedProducers = index == 0 ? producers : nil
            state.withLock {
                $0.logEndOffset = logEnd
                $0.activeSize = activeSize
                if let publishedProducers { $0.producers = publishedProducers }
            }
            index = end
        }
        let info = AppendInfo(
            firstOffset: batches.batches[0].baseOffset, lastOffset: lastOffset, logAppendTime: nil,
            maxTimestamp: maxTimestamp, offsetOfMaxTimestamp: offsetOfMaxTimestamp,
            logStartOffset: current.logStartOffset, batchCount: batches.batches.count,
            recordCount: recordCount, sizeInBytes: batches.totalSize)
        let flushDue = config.flushMessages != .max && lastOffset + 1 - current.recoveryPoint >= config.flushMessages
        return AppendOutcome(info: info, rolledTo: rolledTo, flushDue: flushDue, snapshot: snapshot)
    }

    /// Closes the active segment (final time index entry, trimmed files) and starts a new one at
    /// `baseOffset`, published at once. Its predecessors are fsynced after the lock is released.
    @discardableResult
    func roll(_ segments: inout LogSegments, at baseOffset: Int64, config: LogConfig, now: Int64) throws(StorageError) -> LogSegment {
        try segments.active.deactivate()
        let segment = try LogSegment.create(directory: directory, baseOffset: baseOffset, config: config, now: now)
        segments.append(segment)
        let published = segments
        state.withLock {
            $0.segments = published
            $0.activeSize = 0
            $0.segmentsCreated &+= 1
        }
        return segment
    }

    // MARK: After the write lock

    /// The fsyncs an append asks for: the segments before a roll (and the directory), and the
    /// whole log once flush.messages offsets are unflushed.
    ///
    /// A roll's producer-state snapshot is written here too, as Kafka writes it off the append
    /// path: a crash before it lands only makes recovery rebuild the state from an older
    /// snapshot and the segments after it.
    private func finish(_ outcome: AppendOutcome) throws(StorageError) {
        if let snapshot = outcome.snapshot {
            try health.guarding { () throws(StorageError) in
                try ProducerStateSnapshot.write(snapshot.producers, directory: directory, offset: snapshot.offset)
            }
        }
        if outcome.flushDue {
            try flush()
        } else if let rolledTo = outcome.rolledTo {
            if syncsRolledSegmentsInline {
                try flush(upTo: rolledTo)
            } else {
                state.withLock { $0.unsyncedRollOffset = max($0.unsyncedRollOffset ?? rolledTo, rolledTo) }
            }
        }
    }

    private func duplicateAppendInfo(_ original: ProducerStateTable.BatchRecord, logStartOffset: Int64) -> AppendInfo {
        AppendInfo(
            firstOffset: original.firstOffset, lastOffset: original.lastOffset, logAppendTime: nil,
            maxTimestamp: original.maxTimestamp, offsetOfMaxTimestamp: original.firstOffset,
            logStartOffset: logStartOffset, batchCount: 0, recordCount: 0, sizeInBytes: 0)
    }

    private func emptyAppendInfo() -> AppendInfo {
        AppendInfo(
            firstOffset: -1, lastOffset: -1, logAppendTime: nil, maxTimestamp: -1, offsetOfMaxTimestamp: -1,
            logStartOffset: logStartOffset, batchCount: 0, recordCount: 0, sizeInBytes: 0)
    }
}
