import BrookRecords
import NIOCore

/// The seam between a coordinator shard and its partition of `__consumer_offsets`: the broker
/// adapts its partition log to this, tests use an in-memory log.
public protocol CoordinatorLog: Sendable {
    /// Appends one record batch (offsets assigned by the log) and returns once it is written.
    func append(_ batch: ByteBuffer) throws
    /// Visits every batch from the log start to the log end, in order.
    func replay(_ visit: (RecordBatch) throws -> Void) throws
}

extension CoordinatorLog {
    /// Writes `records` as one batch stamped `now`.
    func write(_ records: [CoordinatorRecord], now: Int64) throws {
        guard !records.isEmpty else { return }
        var builder = RecordBatchBuilder()
        for record in records {
            let (key, value) = try record.encode()
            builder.append(timestamp: now, key: key, value: value)
        }
        try append(try builder.build())
    }
}
