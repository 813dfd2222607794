/// Decides which whole segments of a log retention deletes, oldest first.
///
/// Three passes run in this order, each over the segments the previous passes left:
///
/// 1. **Log start offset** (always, whatever `cleanup.policy`): a segment goes when the next
///    segment's base offset is at or below the log start offset, i.e. every offset in it is below
///    the start offset. The active segment, having no next segment, never goes this way.
/// 2. **Size** (`retention.bytes` >= 0 and `cleanup.policy` includes `delete`): when the log is at
///    least `retention.bytes`, segments go oldest first while the excess over `retention.bytes`
///    still covers the whole segment (`excess - size >= 0`).
/// 3. **Time** (`retention.ms` >= 0 and `cleanup.policy` includes `delete`): a segment goes when
///    `now - largestTimestamp > retention.ms`. A segment whose largest timestamp is in the future
///    never qualifies, and — since every pass stops at the first segment it keeps — protects the
///    newer segments behind it too.
///
/// Every pass stops at the first segment that does not qualify. A segment is also kept when its
/// end (the next segment's base offset, or the log end offset) is above the high watermark, so
/// the log start offset can never pass the high watermark, and an empty active segment is never
/// deleted.
///
/// The active segment can qualify (all of its data expired). Kafka then rolls a new, empty active
/// segment at the log end offset before deleting it: ``RetentionDecision/rollsActiveSegment`` asks
/// the caller to do the same, and the remaining passes have nothing left to delete.
///
/// The new log start offset is the base offset of the first segment kept (the log end offset
/// when everything goes), and never lower than the current one.
///
/// Pure and `Sendable`; no I/O.
public struct RetentionPolicy: Sendable, Equatable {
    /// `retention.ms`; negative means no time limit. Kafka's default is 7 days.
    public var retentionMs: Int64
    /// `retention.bytes`; negative means no size limit (the default).
    public var retentionBytes: Int64
    /// Whether `cleanup.policy` includes `delete`; without it only the log start offset rule applies.
    public var deletesByPolicy: Bool

    public init(retentionMs: Int64 = 604_800_000, retentionBytes: Int64 = -1, deletesByPolicy: Bool = true) {
        self.retentionMs = retentionMs
        self.retentionBytes = retentionBytes
        self.deletesByPolicy = deletesByPolicy
    }

    /// The segments to delete now.
    ///
    /// - Parameters:
    ///   - segments: every segment, oldest first; the last one is the active segment.
    ///   - logStartOffset: the current log start offset (retention and DeleteRecords move it).
    ///   - highWatermark: the partition's high watermark; segments ending above it are kept.
    ///   - nowMs: the current time.
    public func evaluate(
        segments: [SegmentSummary],
        logStartOffset: Int64,
        highWatermark: Int64,
        nowMs: Int64
    ) -> RetentionDecision {
        guard let active = segments.last else {
            return RetentionDecision(deletions: [], rollsActiveSegment: false, newLogStartOffset: logStartOffset)
        }
        let logEndOffset = active.nextOffset
        var remaining = segments[...]
        var deletions: [RetentionDecision.Deletion] = []
        var rolled = false

        func run(_ reason: RetentionDecision.Reason, _ qualifies: (SegmentSummary, SegmentSummary?) -> Bool) {
            guard !rolled else { return }
            var taken = 0
            for (position, segment) in remaining.enumerated() {
                let index = remaining.startIndex + position
                let next = index + 1 < remaining.endIndex ? remaining[index + 1] : nil
                let end = next?.baseOffset ?? logEndOffset
                let isEmptyActive = next == nil && segment.sizeBytes == 0
                guard highWatermark >= end, qualifies(segment, next), !isEmptyActive else { break }
                deletions.append(.init(segment: segment, reason: reason))
                taken += 1
            }
            if taken > 0 && taken == remaining.count {
                rolled = true
            }
            remaining = remaining.dropFirst(taken)
        }

        run(.logStartOffset) { _, next in
            guard let next else { return false }
            return next.baseOffset <= logStartOffset
        }
        if deletesByPolicy && retentionBytes >= 0 {
            let size = remaining.reduce(Int64(0)) { $0 + $1.sizeBytes }
            if size >= retentionBytes {
                var excess = size - retentionBytes
                run(.retentionBytes) { segment, _ in
                    guard excess - segment.sizeBytes >= 0 else { return false }
                    excess -= segment.sizeBytes
                    return true
                }
            }
        }
        if deletesByPolicy && retentionMs >= 0 {
            run(.retentionTime) { segment, _ in
                let (age, overflow) = nowMs.subtractingReportingOverflow(segment.largestTimestamp)
                // Overflow only for absurd timestamps: far past counts as expired, far future not.
                if overflow { return segment.largestTimestamp < 0 }
                return age > retentionMs
            }
        }

        let firstKept = rolled ? logEndOffset : (remaining.first?.baseOffset ?? logEndOffset)
        return RetentionDecision(
            deletions: deletions,
            rollsActiveSegment: rolled,
            newLogStartOffset: max(logStartOffset, deletions.isEmpty ? logStartOffset : firstKept))
    }
}

/// The outcome of ``RetentionPolicy/evaluate(segments:logStartOffset:highWatermark:nowMs:)``.
public struct RetentionDecision: Sendable, Equatable {
    /// The rule that expired a segment.
    public enum Reason: Sendable, Equatable {
        /// Every offset of the segment is below the log start offset.
        case logStartOffset
        /// The log is larger than `retention.bytes`.
        case retentionBytes
        /// The segment's newest record is older than `retention.ms`.
        case retentionTime
    }

    /// One segment to delete and why.
    public struct Deletion: Sendable, Equatable {
        public var segment: SegmentSummary
        public var reason: Reason

        public init(segment: SegmentSummary, reason: Reason) {
            self.segment = segment
            self.reason = reason
        }
    }

    /// The segments to delete, oldest first; a prefix of the log.
    public var deletions: [Deletion]
    /// The active segment is among the deletions: roll a new active segment at the log end offset
    /// first, then delete.
    public var rollsActiveSegment: Bool
    /// The log start offset once the deletions are done.
    public var newLogStartOffset: Int64

    public init(deletions: [Deletion], rollsActiveSegment: Bool, newLogStartOffset: Int64) {
        self.deletions = deletions
        self.rollsActiveSegment = rollsActiveSegment
        self.newLogStartOffset = newLogStartOffset
    }

    /// The segments to delete, oldest first.
    public var segmentsToDelete: [SegmentSummary] { deletions.map(\.segment) }
}
