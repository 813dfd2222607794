/// A segment renamed to `.deleted`, waiting for file.delete.delay.ms before its files are
/// unlinked (``PartitionLog/deleteExpiredSegmentFiles(now:)``).
///
/// Until then a fetch that took the segment's region before the deletion keeps reading it; a
/// crash in between is harmless, since opening the log deletes every `.deleted` file.
public struct PendingSegmentDeletion: Sendable, Equatable {
    public var baseOffset: Int64
    /// The renamed files.
    public var paths: [String]
    /// When the files may be unlinked (milliseconds since the epoch).
    public var deleteAtMs: Int64
}
