import BrookRecords
import NIOCore

/// Compacts one log: keeps the latest record of each key (and tombstones until their delete
/// horizon), at their original offsets, and swaps the result in crash-safely.
///
/// One cleaning of a log whose `cleanup.policy` includes compact:
///
/// 1. ``CompactionPlanner`` decides from the segment summaries and the `cleaner-offset-checkpoint`
///    entry whether the log needs cleaning and which range is dirty: [firstDirty,
///    firstUncleanable), never reaching the first offset of an open transaction
///    (``PartitionLog/firstUnstableOffset``; storage does not know the high watermark, so that
///    is the last stable offset it plans with). A log whose kept tombstones or obsolete markers
///    reached their delete horizon (``CleaningReport/nextDeleteHorizonMs`` of the previous
///    cleaning) is cleaned even when the dirty ratio is low.
/// 2. An ``OffsetMap`` is built over the dirty range by reading its batches (never the active
///    segment), skipping the batches of aborted transactions (found with `TransactionTracker`
///    from the aborted transactions overlapping the range, whatever segment their marker is
///    in). If the map fills up, this cleaning ends after the last offset it recorded.
/// 3. Every batch of the segments from the log start up to that end goes through
///    ``RecordFilter``, with what a second `TransactionTracker` walk says of its transaction and
///    what the producer state says of active producers (their last data batch, or their last
///    marker when they have no data, must survive); the retained batches are written to
///    cleaned segments (`.cleaned` files), one per group of consecutive originals whose sizes
///    add up to at most segment.bytes, with the base offset of the group's first original.
///    Each cleaned segment's transaction index receives the entries of the ABORT markers it
///    keeps, and only those (see ``PartitionLog/replaceSegments(_:with:)``).
/// 4. ``PartitionLog`` swaps them in (`.cleaned` → `.swap` → live, the originals `.deleted`).
///
/// Transactions, as in Kafka: aborted data is dropped; a COMMIT or ABORT marker stays while any
/// batch of its transaction does (an empty header kept for producer state included), then like
/// a tombstone gets a delete horizon at the first cleaning that finds it obsolete and goes at the
/// first cleaning from then on. Until then the transaction index keeps the entry of a kept ABORT
/// marker; once the marker goes its entry goes with it (an entry left without its marker would
/// make READ_COMMITTED consumers skip the producer's later committed data).
///
/// The caller persists ``CleaningReport/newCheckpoint`` in `cleaner-offset-checkpoint`.
///
/// Thread safety: a value; a cleaning runs on the caller's thread and takes the log's write lock
/// only for the final swap, so appends and reads continue meanwhile.
public struct LogCleaner: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Memory for the offset map of one cleaning (`log.cleaner.dedupe.buffer.size` /
        /// `log.cleaner.threads`); a smaller map is used when the dirty range is small.
        public var offsetMapMemoryBytes = 128 * 1024 * 1024
        /// `log.cleaner.io.buffer.load.factor`.
        public var loadFactor = 0.9

        public init(offsetMapMemoryBytes: Int = 128 * 1024 * 1024, loadFactor: Double = 0.9) {
            self.offsetMapMemoryBytes = offsetMapMemoryBytes
            self.loadFactor = loadFactor
        }
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Cleans `log` if it needs it (see the type's overview).
    ///
    /// - Parameters:
    ///   - now: the cleaning's clock (`min/max.compaction.lag.ms`, tombstone horizons).
    ///   - checkpoint: the log's `cleaner-offset-checkpoint` entry, nil when absent.
    ///   - pendingDeleteHorizonMs: the earliest delete horizon of tombstones the previous
    ///     cleaning kept; when it has passed the log is cleaned whatever its dirty ratio.
    public func cleanIfNeeded(
        log: PartitionLog,
        now: Int64,
        checkpoint: Int64?,
        pendingDeleteHorizonMs: Int64? = nil
    ) throws(StorageError) -> CleaningReport {
        let config = log.config
        guard config.isCompacted else { return CleaningReport() }
        var plannerConfiguration = CompactionPlanner.Configuration()
        plannerConfiguration.minCleanableDirtyRatio = config.minCleanableDirtyRatio
        plannerConfiguration.minCompactionLagMs = config.minCompactionLagMs
        plannerConfiguration.maxCompactionLagMs = config.maxCompactionLagMs
        let summaries = try log.segmentSummaries()
        let plan = CompactionPlanner.plan(
            segments: summaries, logStartOffset: log.logStartOffset, cleanerCheckpoint: checkpoint,
            lastStableOffset: log.firstUnstableOffset, nowMs: now, configuration: plannerConfiguration)
        var report = CleaningReport(plan: plan)
        // Until a swap succeeds, the tombstones of the previous cleaning are still due then.
        report.nextDeleteHorizonMs = pendingDeleteHorizonMs
        if plan.resetsCheckpoint { report.newCheckpoint = plan.firstDirtyOffset }
        let horizonDue = pendingDeleteHorizonMs.map { $0 <= now } ?? false
        guard plan.needsCleaning || horizonDue else { return report }

        // 2. The offset map over the dirty range.
        let dirty = plan.cleanableRange
        let segments = log.cleanableSegments(below: max(dirty.upperBound, dirty.lowerBound))
        guard !segments.isEmpty else { return report }
        let memory = min(configuration.offsetMapMemoryBytes, max(64 * 1024, Int(plan.cleanableBytes) * 4))
        var map = OffsetMap(memoryBytes: memory, loadFactor: configuration.loadFactor)
        map.updateLatestOffset(dirty.lowerBound - 1)
        var full = false
        var dirtyTransactions = TransactionTracker(
            abortedTransactions: log.abortedTransactions(from: dirty.lowerBound, to: dirty.upperBound))
        for (index, segment) in segments.enumerated() where !full {
            let end = index + 1 < segments.count ? segments[index + 1].baseOffset : dirty.upperBound
            guard end > dirty.lowerBound, segment.baseOffset < dirty.upperBound else { continue }
            try segment.forEachBatch { (batch) throws(StorageError) in
                guard !full, batch.lastOffset >= dirty.lowerBound, batch.baseOffset < dirty.upperBound else { return }
                let isAborted = !batch.isControlBatch && dirtyTransactions.onDataBatch(batch)
                do throws(RecordBatchError) {
                    if try map.insertKeys(of: batch, startOffset: dirty.lowerBound, isAborted: isAborted) == .mapFull { full = true }
                } catch {
                    throw .invalidRecords(error)
                }
            }
        }
        let cleanEnd = full ? map.latestOffset + 1 : dirty.upperBound
        guard cleanEnd > dirty.lowerBound || (horizonDue && dirty.isEmpty) else {
            // The map could not hold even one batch's keys: nothing can be cleaned.
            return report
        }

        // 3. Filter every batch from the log start to the end of what the map covers.
        var filterConfiguration = RecordFilter.Configuration(nowMs: now, deleteRetentionMs: config.deleteRetentionMs)
        filterConfiguration.keepProducerState(of: log.producerState)
        let originals = segments.filter { $0.baseOffset < cleanEnd }
        guard let lastOriginal = originals.last else { return report }
        let originalsEnd = summaries.first { $0.baseOffset == lastOriginal.baseOffset }?.nextOffset ?? cleanEnd
        var transactions = TransactionTracker(
            abortedTransactions: log.abortedTransactions(from: originals[0].baseOffset, to: originalsEnd))
        var cleaned: [CleanedSegment] = []
        var nextHorizon: Int64?
        do {
            for group in Self.groups(originals, summaries: summaries, maxBytes: config.segmentBytes) {
                let output = try log.makeCleanedSegment(replacing: group[0])
                cleaned.append(output)
                for original in group {
                    report.bytesRead += original.size
                    try original.forEachBatch { (batch) throws(StorageError) in
                        var transaction = RecordFilter.TransactionState.notAborted
                        var abortedTransaction: AbortedTransaction?
                        if batch.isControlBatch {
                            let verdict = try transactions.onControlBatch(batch)
                            if verdict.isObsolete { transaction = .obsoleteMarker }
                            abortedTransaction = verdict.abortedTransaction
                        } else if transactions.onDataBatch(batch) {
                            transaction = .aborted
                        }
                        let result: RecordFilter.Result
                        do throws(RecordBatchError) {
                            result = try RecordFilter.filter(
                                batch, offsetMap: map, configuration: filterConfiguration, transaction: transaction)
                        } catch {
                            throw .invalidRecords(error)
                        }
                        report.recordsRead += result.recordsRead
                        report.recordsRetained += result.recordsRetained
                        if let horizon = result.markerDeleteHorizonMs {
                            nextHorizon = min(nextHorizon ?? horizon, horizon)
                        }
                        switch result.outcome {
                        case .keepOriginal:
                            try output.append(batch.bytes)
                            if let horizon = batch.deleteHorizonMs, try Self.hasTombstone(batch) {
                                nextHorizon = min(nextHorizon ?? horizon, horizon)
                            }
                        case .rewrite(let bytes), .keepEmptyHeader(let bytes):
                            try output.append(bytes)
                            if let rewritten = try? RecordBatch(bytes), let horizon = rewritten.deleteHorizonMs,
                                try Self.hasTombstone(rewritten)
                            {
                                nextHorizon = min(nextHorizon ?? horizon, horizon)
                            }
                        case .discard:
                            break
                        }
                        if let abortedTransaction, result.outcome != .discard {
                            try output.appendAbortedTransaction(abortedTransaction)
                        }
                    }
                }
                report.bytesWritten += output.segment.size
            }
        } catch {
            cleaned.forEach { $0.discard() }
            throw error
        }

        // 4. Swap.
        guard try log.replaceSegments(originals, with: cleaned) else { return report }
        report.segmentsCleaned = originals.count
        report.newCheckpoint = max(cleanEnd, plan.firstDirtyOffset)
        report.nextDeleteHorizonMs = nextHorizon
        return report
    }

    /// Consecutive originals merged into one cleaned segment, as Kafka groups them: together
    /// at most `maxBytes` (segment.bytes) before cleaning, and offsets within 2^31 of the group's
    /// base (the indexes store 32-bit relative offsets).
    static func groups(_ originals: [CleanableSegment], summaries: [SegmentSummary], maxBytes: Int) -> [[CleanableSegment]] {
        var groups: [[CleanableSegment]] = []
        var current: [CleanableSegment] = []
        var bytes = 0
        for original in originals {
            let end = summaries.first { $0.baseOffset == original.baseOffset }?.nextOffset
            if let first = current.first {
                let fits = bytes + original.size <= maxBytes
                let offsetsFit = end.map { $0 - 1 - first.baseOffset <= Int64(Int32.max) } ?? false
                if !(fits && offsetsFit) {
                    groups.append(current)
                    current = []
                    bytes = 0
                }
            }
            current.append(original)
            bytes += original.size
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    private static func hasTombstone(_ batch: RecordBatch) throws(StorageError) -> Bool {
        do throws(RecordBatchError) {
            var iterator = try batch.makeRecordIterator()
            while let record = try iterator.next() {
                if record.value == nil { return true }
            }
            return false
        } catch {
            throw .invalidRecords(error)
        }
    }
}

/// What one ``LogCleaner/cleanIfNeeded(log:now:checkpoint:pendingDeleteHorizonMs:)`` did.
public struct CleaningReport: Sendable, Equatable {
    /// The planner's decision; nil when the log is not compacted.
    public var plan: CompactionPlan?
    /// Original segments replaced by cleaned ones (0 when nothing was cleaned).
    public var segmentsCleaned = 0
    /// The value to store in `cleaner-offset-checkpoint`; nil to leave it as it is.
    public var newCheckpoint: Int64?
    /// The earliest delete horizon of the tombstones and obsolete transaction markers still in
    /// the log, when known: the log should be cleaned again from then on even if it is not dirty.
    public var nextDeleteHorizonMs: Int64?
    public var bytesRead = 0
    public var bytesWritten = 0
    public var recordsRead = 0
    public var recordsRetained = 0

    public init(plan: CompactionPlan? = nil) {
        self.plan = plan
    }

    /// Whether segments were swapped.
    public var cleaned: Bool { segmentsCleaned > 0 }
}
