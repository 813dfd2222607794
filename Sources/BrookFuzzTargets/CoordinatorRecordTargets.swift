import BrookBroker
import BrookCoordinator
import BrookProtocol
import NIOCore

extension FuzzTarget {
    /// A record of `__consumer_offsets` or `__transaction_state` as a coordinator replays it:
    /// bytes 0-1 give the key's length, then the key, then a byte whose bit 0 says whether a value
    /// follows (else the record is a tombstone), then the value.
    public static let coordinatorRecord = FuzzTarget(
        name: "coordinator-record",
        summary: "[key length u16][key][has value][value] -> CoordinatorRecord.decode, TransactionRecord.decode, round trips"
    ) { bytes throws(FuzzFailure) in
        var input = FuzzInput(bytes)
        let key = ByteBuffer(bytes: input.take(input.uint16()))
        let value: ByteBuffer? = input.byte() & 1 == 0 ? nil : ByteBuffer(bytes: input.rest())
        var outcome = FuzzOutcome.rejected
        if let record = try? CoordinatorRecord.decode(key: key, value: value) {
            outcome = .accepted
            do {
                let (key, value) = try record.encode()
                let again = try CoordinatorRecord.decode(key: key, value: value)
                try fuzzCheck(again.map(withoutUnknownTaggedFields) == withoutUnknownTaggedFields(record), "CoordinatorRecord does not round-trip: \(record) became \(String(describing: again))")
            } catch let failure as FuzzFailure {
                throw failure
            } catch {
                throw FuzzFailure("CoordinatorRecord \(record) does not round-trip: \(error)")
            }
        }
        if let decoded = try? TransactionRecord.decode(key: key, value: value) {
            outcome = .accepted
            let (transactionalId, metadata) = decoded
            do {
                let (key, value) = try TransactionRecord.encode(transactionalId: transactionalId, metadata)
                guard let again = try TransactionRecord.decode(key: key, value: value) else {
                    throw FuzzFailure("TransactionRecord of \(transactionalId) re-encodes to a key of another version")
                }
                try fuzzCheck(again.0 == transactionalId && again.1 == metadata,
                          "TransactionRecord of \(transactionalId) does not round-trip")
            } catch let failure as FuzzFailure {
                throw failure
            } catch {
                throw FuzzFailure("TransactionRecord of \(transactionalId) does not round-trip: \(error)")
            }
        }
        return outcome
    }

