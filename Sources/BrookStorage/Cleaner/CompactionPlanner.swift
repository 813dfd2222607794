/// Decides whether a compacted log needs cleaning and which offsets a cleaning may rewrite.
///
/// A compacted log is a clean head (already compacted, before the cleaner checkpoint) followed by
/// a dirty tail. Rules, as Kafka applies them:
///
/// 1. **First dirty offset**: the `cleaner-offset-checkpoint` entry, or the log start offset when
///    there is none. A checkpoint below the log start offset or above the log end offset (a
///    truncated or damaged log) is reset to the log start offset, and ``CompactionPlan/resetsCheckpoint``
///    tells the caller to rewrite the checkpoint.
/// 2. **First uncleanable offset**: the smallest of the active segment's base offset (the active
///    segment is never cleaned), the last stable offset (nothing at or after an open transaction
///    or the high watermark), and, when `min.compaction.lag.ms` > 0, the base offset of the first
///    dirty non-active segment whose largest timestamp is newer than `now - min.compaction.lag.ms`.
///    It is then rounded down to the base offset of the segment containing it, and never below the
///    first dirty offset.
/// 3. **Dirty ratio**: cleanable bytes / (clean bytes + cleanable bytes), where clean bytes are the
///    sizes of the segments starting before the first dirty offset and cleanable bytes those of the
///    segments from the one holding the first dirty offset up to the first uncleanable offset (a
///    segment straddling the first dirty offset counts in both, as in Kafka).
/// 4. **max.compaction.lag.ms**: the compaction delay is how far the earliest first-batch
///    timestamp (> 0) of the dirty non-active segments is older than `now - max.compaction.lag.ms`.
/// 5. **Needs cleaning** when the log is not empty and either the dirty ratio is strictly above
///    `min.cleanable.dirty.ratio`, or the delay is positive and there are cleanable bytes.
///
/// Pure and `Sendable`; no I/O.
public enum CompactionPlanner {
    /// The topic settings that drive the decision.
    public struct Configuration: Sendable, Equatable {
        /// `min.cleanable.dirty.ratio`.
        public var minCleanableDirtyRatio = 0.5
        /// `min.compaction.lag.ms`: records younger than this are never compacted.
        public var minCompactionLagMs: Int64 = 0
        /// `max.compaction.lag.ms`: records older than this force a cleaning whatever the ratio.
        public var maxCompactionLagMs: Int64 = .max

        public init() {}
    }

    /// Plans one log's cleaning.
    ///
    /// - Parameters:
    ///   - segments: every segment, oldest first; the last one is the active segment.
    ///   - logStartOffset: the log's start offset.
    ///   - cleanerCheckpoint: the log's `cleaner-offset-checkpoint` entry, nil when absent.
    ///   - lastStableOffset: the last stable offset (at most the high watermark); nil means the log
    ///     end offset.
    ///   - nowMs: the current time.
    public static func plan(
        segments: [SegmentSummary],
        logStartOffset: Int64,
        cleanerCheckpoint: Int64?,
        lastStableOffset: Int64? = nil,
        nowMs: Int64,
        configuration: Configuration = Configuration()
    ) -> CompactionPlan {
        guard let active = segments.last else {
            return CompactionPlan(
                firstDirtyOffset: logStartOffset, firstUncleanableOffset: logStartOffset, resetsCheckpoint: false,
                cleanBytes: 0, cleanableBytes: 0, dirtyRatio: 0, maxCompactionDelayMs: 0, trigger: nil)
        }
        let logEndOffset = active.nextOffset

        // 1. First dirty offset.
        let checkpoint = cleanerCheckpoint ?? logStartOffset
        let firstDirty: Int64
        let resets: Bool
        if checkpoint < logStartOffset || checkpoint > logEndOffset {
            firstDirty = logStartOffset
            resets = true
        } else {
            firstDirty = checkpoint
            resets = false
        }

        // 2. First uncleanable offset.
        let dirtyNonActive = nonActiveSegments(segments, from: firstDirty)
        var uncleanable = min(active.baseOffset, lastStableOffset ?? logEndOffset)
        let minLag = max(configuration.minCompactionLagMs, 0)
        if minLag > 0 {
            let horizon = subtractSaturating(nowMs, minLag)
            if let young = dirtyNonActive.first(where: { $0.largestTimestamp > horizon }) {
                uncleanable = min(uncleanable, young.baseOffset)
            }
        }
        uncleanable = max(firstDirty, uncleanable)
        let snapped = nonActiveSegments(segments, from: uncleanable).first?.baseOffset ?? active.baseOffset
        let firstUncleanable = max(firstDirty, snapped)

        // 3. Sizes and ratio.
        let cleanBytes = segments.lazy.filter { $0.baseOffset < firstDirty }.reduce(0) { $0 + $1.sizeBytes }
        let cleanableBytes = overlapping(segments, from: min(firstDirty, snapped), to: snapped)
            .reduce(0) { $0 + $1.sizeBytes }
        let total = cleanBytes + cleanableBytes
        let ratio = total > 0 ? Double(cleanableBytes) / Double(total) : 0

        // 4. Compaction delay.
        let earliest = dirtyNonActive.compactMap(\.firstBatchTimestamp).filter { $0 > 0 }.min() ?? .max
        let cleanUntil = subtractSaturating(nowMs, max(configuration.maxCompactionLagMs, 0))
        let delay = earliest < cleanUntil ? cleanUntil - earliest : 0

        // 5. Decision.
        let trigger: CompactionPlan.Trigger?
        if total <= 0 {
            trigger = nil
        } else if ratio > configuration.minCleanableDirtyRatio {
            trigger = .dirtyRatio
        } else if delay > 0 && cleanableBytes > 0 {
            trigger = .maxCompactionLag
        } else {
            trigger = nil
        }
        return CompactionPlan(
            firstDirtyOffset: firstDirty, firstUncleanableOffset: firstUncleanable, resetsCheckpoint: resets,
            cleanBytes: cleanBytes, cleanableBytes: cleanableBytes, dirtyRatio: ratio,
            maxCompactionDelayMs: delay, trigger: trigger)
    }

