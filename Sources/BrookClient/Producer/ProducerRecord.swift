import BrookRecords
import NIOCore

/// A record to send.
public struct ProducerRecord: Sendable {
    public var topic: String
    /// The partition; nil lets the partitioner choose (murmur2 of the key, or the sticky
    /// partition for records without a key).
    public var partition: Int32?
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [Record.Header]
    /// The record's CreateTime in milliseconds; nil for now.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: ByteBuffer? = nil, value: ByteBuffer?,
        headers: [Record.Header] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// Where a record was written.
public struct RecordMetadata: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    /// -1 with acks=0, which gets no answer.
    public var offset: Int64
    /// The record's timestamp (the broker's LogAppendTime when the topic uses it).
    public var timestamp: Int64
}

/// Why a record was not delivered.
public enum ProducerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not acknowledged within `delivery.timeout.ms`.
    case deliveryTimedOut(topic: String, partition: Int32)
    /// No buffer room or metadata within `max.block.ms`.
    case blocked(String)
    /// The producer is closed.
    case closed
    /// The transaction was aborted before the record was sent.
    case transactionAborted
    /// A transactional call out of order (e.g. `send` outside a transaction).
    case transactionState(String)
    /// The broker refused the records (a non-retriable error code).
    case refused(topic: String, partition: Int32, code: Int16, message: String)

    public var description: String {
        switch self {
        case .deliveryTimedOut(let topic, let partition): "\(topic)-\(partition): not acknowledged within delivery.timeout.ms"
        case .blocked(let what): "blocked longer than max.block.ms: \(what)"
        case .closed: "the producer is closed"
        case .transactionAborted: "the transaction was aborted"
        case .transactionState(let message): message
        case .refused(let topic, let partition, _, let message): "\(topic)-\(partition): \(message)"
        }
    }
}
