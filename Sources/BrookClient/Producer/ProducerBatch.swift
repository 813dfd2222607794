import BrookModel
import BrookRecords
import NIOCore

/// How one record's outcome reaches whoever sent it: `enqueue`'s callback, or the resumption
/// of a suspended `send`. One closure type, so a batch's deliveries are plain closures.
typealias Delivery = @Sendable (Result<RecordMetadata, any Error>) -> Void

/// One partition's batch from its first record until its outcome is known. Records are appended
/// while it is open; it is closed (compressed) and stamped with the producer's id, epoch and
/// sequence when first sent, and keeps its sequence across retries.
struct ProducerBatch: Sendable {
    let partition: TopicPartition
    /// Set while the batch is open; nil once ``encoded`` is built.
    var encoder: BatchEncoder?
    var encoded: EncodedBatch?
    /// The records that want their outcome: offset delta, timestamp, delivery.
    var deliveries: [(index: Int32, timestamp: Int64, delivery: Delivery)] = []
    let createdAt: ContinuousClock.Instant
    /// Buffer memory this batch holds until it completes.
    var reservedBytes = 0
    var attempts = 0
    /// The first record's sequence number, assigned when first sent (idempotent producers).
    var sequence: Int32?
    /// Not to be sent again before this (retry backoff).
    var notBefore: ContinuousClock.Instant?

    init(partition: TopicPartition, encoder: BatchEncoder, createdAt: ContinuousClock.Instant) {
        self.partition = partition
        self.encoder = encoder
        self.createdAt = createdAt
    }

    var recordCount: Int32 { encoded?.recordCount ?? encoder?.recordCount ?? 0 }

    /// Appends `record` to the open batch; `delivery`, if any, gets its outcome. Returns the
    /// batch's size now, its 61-byte header included (uncompressed), which is what `batch.size`
    /// bounds, as in Kafka.
    mutating func append(_ record: ProducerRecord, timestamp: Int64, delivery: Delivery?, reservedBytes bytes: Int) -> Int {
        let index = encoder!.recordCount
        encoder!.append(key: record.key, value: record.value, headers: record.headers, timestamp: timestamp)
        if let delivery { deliveries.append((index, timestamp, delivery)) }
        reservedBytes += bytes
        return RecordBatch.headerSize + encoder!.recordsSize
    }

    /// Compresses the records if still open; on a codec failure every record fails.
    mutating func close() throws {
        guard var encoder else { return }
        encoded = try encoder.close()
        self.encoder = nil
    }

    /// Completes every record: the offsets follow `baseOffset` (-1 stays -1), the timestamps are
    /// the records' own unless the broker set LogAppendTime.
    func succeed(baseOffset: Int64, logAppendTime: Int64) {
        for (index, timestamp, delivery) in deliveries {
            delivery(.success(RecordMetadata(
                topic: partition.topic, partition: partition.partition,
                offset: baseOffset >= 0 ? baseOffset + Int64(index) : -1,
                timestamp: logAppendTime >= 0 ? logAppendTime : timestamp)))
        }
    }

    func fail(_ error: any Error) {
        for (_, _, delivery) in deliveries { delivery(.failure(error)) }
    }
}
