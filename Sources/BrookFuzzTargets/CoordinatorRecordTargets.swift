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
                try fuzzCheck(again == record, "CoordinatorRecord does not round-trip: \(record) became \(String(describing: again))")
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

    /// A record of the metadata log (`__cluster_metadata`) as the broker replays it.
    public static let metadataRecord = FuzzTarget(
        name: "metadata-record",
        summary: "KRaft-framed metadata record -> MetadataRecord.decode, round trip at the highest version"
    ) { bytes throws(FuzzFailure) in
        let record: MetadataRecord?
        do {
            record = try MetadataRecord.decode(ByteBuffer(bytes: bytes))
        } catch {
            return .rejected
        }
        guard let record else { return .accepted }  // a record type the broker skips
        do {
            let again = try MetadataRecord.decode(try record.encoded())
            try fuzzCheck(again == record, "MetadataRecord does not round-trip: \(record) became \(String(describing: again))")
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            throw FuzzFailure("MetadataRecord \(record) does not round-trip: \(error)")
        }
        return .accepted
    }
}
