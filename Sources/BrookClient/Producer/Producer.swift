#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore
import Synchronization

/// A Kafka producer in Swift, speaking only the public protocol.
///
/// Records are appended to per-partition batches (``RecordAccumulator``) that a send loop
/// closes after `linger.ms` or at `batch.size`, compresses and sends, one Produce request per
/// leader carrying at most one batch per partition, with up to
/// `max.in.flight.requests.per.connection` requests outstanding per broker. Retriable errors
/// retry the batch after `retry.backoff.ms`, until `delivery.timeout.ms`; leader changes
/// refresh the metadata. Idempotence (on by default with `acks=-1`, as in Kafka 3+) stamps each
/// batch with the producer id, epoch and sequence, so retries never duplicate records; a
/// partition has one batch in flight at a time, which keeps its batches in order. With a
/// `transactional.id`, ``initTransactions()``, ``beginTransaction()``,
/// ``sendOffsetsToTransaction(_:groupId:generationId:memberId:groupInstanceId:)``,
/// ``commitTransaction()`` and ``abortTransaction()`` give exactly-once writes.
///
/// Keys are partitioned with the Java client's murmur2 (``Murmur2``); records without a key
/// stick to one random partition until its batch closes (KIP-480).
///
/// `Sendable`: any number of tasks may send concurrently. Call ``close()`` when done.
public final class Producer: Sendable {
    public let configuration: ProducerConfiguration
    let cluster: Cluster
    let accumulator: RecordAccumulator
    let limiter: InFlightLimiter
    let topics = Mutex<[String: TopicLayout]>([:])
    let identity = Mutex(ProducerIdentity())
    let transaction = Mutex(TransactionProgress())
    private let loop = Mutex<Task<Void, Never>?>(nil)

    /// The producer id, epoch and next sequence per partition (idempotent producers).
    struct ProducerIdentity {
        var producerId: Int64 = -1
        var epoch: Int16 = -1
        var nextSequence: [TopicPartition: Int32] = [:]
    }

    private init(configuration: ProducerConfiguration, cluster: Cluster) {
        self.configuration = configuration
        self.cluster = cluster
        accumulator = RecordAccumulator(configuration: configuration)
        limiter = InFlightLimiter(limit: configuration.maxInFlightRequestsPerConnection)
    }

    /// Connects to the cluster and starts the send loop. An idempotent producer gets its producer
    /// id here; a transactional one in ``initTransactions()``.
    public static func connect(_ configuration: ProducerConfiguration) async throws -> Producer {
        let cluster = try await Cluster.connect(bootstrapServers: configuration.bootstrapServers, clientId: configuration.clientId, security: configuration.security)
        let producer = Producer(configuration: configuration, cluster: cluster)
        if configuration.isIdempotent && configuration.transactionalId == nil {
            try await producer.renewProducerId()
        }
        let loop = Task { await producer.runSendLoop() }
        producer.loop.withLock { $0 = loop }
        return producer
    }

    /// Sends `record` and returns where it was written, once acknowledged (or throws why not).
    public func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        try checkTransactionalSend()
        let keyHash = Self.keyHash(of: record)
        let timestamp = record.timestamp ?? Self.nowMilliseconds()
        var recovery = AppendRecovery()
        while true {
            do {
                return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RecordMetadata, any Error>) in
                    let outcome = accumulator.append(record, keyHash: keyHash, timestamp: timestamp, delivery: { continuation.resume(with: $0) })
                    if outcome != .appended { continuation.resume(throwing: NotAppended(outcome: outcome)) }
                }
            } catch let notAppended as NotAppended {
                try await recover(from: notAppended.outcome, appending: record, &recovery)
            }
        }
    }

    /// Buffers `record` and returns as soon as it is buffered (waiting only for buffer room or
    /// the first metadata of its topic); `onDelivery`, if given, gets its outcome later.
    /// ``flush()`` waits for every outcome.
    public func enqueue(
        _ record: ProducerRecord, onDelivery: (@Sendable (Result<RecordMetadata, any Error>) -> Void)? = nil
    ) async throws {
        try checkTransactionalSend()
        let keyHash = Self.keyHash(of: record)
        let timestamp = record.timestamp ?? Self.nowMilliseconds()
        var recovery = AppendRecovery()
        while true {
            let outcome = accumulator.append(record, keyHash: keyHash, timestamp: timestamp, delivery: onDelivery)
            if outcome == .appended { return }
            try await recover(from: outcome, appending: record, &recovery)
        }
    }

    /// Sends every buffered record now and waits until each has its outcome.
    public func flush() async {
        await accumulator.flush()
    }

    /// Sends what is buffered, waits for it, stops the send loop and closes the connections.
    public func close() async {
        accumulator.beginClosing()
        let loop = self.loop.withLock { $0 }
        await loop?.value
        await cluster.close()
    }

    // MARK: Partitioning and appending

    /// murmur2 of the record's key when the partitioner needs it (a key and no partition).
    static func keyHash(of record: ProducerRecord) -> Int32? {
        guard record.partition == nil, let key = record.key else { return nil }
        return key.withUnsafeReadableBytes { Murmur2.hash($0.bindMemory(to: UInt8.self)) }
    }

    private struct NotAppended: Error {
        let outcome: RecordAccumulator.AppendOutcome
    }

    /// What one record's append has tried so far.
    struct AppendRecovery {
        var refreshedLayout = false
        var deadline: ContinuousClock.Instant?
    }

    /// Removes what stopped an append: waits for buffer room or learns the topic's partitions
    /// (looking once more when the record names a partition beyond them), or throws why the
    /// record cannot be buffered.
    private func recover(
        from outcome: RecordAccumulator.AppendOutcome, appending record: ProducerRecord, _ recovery: inout AppendRecovery
    ) async throws {
        switch outcome {
        case .appended:
            return
        case .closed:
            throw ProducerError.closed
        case .bufferFull:
            let deadline = recovery.deadline ?? ContinuousClock.now + .milliseconds(configuration.maxBlockMs)
            recovery.deadline = deadline
            await accumulator.waitForMemory()
            if ContinuousClock.now > deadline { throw ProducerError.blocked("buffer.memory is full") }
        case .unknownTopic:
            let layout = try await layout(of: record.topic)
            guard !layout.leaders.isEmpty else { throw ClientError.notFound("topic \(record.topic) has no partitions") }
            accumulator.learnPartitionCount(of: record.topic, Int32(layout.leaders.count))
        case .unknownPartition(let count):
            guard !recovery.refreshedLayout else {
                throw ProducerError.refused(
                    topic: record.topic, partition: record.partition ?? -1, code: ErrorCode.unknownTopicOrPartition.rawValue,
                    message: "\(record.topic) has \(count) partitions, no partition \(record.partition ?? -1)")
            }
            recovery.refreshedLayout = true
            forgetLayout(of: record.topic)
            _ = try await layout(of: record.topic)
        }
    }

    /// The topic's layout, from the cache or the cluster's metadata.
    func layout(of topic: String) async throws -> TopicLayout {
        if let known = topics.withLock({ $0[topic] }) { return known }
        let layout = try await cluster.topicLayout(topic, timeout: .milliseconds(configuration.maxBlockMs))
        topics.withLock { $0[topic] = layout }
        accumulator.learnPartitionCount(of: topic, Int32(layout.leaders.count))
        return layout
    }

    /// Drops the cached layout of `topic` (its leaders moved or it changed).
    func forgetLayout(of topic: String) {
        topics.withLock { $0[topic] = nil }
    }

    /// The wall clock in milliseconds, for record timestamps.
    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
    }
}
