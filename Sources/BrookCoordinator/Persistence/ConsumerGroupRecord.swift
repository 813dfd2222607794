import BrookProtocol
import NIOCore

/// The KIP-848 consumer-group records of `__consumer_offsets`, in Kafka's formats (key versions
/// 3 and 5–8 of group-coordinator/ConsumerGroup*.json; values at version 0). A nil value is a
/// tombstone. Partitions are stored by topic id.
public enum ConsumerGroupRecord: Sendable, Equatable {
    /// Key 3: the group epoch.
    case metadata(group: String, ConsumerGroupMetadataValue?)
    /// Key 5: a member's subscription and client details.
    case member(group: String, memberId: String, ConsumerGroupMemberMetadataValue?)
    /// Key 6: the epoch of the target assignment.
    case targetMetadata(group: String, ConsumerGroupTargetAssignmentMetadataValue?)
    /// Key 7: a member's target assignment.
    case targetMember(group: String, memberId: String, ConsumerGroupTargetAssignmentMemberValue?)
    /// Key 8: a member's epoch and current assignment.
    case currentAssignment(group: String, memberId: String, ConsumerGroupCurrentMemberAssignmentValue?)

    static let keyVersions: ClosedRange<Int16> = 3...8

    static func decode(keyVersion: Int16, key: inout ByteBuffer, value: ByteBuffer?) throws(ProtocolError) -> ConsumerGroupRecord? {
        var value = value
        let valueVersion: Int16? = try value.map { buffer throws(ProtocolError) in
            var copy = buffer
            return try copy.readInt16()
        }
        value?.moveReaderIndex(forwardBy: 2)
        switch keyVersion {
        case 3:
            let decoded = try ConsumerGroupMetadataKey(from: &key, version: 3)
            return .metadata(group: decoded.groupId, try value.map { buffer throws(ProtocolError) in
                var buffer = buffer
                return try ConsumerGroupMetadataValue(from: &buffer, version: min(valueVersion!, ConsumerGroupMetadataValue.validVersions.upperBound))
            })
        case 5:
            let decoded = try ConsumerGroupMemberMetadataKey(from: &key, version: 5)
            return .member(group: decoded.groupId, memberId: decoded.memberId, try value.map { buffer throws(ProtocolError) in
                var buffer = buffer
                return try ConsumerGroupMemberMetadataValue(from: &buffer, version: min(valueVersion!, ConsumerGroupMemberMetadataValue.validVersions.upperBound))
            })
        case 6:
            let decoded = try ConsumerGroupTargetAssignmentMetadataKey(from: &key, version: 6)
            return .targetMetadata(group: decoded.groupId, try value.map { buffer throws(ProtocolError) in
                var buffer = buffer
                return try ConsumerGroupTargetAssignmentMetadataValue(
                    from: &buffer, version: min(valueVersion!, ConsumerGroupTargetAssignmentMetadataValue.validVersions.upperBound))
            })
        case 7:
            let decoded = try ConsumerGroupTargetAssignmentMemberKey(from: &key, version: 7)
            return .targetMember(group: decoded.groupId, memberId: decoded.memberId, try value.map { buffer throws(ProtocolError) in
                var buffer = buffer
                return try ConsumerGroupTargetAssignmentMemberValue(
                    from: &buffer, version: min(valueVersion!, ConsumerGroupTargetAssignmentMemberValue.validVersions.upperBound))
            })
        case 8:
            let decoded = try ConsumerGroupCurrentMemberAssignmentKey(from: &key, version: 8)
            return .currentAssignment(group: decoded.groupId, memberId: decoded.memberId, try value.map { buffer throws(ProtocolError) in
                var buffer = buffer
                return try ConsumerGroupCurrentMemberAssignmentValue(
                    from: &buffer, version: min(valueVersion!, ConsumerGroupCurrentMemberAssignmentValue.validVersions.upperBound))
            })
        default:
            return nil
        }
    }

    func encode() throws(ProtocolError) -> (key: ByteBuffer, value: ByteBuffer?) {
        var key = ByteBuffer()
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        switch self {
        case .metadata(let group, let metadata):
            key.writeInteger(Int16(3))
            try ConsumerGroupMetadataKey(groupId: group).write(to: &key, version: 3)
            guard let metadata else { return (key, nil) }
            try metadata.write(to: &value, version: 0)
        case .member(let group, let memberId, let member):
            key.writeInteger(Int16(5))
            try ConsumerGroupMemberMetadataKey(groupId: group, memberId: memberId).write(to: &key, version: 5)
            guard let member else { return (key, nil) }
            try member.write(to: &value, version: 0)
        case .targetMetadata(let group, let target):
            key.writeInteger(Int16(6))
            try ConsumerGroupTargetAssignmentMetadataKey(groupId: group).write(to: &key, version: 6)
            guard let target else { return (key, nil) }
            try target.write(to: &value, version: 0)
        case .targetMember(let group, let memberId, let target):
            key.writeInteger(Int16(7))
            try ConsumerGroupTargetAssignmentMemberKey(groupId: group, memberId: memberId).write(to: &key, version: 7)
            guard let target else { return (key, nil) }
            try target.write(to: &value, version: 0)
        case .currentAssignment(let group, let memberId, let current):
            key.writeInteger(Int16(8))
            try ConsumerGroupCurrentMemberAssignmentKey(groupId: group, memberId: memberId).write(to: &key, version: 8)
            guard let current else { return (key, nil) }
            try current.write(to: &value, version: 0)
        }
        return (key, value)
    }
}
