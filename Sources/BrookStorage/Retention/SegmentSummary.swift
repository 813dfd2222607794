/// What retention and compaction planning need to know about one log segment.
///
/// The log manager builds one per segment, oldest first, the last being the active segment, and
/// hands the list to ``RetentionPolicy`` and ``CompactionPlanner``. Plain value; no I/O.
public struct SegmentSummary: Sendable, Equatable, CustomStringConvertible {
    /// The segment's first offset (its file name).
    public var baseOffset: Int64
    /// The offset after the segment's last batch: the next segment's base offset, or the log end
    /// offset for the active segment; equals ``baseOffset`` when the segment is empty.
    public var nextOffset: Int64
    /// Size of the `.log` file in bytes.
    public var sizeBytes: Int64
    /// The largest record timestamp in the segment; when the segment has no timestamps (empty,
    /// or only `-1`), Kafka uses the file's last-modified time instead, and so should the caller.
    public var largestTimestamp: Int64
    /// The maxTimestamp of the segment's first batch; nil for an empty segment. Used by
    /// `max.compaction.lag.ms`.
    public var firstBatchTimestamp: Int64?

    public init(
        baseOffset: Int64,
        nextOffset: Int64,
        sizeBytes: Int64,
        largestTimestamp: Int64,
        firstBatchTimestamp: Int64? = nil
    ) {
        self.baseOffset = baseOffset
        self.nextOffset = nextOffset
        self.sizeBytes = sizeBytes
        self.largestTimestamp = largestTimestamp
        self.firstBatchTimestamp = firstBatchTimestamp
    }

    public var description: String {
        "Segment(\(baseOffset)..<\(nextOffset), \(sizeBytes) bytes, largestTimestamp \(largestTimestamp))"
    }
}
