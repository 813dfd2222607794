import BrookProtocol
import NIOCore

/// Sends ready-made record batches to the leaders of one topic's partitions, keeping up to
/// ``Configuration/maxInFlight`` Produce requests outstanding on each broker connection.
///
/// The sender does no batching, retrying or sequencing: the caller builds v2 batches (for
/// instance with `RecordBatchBuilder`) and names their partition. Each batch travels in its own
/// Produce request, written as soon as ``send(_:to:tag:acknowledged:)`` is called, so requests
/// (and batches of one partition) reach the broker in call order. When a connection already has
/// `maxInFlight` requests outstanding, `send` first waits for the oldest one, which is the next
/// the broker answers.
///
/// Each request's outcome comes back as an ``Acknowledgement`` carrying the caller's `Tag` and
/// the moment the response was read from the socket (with acks=0, the moment the request was
/// written), however late the caller gets to it. A partition-level error code in a response
/// throws ``ClientError/broker(_:_:)`` naming the partition; nothing is retried.
///
/// Not thread-safe: one task drives a sender.
public final class ProduceSender<Tag: Sendable> {
    /// How requests are sent.
    public struct Configuration: Sendable {
        /// 0 (no response), 1 (the leader has the batch) or -1 (every in-sync replica has it).
        public var acks: Int16 = -1
        /// How long the broker may wait for the in-sync replicas before answering.
        public var timeoutMs: Int32 = 30_000
        /// Requests outstanding per broker connection.
        public var maxInFlight: Int = 5

        public init(acks: Int16 = -1, timeoutMs: Int32 = 30_000, maxInFlight: Int = 5) {
            self.acks = acks
            self.timeoutMs = timeoutMs
            self.maxInFlight = maxInFlight
        }
    }

    /// The outcome of one batch.
    public struct Acknowledgement: Sendable {
        public var partition: Int32
        /// The offset the broker gave the batch's first record; nil with acks=0.
        public var baseOffset: Int64?
        /// When the response was read (acks=0: when the request was written).
        public var receivedAt: ContinuousClock.Instant
        public var tag: Tag
    }

    public let layout: TopicLayout
    public let configuration: Configuration
    private let connections: [Int32: BrokerConnection]
    private var inFlight: [Int32: CircularBuffer<InFlight>] = [:]

    private enum Pending {
        case answered(PendingResponse<ProduceResponse>)
        case unanswered(PendingWrite)
    }

    private struct InFlight {
        var pending: Pending
        var partition: Int32
        var tag: Tag
    }

    /// A sender for `topic`, connected to the leader of each of its partitions.
    public static func connect(cluster: Cluster, topic: String, configuration: Configuration = Configuration()) async throws -> ProduceSender {
        precondition(configuration.maxInFlight >= 1, "maxInFlight must be at least 1")
        let layout = try await cluster.topicLayout(topic)
        var connections: [Int32: BrokerConnection] = [:]
        for leader in Set(layout.leaders.values) {
            connections[leader] = try await cluster.connection(to: leader)
        }
        return ProduceSender(layout: layout, configuration: configuration, connections: connections)
    }

    private init(layout: TopicLayout, configuration: Configuration, connections: [Int32: BrokerConnection]) {
        self.layout = layout
        self.configuration = configuration
        self.connections = connections
    }

    /// Requests written and not yet acknowledged, over all connections.
    public var outstanding: Int { inFlight.values.reduce(0) { $0 + $1.count } }

    /// Writes a Produce request carrying `records` (one or more v2 batches) for `partition`.
    /// First, while the leader's connection has `maxInFlight` requests outstanding, waits for
    /// the oldest and passes its outcome to `acknowledged`.
    public func send(
        _ records: ByteBuffer, to partition: Int32, tag: Tag,
        acknowledged: (Acknowledgement) throws -> Void
    ) async throws {
        guard let leader = layout.leaders[partition], let connection = connections[leader] else {
            throw ClientError.notFound("\(layout.name)-\(partition) has no known leader")
        }
        while let count = inFlight[leader]?.count, count >= configuration.maxInFlight {
            try acknowledged(try await completeOldest(of: leader))
        }
        let request = ProduceRequest(
            acks: configuration.acks, timeoutMs: configuration.timeoutMs,
            topicData: [.init(name: layout.name, partitionData: [.init(index: partition, records: records)])]
        )
        let capacity = records.readableBytes + layout.name.utf8.count + 128
        let pending: Pending = configuration.acks == 0
            ? .unanswered(try connection.enqueueUnanswered(request, frameCapacity: capacity))
            : .answered(try connection.enqueue(request, frameCapacity: capacity))
        inFlight[leader, default: CircularBuffer(initialCapacity: configuration.maxInFlight)]
            .append(InFlight(pending: pending, partition: partition, tag: tag))
    }

    /// Waits for every outstanding request, oldest first per connection.
    public func flush(acknowledged: (Acknowledgement) throws -> Void) async throws {
        for leader in inFlight.keys.sorted() {
            while inFlight[leader]?.isEmpty == false {
                try acknowledged(try await completeOldest(of: leader))
            }
        }
    }

    private func completeOldest(of leader: Int32) async throws -> Acknowledgement {
        guard let oldest = inFlight[leader]?.popFirst() else {
            preconditionFailure("no request in flight to broker \(leader)")
        }
        switch oldest.pending {
        case .unanswered(let write):
            let writtenAt = try await write.get()
            return Acknowledgement(partition: oldest.partition, baseOffset: nil, receivedAt: writtenAt, tag: oldest.tag)
        case .answered(let pending):
            let (response, receivedAt) = try await pending.getWithArrival()
            let baseOffset = try Self.baseOffset(in: response, topic: layout.name, partition: oldest.partition)
            return Acknowledgement(partition: oldest.partition, baseOffset: baseOffset, receivedAt: receivedAt, tag: oldest.tag)
        }
    }

    /// The base offset the response gives the partition, or the error it reports.
    static func baseOffset(in response: ProduceResponse, topic: String, partition: Int32) throws -> Int64 {
        for topicResponse in response.responses where topicResponse.name == topic {
            for result in topicResponse.partitionResponses where result.index == partition {
                guard result.errorCode == ErrorCode.none.rawValue else {
                    let code = ErrorCode(rawValue: result.errorCode) ?? .unknownServerError
                    let details = [result.errorMessage] + result.recordErrors.map { "batch \($0.batchIndex): \($0.batchIndexErrorMessage ?? "")" }
                    throw ClientError.broker(code, "\(topic)-\(partition): " + details.compactMap { $0 }.joined(separator: "; "))
                }
                return result.baseOffset
            }
        }
        throw ClientError.notFound("the Produce response does not mention \(topic)-\(partition)")
    }
}