    /// A record of the metadata log (`__cluster_metadata`) as the broker replays it: the record
    /// round-trips at its own version, and re-encodes at the highest version (as the broker
    /// writes records) to a record that decodes to the same one, unknown tagged fields aside.
    public static let metadataRecord = FuzzTarget(
        name: "metadata-record",
        summary: "KRaft-framed metadata record -> MetadataRecord.decode, round trips at its version and at the highest"
    ) { bytes throws(FuzzFailure) in
        let input = ByteBuffer(bytes: bytes)
        let record: MetadataRecord?
        do {
            record = try MetadataRecord.decode(input)
        } catch {
            return .rejected
        }
        guard let record else { return .accepted }  // a record type the broker skips
        var body = input
        let version: Int16
        do {
            _ = try body.readUnsignedVarint()
            _ = try body.readUnsignedVarint()
            version = Int16(truncatingIfNeeded: try body.readUnsignedVarint())
        } catch {
            throw FuzzFailure("MetadataRecord decoded a record whose framing does not read: \(error)")
        }
        let roundTripped: Bool
        switch record {
        case .topic: roundTripped = try RoundTrip.check(TopicRecord.self, body: body, version: version) != nil
        case .partition: roundTripped = try RoundTrip.check(PartitionRecord.self, body: body, version: version) != nil
        case .config: roundTripped = try RoundTrip.check(ConfigRecord.self, body: body, version: version) != nil
        case .removeTopic: roundTripped = try RoundTrip.check(RemoveTopicRecord.self, body: body, version: version) != nil
        case .producerIds: roundTripped = try RoundTrip.check(ProducerIdsRecord.self, body: body, version: version) != nil
        case .registerBroker: roundTripped = try RoundTrip.check(RegisterBrokerRecord.self, body: body, version: version) != nil
        case .fenceBroker: roundTripped = try RoundTrip.check(FenceBrokerRecord.self, body: body, version: version) != nil
        case .unfenceBroker: roundTripped = try RoundTrip.check(UnfenceBrokerRecord.self, body: body, version: version) != nil
        case .brokerRegistrationChange:
            roundTripped = try RoundTrip.check(BrokerRegistrationChangeRecord.self, body: body, version: version) != nil
        case .userScramCredential:
            roundTripped = try RoundTrip.check(UserScramCredentialRecord.self, body: body, version: version) != nil
        case .removeUserScramCredential:
            roundTripped = try RoundTrip.check(RemoveUserScramCredentialRecord.self, body: body, version: version) != nil
        case .accessControlEntry:
            roundTripped = try RoundTrip.check(AccessControlEntryRecord.self, body: body, version: version) != nil
        case .removeAccessControlEntry:
            roundTripped = try RoundTrip.check(RemoveAccessControlEntryRecord.self, body: body, version: version) != nil
        case .clientQuota:
            roundTripped = try RoundTrip.check(ClientQuotaRecord.self, body: body, version: version) != nil
        }
        try fuzzCheck(roundTripped, "MetadataRecord accepted a record its own type rejects")
        // At the highest version an unknown tagged field of an older version may be a known one,
        // so the check is for records without them.
        guard !hasUnknownTaggedFields(record) else { return .accepted }
        do {
            // Compared as bytes: a quota's value may be a NaN, which is not equal to itself.
            let encoded = try record.encoded()
            let again = try MetadataRecord.decode(encoded)
            try fuzzCheck(try again?.encoded() == encoded, "MetadataRecord does not round-trip: \(record) became \(String(describing: again))")
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            throw FuzzFailure("MetadataRecord \(record) does not round-trip: \(error)")
        }
        return .accepted
    }
}

/// The record without unknown tagged fields, which a rewrite at a non-flexible version drops.
private func withoutUnknownTaggedFields(_ record: CoordinatorRecord) -> CoordinatorRecord {
    guard case .groupMetadata(let group, var value?) = record else { return record }
    value.unknownTaggedFields = []
    for index in value.members.indices { value.members[index].unknownTaggedFields = [] }
    return .groupMetadata(group: group, value)
}

private func hasUnknownTaggedFields(_ record: MetadataRecord) -> Bool {
    switch record {
    case .topic(let record): !record.unknownTaggedFields.isEmpty
    case .partition(let record): !record.unknownTaggedFields.isEmpty
    case .config(let record): !record.unknownTaggedFields.isEmpty
    case .removeTopic(let record): !record.unknownTaggedFields.isEmpty
    case .producerIds(let record): !record.unknownTaggedFields.isEmpty
    case .registerBroker(let record):
        !record.unknownTaggedFields.isEmpty || record.endPoints.contains { !$0.unknownTaggedFields.isEmpty }
            || record.features.contains { !$0.unknownTaggedFields.isEmpty }
    case .fenceBroker(let record): !record.unknownTaggedFields.isEmpty
    case .unfenceBroker(let record): !record.unknownTaggedFields.isEmpty
    case .brokerRegistrationChange(let record): !record.unknownTaggedFields.isEmpty
    case .userScramCredential(let record): !record.unknownTaggedFields.isEmpty
    case .removeUserScramCredential(let record): !record.unknownTaggedFields.isEmpty
    case .accessControlEntry(let record): !record.unknownTaggedFields.isEmpty
    case .removeAccessControlEntry(let record): !record.unknownTaggedFields.isEmpty
    case .clientQuota(let record): !record.unknownTaggedFields.isEmpty || record.entity.contains { !$0.unknownTaggedFields.isEmpty }
    }
}
