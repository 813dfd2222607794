import BrookModel
import BrookProtocol
import NIOCore

/// One record of `__transaction_state` in Kafka's format
/// (transaction-coordinator/TransactionLogKey.json and TransactionLogValue.json): the key is
/// int16 version 0 and the transactional id; the value is int16 version 1 (the flexible
/// version, whose tagged fields keep the previous producer id) and the id's
/// ``TransactionMetadata``. Version 0 values are read too.
/// A null value is a tombstone: the transactional id has expired.
public enum TransactionRecord {
    static let keyVersion: Int16 = 0
    static let valueVersion: Int16 = 1

    /// The key and value of `metadata`'s record (a tombstone for `transactionalId` when nil).
    public static func encode(transactionalId: String, _ metadata: TransactionMetadata?) throws(ProtocolError) -> (key: ByteBuffer, value: ByteBuffer?) {
        var key = ByteBuffer()
        key.writeInteger(keyVersion)
        try TransactionLogKey(transactionalId: transactionalId).write(to: &key, version: keyVersion)
        guard let metadata else { return (key, nil) }
        var value = ByteBuffer()
        value.writeInteger(valueVersion)
        let byTopic = Dictionary(grouping: metadata.partitions, by: \.topic)
        let partitions = byTopic.keys.sorted().map { topic in
            TransactionLogValue.PartitionsSchema(topic: topic, partitionIds: byTopic[topic]!.map(\.partition).sorted())
        }
        try TransactionLogValue(
            producerId: metadata.producerId, previousProducerId: metadata.previousProducerId,
            producerEpoch: metadata.producerEpoch, transactionTimeoutMs: metadata.timeoutMs,
            transactionStatus: metadata.state.rawValue,
            transactionPartitions: metadata.state == .empty ? nil : partitions,
            transactionLastUpdateTimestampMs: metadata.lastUpdateTimestamp,
            transactionStartTimestampMs: metadata.startTimestamp
        ).write(to: &value, version: valueVersion)
        return (key, value)
    }

    /// The transactional id of a record and its metadata (nil for a tombstone); nil for keys of
    /// other versions, which are skipped.
    public static func decode(key: ByteBuffer, value: ByteBuffer?) throws(ProtocolError) -> (String, TransactionMetadata?)? {
        var key = key
        guard try key.readInt16() == keyVersion else { return nil }
        let transactionalId = try TransactionLogKey(from: &key, version: keyVersion).transactionalId
        guard var value else { return (transactionalId, nil) }
        let version = try value.readInt16()
        guard TransactionLogValue.validVersions.contains(version) else {
            throw ProtocolError.unsupportedVersion(message: "TransactionLogValue", version: version)
        }
        let decoded = try TransactionLogValue(from: &value, version: version)
        guard let state = TransactionState(rawValue: decoded.transactionStatus) else {
            throw ProtocolError.unsupportedVersion(message: "TransactionLogValue status \(decoded.transactionStatus)", version: version)
        }
        var metadata = TransactionMetadata(
            transactionalId: transactionalId, producerId: decoded.producerId, producerEpoch: decoded.producerEpoch,
            timeoutMs: decoded.transactionTimeoutMs, state: state,
            lastUpdateTimestamp: decoded.transactionLastUpdateTimestampMs)
        metadata.previousProducerId = decoded.previousProducerId
        metadata.startTimestamp = decoded.transactionStartTimestampMs
        // As Kafka: an Empty transaction has no partitions, whatever the record lists (its
        // encoder writes none, so a record that lists some would not survive a rewrite).
        for topic in state == .empty ? [] : decoded.transactionPartitions ?? [] {
            for partition in topic.partitionIds {
                metadata.partitions.insert(TopicPartition(topic: topic.topic, partition: partition))
            }
        }
        return (transactionalId, metadata)
    }
}
