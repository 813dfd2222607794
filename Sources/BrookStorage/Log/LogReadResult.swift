import BrookModel

/// What a read by offset returns: whole batches as a file region, ready for zero-copy sending.
public struct LogReadResult: Sendable {
    /// The batches, or nil when there is nothing to return (the offset is at the log end or at
    /// the offset limit).
    public var region: LogFileRegion?
    /// Base offset of the first batch (≤ the offset asked for: a read from the middle of a batch
    /// returns the whole batch, and the consumer skips the records before its offset).
    public var firstBatchOffset: Int64?
    /// The offset to read next: after the last batch returned, or the offset asked for when
    /// nothing was returned.
    public var nextOffset: Int64
    /// The log start offset when the read ran.
    public var logStartOffset: Int64
    /// The log end offset when the read ran.
    public var logEndOffset: Int64

    /// Bytes in the region (0 when empty).
    public var sizeInBytes: Int { region?.length ?? 0 }
}

/// The ListOffsets queries a log answers.
public enum OffsetQuery: Sendable, Equatable {
    /// The log start offset (Kafka's timestamp -2, and -4 earliest-local: there is no tiering).
    case earliest
    /// The log end offset (Kafka's timestamp -1).
    case latest
    /// The record with the largest timestamp (Kafka's timestamp -3).
    case maxTimestamp
    /// The first record whose timestamp is ≥ the given one.
    case timestamp(Int64)

    /// Kafka's ListOffsets timestamp field: -1 latest, -2 earliest, -3 max timestamp, -4
    /// earliest local, -5 latest tiered (both without tiering: earliest and latest); others are
    /// times in milliseconds. Nil for any other negative value.
    public init?(kafkaTimestamp: Int64) {
        switch kafkaTimestamp {
        case -1, -5: self = .latest
        case -2, -4: self = .earliest
        case -3: self = .maxTimestamp
        case 0...: self = .timestamp(kafkaTimestamp)
        default: return nil
        }
    }
}

/// A ListOffsets answer: a timestamp (-1 for earliest and latest), an offset, and the leader
/// epoch of the batch holding it when known.
public struct TimestampAndOffset: Sendable, Equatable {
    public var timestamp: Int64
    public var offset: Int64
    public var leaderEpoch: LeaderEpoch?

    public init(timestamp: Int64, offset: Int64, leaderEpoch: LeaderEpoch?) {
        self.timestamp = timestamp
        self.offset = offset
        self.leaderEpoch = leaderEpoch
    }
}
