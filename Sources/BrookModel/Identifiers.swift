/// Strong identifier types shared by every layer above the wire protocol.
///
/// Generated protocol messages keep Kafka's wire primitives (`Int32`, `Int64`, ...); handlers
/// convert to these at the boundary so that an offset cannot be passed where an epoch is expected.

/// A position in a partition's log.
public struct Offset: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ value: Int64) { self.rawValue = value }
    public static func < (lhs: Offset, rhs: Offset) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// The epoch of a partition leader; bumps on every leader change.
public struct LeaderEpoch: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ value: Int32) { self.rawValue = value }
    /// Kafka's "no epoch" marker (-1).
    public static let none = LeaderEpoch(-1)
    public static func < (lhs: LeaderEpoch, rhs: LeaderEpoch) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// A broker's `node.id`.
public struct BrokerID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ value: Int32) { self.rawValue = value }
    public static func < (lhs: BrokerID, rhs: BrokerID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// An idempotent or transactional producer's id.
public struct ProducerID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ value: Int64) { self.rawValue = value }
    /// Kafka's "no producer" marker (-1).
    public static let none = ProducerID(-1)
    public static func < (lhs: ProducerID, rhs: ProducerID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// A producer's epoch; a higher epoch fences older instances.
public struct ProducerEpoch: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public init(_ value: Int16) { self.rawValue = value }
    /// Kafka's "no epoch" marker (-1).
    public static let none = ProducerEpoch(-1)
    public static func < (lhs: ProducerEpoch, rhs: ProducerEpoch) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// A topic's name and one of its partitions.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    /// Kafka's spelling, also the partition's folder name: `orders-3`.
    public var description: String { "\(topic)-\(partition)" }
}
