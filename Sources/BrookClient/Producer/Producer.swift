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
    let sticky = Mutex<[String: Int32]>([:])
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
        let cluster = try await Cluster.connect(bootstrapServers: configuration.bootstrapServers, clientId: configuration.clientId)
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
        let partition = try await partition(for: record)
        try checkTransactionalSend()
        let timestamp = record.timestamp ?? Self.nowMilliseconds()
        while true {
            do {
                return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RecordMetadata, any Error>) in
                    switch accumulator.append(record, to: partition, timestamp: timestamp, delivery: .awaiting(continuation)) {
                    case .appended(let closedBatch):
                        if closedBatch { rotateSticky(record, from: partition) }
                    case .bufferFull:
                        continuation.resume(throwing: BufferFull())
                    case .closed:
                        continuation.resume(throwing: ProducerError.closed)
                    }
                }
            } catch is BufferFull {
                try await waitForRoom()
            }
        }
    }

    /// Buffers `record` and returns as soon as it is buffered (waiting only for buffer room);
    /// `onDelivery`, if given, gets its outcome later. ``flush()`` waits for every outcome.
    public func enqueue(
        _ record: ProducerRecord, onDelivery: (@Sendable (Result<RecordMetadata, any Error>) -> Void)? = nil
    ) async throws {
        let partition = try await partition(for: record)
        try checkTransactionalSend()
        let timestamp = record.timestamp ?? Self.nowMilliseconds()
        while true {
            switch accumulator.append(record, to: partition, timestamp: timestamp, delivery: onDelivery.map { .callback($0) }) {
            case .appended(let closedBatch):
                if closedBatch { rotateSticky(record, from: partition) }
                return
            case .bufferFull:
                try await waitForRoom()
            case .closed:
                throw ProducerError.closed
            }
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

    // MARK: Partitioning

    /// The partition of `record`: its own, murmur2 of its key, or the topic's sticky partition.
    func partition(for record: ProducerRecord) async throws -> TopicPartition {
        if let partition = record.partition { return TopicPartition(topic: record.topic, partition: partition) }
        let layout = try await layout(of: record.topic)
        let count = Int32(layout.leaders.count)
        if let key = record.key {
            let partition = key.withUnsafeReadableBytes { Murmur2.partition(forKey: $0.bindMemory(to: UInt8.self), partitions: count) }
            return TopicPartition(topic: record.topic, partition: partition)
        }
        let partition = sticky.withLock { sticky in
            if let current = sticky[record.topic], current < count { return current }
            let chosen = Int32.random(in: 0..<count)
            sticky[record.topic] = chosen
            return chosen
        }
        return TopicPartition(topic: record.topic, partition: partition)
    }

    /// A keyless record's batch closed: the next keyless records go to another partition.
    private func rotateSticky(_ record: ProducerRecord, from partition: TopicPartition) {
        guard record.key == nil, record.partition == nil,
              let count = topics.withLock({ $0[record.topic]?.leaders.count }), count > 1 else { return }
        sticky.withLock { sticky in
            guard sticky[record.topic] == partition.partition else { return }
            var next = Int32.random(in: 0..<Int32(count - 1))
            if next >= partition.partition { next += 1 }
            sticky[record.topic] = next
        }
    }

    /// The topic's layout, from the cache or the cluster's metadata.
    func layout(of topic: String) async throws -> TopicLayout {
        if let known = topics.withLock({ $0[topic] }) { return known }
        let layout = try await cluster.topicLayout(topic, timeout: .milliseconds(configuration.maxBlockMs))
        topics.withLock { $0[topic] = layout }
        return layout
    }

    /// Drops the cached layout of `topic` (its leaders moved or it changed).
    func forgetLayout(of topic: String) {
        topics.withLock { $0[topic] = nil }
    }

    private struct BufferFull: Error {}

    private func waitForRoom() async throws {
        let deadline = ContinuousClock.now + .milliseconds(configuration.maxBlockMs)
        await accumulator.waitForMemory()
        if ContinuousClock.now > deadline { throw ProducerError.blocked("buffer.memory is full") }
    }

    /// The wall clock in milliseconds, for record timestamps.
    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
    }
}
