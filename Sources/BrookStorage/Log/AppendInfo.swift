import BrookModel

/// Who is appending, which decides what a leader append accepts.
public enum AppendOrigin: Sendable, Equatable {
    /// A producer: control batches are rejected; idempotent batches' sequences are checked and
    /// retries answered with the original offsets.
    case client
    /// The broker itself (transaction markers, the group coordinator's records): control batches
    /// allowed; no sequence checks nor duplicate detection, only producer epochs are fenced.
    case coordinator
}

/// What an append did, for the Produce response and the replica manager.
///
/// For an empty request (no batches) nothing is appended and the offsets are -1, as in Kafka.
public struct AppendInfo: Sendable, Equatable {
    /// Offset of the first record appended.
    public var firstOffset: Int64
    /// Offset of the last record appended.
    public var lastOffset: Int64
    /// The broker time stamped on the batches when the topic uses LogAppendTime, else nil
    /// (the Produce response's `log_append_time_ms` is then -1).
    public var logAppendTime: Int64?
    /// The largest batch maxTimestamp appended (-1 when the batches carry none).
    public var maxTimestamp: Int64
    /// Base offset of the first appended batch carrying ``maxTimestamp``.
    public var offsetOfMaxTimestamp: Int64
    /// The log start offset after the append.
    public var logStartOffset: Int64
    /// Batches appended.
    public var batchCount: Int
    /// Records appended, by the batches' recordCount fields (no record is decoded).
    public var recordCount: Int
    /// Bytes appended.
    public var sizeInBytes: Int

    /// The offset after the last appended record: the log end offset after the append.
    public var nextOffset: Int64 { lastOffset + 1 }
}
