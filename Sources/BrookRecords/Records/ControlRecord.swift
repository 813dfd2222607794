import NIOCore

/// The type in a control record's key. Raw values are Kafka's; unknown types are kept.
public struct ControlRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    /// End of a transaction that aborted.
    public static let abort = ControlRecordType(rawValue: 0)
    /// End of a transaction that committed.
    public static let commit = ControlRecordType(rawValue: 1)
    /// KRaft: a new quorum leader.
    public static let leaderChange = ControlRecordType(rawValue: 2)
    /// KRaft: first record of a snapshot.
    public static let snapshotHeader = ControlRecordType(rawValue: 3)
    /// KRaft: last record of a snapshot.
    public static let snapshotFooter = ControlRecordType(rawValue: 4)
    /// KRaft: the kraft.version feature level.
    public static let kraftVersion = ControlRecordType(rawValue: 5)
    /// KRaft: the voter set.
    public static let kraftVoters = ControlRecordType(rawValue: 6)

    public var description: String {
        switch self {
        case .abort: "abort"
        case .commit: "commit"
        case .leaderChange: "leaderChange"
        case .snapshotHeader: "snapshotHeader"
        case .snapshotFooter: "snapshotFooter"
        case .kraftVersion: "kraftVersion"
        case .kraftVoters: "kraftVoters"
        default: "controlType(\(rawValue))"
        }
    }
}

/// The key of a record in a control batch: `version int16, type int16`.
public struct ControlRecordKey: Sendable, Equatable {
    public var version: Int16
    public var type: ControlRecordType

    public init(version: Int16 = 0, type: ControlRecordType) {
        self.version = version
        self.type = type
    }

    /// Decodes a key; bytes after the first four are ignored (later versions may add fields).
    public init(decoding key: ByteBuffer) throws(RecordBatchError) {
        guard key.readableBytes >= 4,
            let version = key.getInteger(at: key.readerIndex, as: Int16.self),
            let type = key.getInteger(at: key.readerIndex + 2, as: Int16.self)
        else {
            throw .invalidControlRecord(reason: "key has \(key.readableBytes) bytes, needs 4")
        }
        self.init(version: version, type: ControlRecordType(rawValue: type))
    }

    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 4)
        buffer.writeInteger(version)
        buffer.writeInteger(type.rawValue)
        return buffer
    }
}

/// The value of a commit or abort control record: `version int16, coordinatorEpoch int32`.
public struct EndTransactionMarker: Sendable, Equatable {
    public var version: Int16
    /// Epoch of the transaction coordinator that wrote the marker.
    public var coordinatorEpoch: Int32

    public init(version: Int16 = 0, coordinatorEpoch: Int32) {
        self.version = version
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// Decodes a marker value; bytes after the first six are ignored.
    public init(decoding value: ByteBuffer) throws(RecordBatchError) {
        guard value.readableBytes >= 6,
            let version = value.getInteger(at: value.readerIndex, as: Int16.self),
            let epoch = value.getInteger(at: value.readerIndex + 2, as: Int32.self)
        else {
            throw .invalidControlRecord(reason: "end transaction marker has \(value.readableBytes) bytes, needs 6")
        }
        self.init(version: version, coordinatorEpoch: epoch)
    }

    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 6)
        buffer.writeInteger(version)
        buffer.writeInteger(coordinatorEpoch)
        return buffer
    }
}

extension Record {
    /// The control key of a record from a control batch.
    public func controlKey() throws(RecordBatchError) -> ControlRecordKey {
        guard let key else { throw .invalidControlRecord(reason: "null key") }
        return try ControlRecordKey(decoding: key)
    }
}

extension RecordBatchBuilder {
    /// A control batch holding one commit or abort marker, as a transaction coordinator writes
    /// it: transactional, control, baseSequence -1, one record at offsetDelta 0.
    public static func endTransactionMarkerBatch(
        _ type: ControlRecordType,
        producerId: Int64,
        producerEpoch: Int16,
        coordinatorEpoch: Int32,
        timestamp: Int64,
        baseOffset: Int64 = 0,
        partitionLeaderEpoch: Int32 = -1,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(RecordBatchError) -> ByteBuffer {
        guard type == .commit || type == .abort else {
            throw .invalidInput(reason: "an end transaction marker is commit or abort, not \(type)")
        }
        var configuration = Configuration(
            baseOffset: baseOffset, producerId: producerId, producerEpoch: producerEpoch,
            baseSequence: -1, isTransactional: true)
        configuration.partitionLeaderEpoch = partitionLeaderEpoch
        configuration.isControlBatch = true
        var builder = RecordBatchBuilder(configuration: configuration, allocator: allocator)
        builder.append(
            timestamp: timestamp,
            key: ControlRecordKey(type: type).encoded(allocator: allocator),
            value: EndTransactionMarker(coordinatorEpoch: coordinatorEpoch).encoded(allocator: allocator))
        return try builder.build(allocator: allocator)
    }
}
