import BrookRecords
import NIOCore

/// A record as the consumer hands it out.
public struct ConsumerRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64
    public var timestampType: TimestampType
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [Record.Header]
    /// The partition leader epoch of the batch, -1 when unknown.
    public var leaderEpoch: Int32
}