    /// Index of the segment holding `offset`: the last one whose base is <= offset, or the first
    /// segment when the offset precedes them all.
    static func floorIndex(_ segments: [SegmentSummary], _ offset: Int64) -> Int {
        segments.lastIndex(where: { $0.baseOffset <= offset }) ?? 0
    }

    /// The non-active segments from the one holding `offset` on.
    static func nonActiveSegments(_ segments: [SegmentSummary], from offset: Int64) -> ArraySlice<SegmentSummary> {
        let start = floorIndex(segments, offset)
        let end = segments.count - 1
        return start < end ? segments[start..<end] : []
    }

    /// The segments from the one holding `from` whose base offset is below `to`.
    static func overlapping(_ segments: [SegmentSummary], from: Int64, to: Int64) -> ArraySlice<SegmentSummary> {
        segments[floorIndex(segments, from)...].prefix(while: { $0.baseOffset < to })
    }

    private static func subtractSaturating(_ lhs: Int64, _ rhs: Int64) -> Int64 {
        let (result, overflow) = lhs.subtractingReportingOverflow(rhs)
        return overflow ? (rhs > 0 ? .min : .max) : result
    }
}

/// The outcome of ``CompactionPlanner/plan(segments:logStartOffset:cleanerCheckpoint:lastStableOffset:nowMs:configuration:)``.
public struct CompactionPlan: Sendable, Equatable {
    /// Why the log needs cleaning.
    public enum Trigger: Sendable, Equatable {
        /// The dirty ratio is above `min.cleanable.dirty.ratio`.
        case dirtyRatio
        /// Dirty records are older than `max.compaction.lag.ms`.
        case maxCompactionLag
    }

    /// The first offset of the dirty section: where the cleaner starts building its offset map.
    public var firstDirtyOffset: Int64
    /// The end (exclusive) of what may be cleaned; always a segment base offset or the first
    /// dirty offset.
    public var firstUncleanableOffset: Int64
    /// The checkpoint was out of range and should be rewritten as ``firstDirtyOffset``.
    public var resetsCheckpoint: Bool
    /// Bytes of the segments before the first dirty offset.
    public var cleanBytes: Int64
    /// Bytes of the segments in the cleanable range.
    public var cleanableBytes: Int64
    /// cleanableBytes / (cleanBytes + cleanableBytes); 0 for an empty log.
    public var dirtyRatio: Double
    /// How long past `max.compaction.lag.ms` the oldest dirty record is; 0 when not overdue.
    public var maxCompactionDelayMs: Int64
    /// Why the log needs cleaning; nil when it does not.
    public var trigger: Trigger?

    public init(
        firstDirtyOffset: Int64,
        firstUncleanableOffset: Int64,
        resetsCheckpoint: Bool,
        cleanBytes: Int64,
        cleanableBytes: Int64,
        dirtyRatio: Double,
        maxCompactionDelayMs: Int64,
        trigger: Trigger?
    ) {
        self.firstDirtyOffset = firstDirtyOffset
        self.firstUncleanableOffset = firstUncleanableOffset
        self.resetsCheckpoint = resetsCheckpoint
        self.cleanBytes = cleanBytes
        self.cleanableBytes = cleanableBytes
        self.dirtyRatio = dirtyRatio
        self.maxCompactionDelayMs = maxCompactionDelayMs
        self.trigger = trigger
    }

    /// Bytes of the clean head and the cleanable tail together.
    public var totalBytes: Int64 { cleanBytes + cleanableBytes }
    /// Whether the cleaner should clean this log now.
    public var needsCleaning: Bool { trigger != nil }
    /// The offsets the cleaner may rewrite: [firstDirtyOffset, firstUncleanableOffset).
    public var cleanableRange: Range<Int64> { firstDirtyOffset..<firstUncleanableOffset }
}
