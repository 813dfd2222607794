import BrookProtocol
import NIOCore

/// One record of the metadata log, in KRaft's framing: an unsigned varint frame version (1), the
/// record's api key and version as unsigned varints, then the record itself.
package enum MetadataRecord: Sendable, Equatable {
    case topic(TopicRecord)
    case partition(PartitionRecord)
    case config(ConfigRecord)
    case removeTopic(RemoveTopicRecord)
    case producerIds(ProducerIdsRecord)
    case registerBroker(RegisterBrokerRecord)
    case fenceBroker(FenceBrokerRecord)
    case unfenceBroker(UnfenceBrokerRecord)
    case brokerRegistrationChange(BrokerRegistrationChangeRecord)
    case userScramCredential(UserScramCredentialRecord)
    case removeUserScramCredential(RemoveUserScramCredentialRecord)
    case accessControlEntry(AccessControlEntryRecord)
    case removeAccessControlEntry(RemoveAccessControlEntryRecord)
    case clientQuota(ClientQuotaRecord)

    static let frameVersion: UInt64 = 1

    /// The KRaft config resource types.
    enum ConfigResourceType: Int8 {
        case topic = 2
        case broker = 4
    }

    package func encoded() throws(ProtocolError) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeUnsignedVarint(Self.frameVersion)
        switch self {
        case .topic(let record): try Self.write(record, key: TopicRecord.recordApiKey, into: &buffer)
        case .partition(let record): try Self.write(record, key: PartitionRecord.recordApiKey, into: &buffer)
        case .config(let record): try Self.write(record, key: ConfigRecord.recordApiKey, into: &buffer)
        case .removeTopic(let record): try Self.write(record, key: RemoveTopicRecord.recordApiKey, into: &buffer)
        case .producerIds(let record): try Self.write(record, key: ProducerIdsRecord.recordApiKey, into: &buffer)
        case .registerBroker(let record): try Self.write(record, key: RegisterBrokerRecord.recordApiKey, into: &buffer)
        case .fenceBroker(let record): try Self.write(record, key: FenceBrokerRecord.recordApiKey, into: &buffer)
        case .unfenceBroker(let record): try Self.write(record, key: UnfenceBrokerRecord.recordApiKey, into: &buffer)
        case .brokerRegistrationChange(let record):
            try Self.write(record, key: BrokerRegistrationChangeRecord.recordApiKey, into: &buffer)
        case .userScramCredential(let record): try Self.write(record, key: UserScramCredentialRecord.recordApiKey, into: &buffer)
        case .removeUserScramCredential(let record):
            try Self.write(record, key: RemoveUserScramCredentialRecord.recordApiKey, into: &buffer)
        case .accessControlEntry(let record): try Self.write(record, key: AccessControlEntryRecord.recordApiKey, into: &buffer)
        case .removeAccessControlEntry(let record):
            try Self.write(record, key: RemoveAccessControlEntryRecord.recordApiKey, into: &buffer)
        case .clientQuota(let record): try Self.write(record, key: ClientQuotaRecord.recordApiKey, into: &buffer)
        }
        return buffer
    }

    /// Writes a record at its highest version.
    private static func write<Record: ProtocolMessage>(_ record: Record, key: Int16, into buffer: inout ByteBuffer) throws(ProtocolError) {
        let version = Record.validVersions.upperBound
        buffer.writeUnsignedVarint(UInt64(key))
        buffer.writeUnsignedVarint(UInt64(version))
        try record.write(to: &buffer, version: version)
    }

    /// Decodes a record; nil for record types this broker does not apply (they are skipped).
    package static func decode(_ value: ByteBuffer) throws(ProtocolError) -> MetadataRecord? {
        var buffer = value
        let frame = try buffer.readUnsignedVarint()
        guard frame == frameVersion else { throw .invalidLength(Int64(clamping: frame)) }
        let key = Int16(truncatingIfNeeded: try buffer.readUnsignedVarint())
        let version = Int16(truncatingIfNeeded: try buffer.readUnsignedVarint())
        switch key {
        case TopicRecord.recordApiKey: return .topic(try TopicRecord(from: &buffer, version: version))
        case PartitionRecord.recordApiKey: return .partition(try PartitionRecord(from: &buffer, version: version))
        case ConfigRecord.recordApiKey: return .config(try ConfigRecord(from: &buffer, version: version))
        case RemoveTopicRecord.recordApiKey: return .removeTopic(try RemoveTopicRecord(from: &buffer, version: version))
        case ProducerIdsRecord.recordApiKey: return .producerIds(try ProducerIdsRecord(from: &buffer, version: version))
        case RegisterBrokerRecord.recordApiKey: return .registerBroker(try RegisterBrokerRecord(from: &buffer, version: version))
        case FenceBrokerRecord.recordApiKey: return .fenceBroker(try FenceBrokerRecord(from: &buffer, version: version))
        case UnfenceBrokerRecord.recordApiKey: return .unfenceBroker(try UnfenceBrokerRecord(from: &buffer, version: version))
        case BrokerRegistrationChangeRecord.recordApiKey:
            return .brokerRegistrationChange(try BrokerRegistrationChangeRecord(from: &buffer, version: version))
        case UserScramCredentialRecord.recordApiKey:
            return .userScramCredential(try UserScramCredentialRecord(from: &buffer, version: version))
        case RemoveUserScramCredentialRecord.recordApiKey:
            return .removeUserScramCredential(try RemoveUserScramCredentialRecord(from: &buffer, version: version))
        case AccessControlEntryRecord.recordApiKey:
            return .accessControlEntry(try AccessControlEntryRecord(from: &buffer, version: version))
        case RemoveAccessControlEntryRecord.recordApiKey:
            return .removeAccessControlEntry(try RemoveAccessControlEntryRecord(from: &buffer, version: version))
        case ClientQuotaRecord.recordApiKey: return .clientQuota(try ClientQuotaRecord(from: &buffer, version: version))
        default: return nil
        }
    }
}

extension MetadataRecord {
    /// Whether the record adds or removes an ACL.
    var changesAcls: Bool {
        switch self {
        case .accessControlEntry, .removeAccessControlEntry: true
        default: false
        }
    }
}

extension MetadataRecord {
    /// Whether the record sets or removes a client quota.
    var changesQuotas: Bool {
        if case .clientQuota = self { true } else { false }
    }
}
