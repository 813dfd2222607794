import BrookModel
import BrookProtocol
import NIOCore

/// One record of `__consumer_offsets`, in Kafka's own format: the key and value are each an
/// int16 version followed by the struct of that version (group-coordinator/*.json).
///
/// | key version | key                | value                                  |
/// |-------------|--------------------|----------------------------------------|
/// | 0, 1        | OffsetCommitKey    | OffsetCommitValue v1 (with expiry) or v3 |
/// | 2           | GroupMetadataKey   | GroupMetadataValue v3                  |
///
/// | 3, 5–8      | KIP-848 consumer groups (``ConsumerGroupRecord``) |
///
/// A null value is a tombstone: the offset or the group is gone. Other key versions are
/// skipped on replay.
public enum CoordinatorRecord: Sendable, Equatable {
    case offsetCommit(group: String, partition: TopicPartition, CommittedOffset?)
    case groupMetadata(group: String, GroupMetadataValue?)
    case consumerGroup(ConsumerGroupRecord)

    /// Decodes a record; nil for record types this coordinator does not keep.
    public static func decode(key: ByteBuffer, value: ByteBuffer?) throws(ProtocolError) -> CoordinatorRecord? {
        var key = key
        let keyVersion = try key.readInt16()
        switch keyVersion {
        case 0, 1:
            let decodedKey = try OffsetCommitKey(from: &key, version: keyVersion)
            let partition = TopicPartition(topic: decodedKey.topic, partition: decodedKey.partition)
            guard var value else { return .offsetCommit(group: decodedKey.group, partition: partition, nil) }
            let valueVersion = try value.readInt16()
            let decoded = try OffsetCommitValue(from: &value, version: min(valueVersion, OffsetCommitValue.validVersions.upperBound))
            return .offsetCommit(group: decodedKey.group, partition: partition, CommittedOffset(
                offset: decoded.offset, leaderEpoch: decoded.leaderEpoch, metadata: decoded.metadata,
                commitTimestamp: decoded.commitTimestamp,
                expireTimestamp: decoded.expireTimestamp >= 0 && valueVersion == 1 ? decoded.expireTimestamp : nil
            ))
        case 2:
            let decodedKey = try GroupMetadataKey(from: &key, version: keyVersion)
            guard var value else { return .groupMetadata(group: decodedKey.group, nil) }
            let valueVersion = try value.readInt16()
            return .groupMetadata(group: decodedKey.group, try GroupMetadataValue(
                from: &value, version: min(valueVersion, GroupMetadataValue.validVersions.upperBound)))
        case ConsumerGroupRecord.keyVersions:
            return try ConsumerGroupRecord.decode(keyVersion: keyVersion, key: &key, value: value).map { .consumerGroup($0) }
        default:
            return nil
        }
    }

    /// The record's key and value bytes.
    public func encode() throws(ProtocolError) -> (key: ByteBuffer, value: ByteBuffer?) {
        var key = ByteBuffer()
        switch self {
        case .offsetCommit(let group, let partition, let offset):
            key.writeInteger(Int16(1))
            try OffsetCommitKey(group: group, topic: partition.topic, partition: partition.partition).write(to: &key, version: 1)
            guard let offset else { return (key, nil) }
            var value = ByteBuffer()
            let version: Int16 = offset.expireTimestamp == nil ? 3 : 1
            value.writeInteger(version)
            try OffsetCommitValue(
                offset: offset.offset, leaderEpoch: version == 3 ? offset.leaderEpoch : -1, metadata: offset.metadata,
                commitTimestamp: offset.commitTimestamp, expireTimestamp: offset.expireTimestamp ?? -1
            ).write(to: &value, version: version)
            return (key, value)
        case .groupMetadata(let group, let metadata):
            key.writeInteger(Int16(2))
            try GroupMetadataKey(group: group).write(to: &key, version: 2)
            guard let metadata else { return (key, nil) }
            var value = ByteBuffer()
            value.writeInteger(Int16(3))
            try metadata.write(to: &value, version: 3)
            return (key, value)
        case .consumerGroup(let record):
            return try record.encode()
        }
    }
}
