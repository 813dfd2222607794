import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore

/// Reads all partitions of one topic from their leaders with Fetch, at the highest version both
/// sides speak, without a consumer group and without fetch sessions (every request is a full
/// fetch).
///
/// Each ``next()`` sends one Fetch to every leader at once, waits for all the answers, frames
/// the returned records into v2 batches (``RecordBatchReader``; nothing is decompressed or
/// decoded) and moves each partition's position past its last complete batch. Counts come from
/// the batch headers: `recordCount` of every data batch (control batches — transaction markers —
/// are skipped), and the batches' size in bytes.
///
/// Not thread-safe: one task drives a loop.
public final class FetchLoop {
    /// How fetches are sized and how long the broker may hold them.
    public struct Configuration: Sendable {
        /// How long the broker may wait for `minBytes` to accumulate.
        public var maxWaitMs: Int32 = 500
        public var minBytes: Int32 = 1
        /// The most bytes one response may carry (Kafka's `fetch.max.bytes`).
        public var maxBytes: Int32 = 52_428_800
        /// The most bytes per partition (Kafka's `max.partition.fetch.bytes`); the first batch is
        /// returned whole even when larger.
        public var partitionMaxBytes: Int32 = 1_048_576
        /// 0 reads everything up to the high watermark, 1 only up to the last stable offset.
        public var isolationLevel: Int8 = 0

        public init(maxWaitMs: Int32 = 500, minBytes: Int32 = 1, maxBytes: Int32 = 52_428_800, partitionMaxBytes: Int32 = 1_048_576) {
            self.maxWaitMs = maxWaitMs
            self.minBytes = minBytes
            self.maxBytes = maxBytes
            self.partitionMaxBytes = partitionMaxBytes
        }
    }

    /// Where reading starts.
    public enum StartingPoint: Sendable, Equatable {
        /// Each partition's log start offset.
        case earliest
        /// Each partition's log end offset: only records produced from now on.
        case latest
        /// Explicit offsets; partitions not named start at their log start offset.
        case offsets([Int32: Int64])
    }

    /// What one fetch returned for one partition.
    public struct Fetched: Sendable {
        public var partition: Int32
        /// The position the fetch asked for.
        public var fetchOffset: Int64
        public var highWatermark: Int64
        /// The complete batches returned, a zero-copy slice of the response (a trailing partial
        /// batch is left out).
        public var records: ByteBuffer
        /// Records in the data batches at or past `fetchOffset`, from the batch headers.
        public var recordCount: Int
        /// Bytes of the complete batches, headers included.
        public var batchBytes: Int
        /// The position after the last complete batch: where the next fetch starts.
        public var nextOffset: Int64
    }

    public let layout: TopicLayout
    public let configuration: Configuration
    /// The next offset to fetch, per partition.
    public private(set) var positions: [Int32: Int64]
    private let connections: [Int32: BrokerConnection]

    /// A loop over every partition of `topic`, positioned at `start`.
    public static func open(
        cluster: Cluster, topic: String, from start: StartingPoint = .earliest, configuration: Configuration = Configuration()
    ) async throws -> FetchLoop {
        let layout = try await cluster.topicLayout(topic)
        var connections: [Int32: BrokerConnection] = [:]
        for leader in Set(layout.leaders.values) {
            connections[leader] = try await cluster.connection(to: leader)
        }
        let partitions = layout.partitions.map { TopicPartition(topic: topic, partition: $0) }
        let lookup = OffsetLookup(cluster: cluster)
        var positions: [Int32: Int64] = [:]
        switch start {
        case .earliest, .latest:
            for (partition, offset) in try await lookup.offsets(partitions, start == .latest ? .latest : .earliest) {
                positions[partition.partition] = offset
            }
        case .offsets(let given):
            let earliest = try await lookup.offsets(partitions, .earliest)
            for partition in partitions {
                positions[partition.partition] = given[partition.partition] ?? earliest[partition] ?? 0
            }
        }
        return FetchLoop(layout: layout, configuration: configuration, connections: connections, positions: positions)
    }

    private init(layout: TopicLayout, configuration: Configuration, connections: [Int32: BrokerConnection], positions: [Int32: Int64]) {
        self.layout = layout
        self.configuration = configuration
        self.connections = connections
        self.positions = positions
    }

    /// Fetches once from every leader; returns the partitions that had records, in partition order.
    /// A partition-level error code throws ``ClientError/broker(_:_:)``.
    public func next() async throws -> [Fetched] {
        var pending: [(PendingResponse<FetchResponse>, asked: [Int32: Int64])] = []
        for leader in connections.keys.sorted() {
            let owned = layout.partitions.filter { layout.leaders[$0] == leader }
            let asked = Dictionary(uniqueKeysWithValues: owned.map { ($0, positions[$0] ?? 0) })
            pending.append((try request(owned, asked: asked, from: connections[leader]!), asked))
        }
        var fetched: [Fetched] = []
        for (response, asked) in pending {
            for topic in try await response.get().responses {
                for data in topic.partitions {
                    guard let fetchOffset = asked[data.partitionIndex] else { continue }
                    guard data.errorCode == ErrorCode.none.rawValue else {
                        let code = ErrorCode(rawValue: data.errorCode) ?? .unknownServerError
                        throw ClientError.broker(code, "\(layout.name)-\(data.partitionIndex) at offset \(fetchOffset)")
                    }
                    let result = try Self.frame(data, fetchOffset: fetchOffset)
                    positions[data.partitionIndex] = result.nextOffset
                    if result.batchBytes > 0 { fetched.append(result) }
                }
            }
        }
        return fetched.sorted { $0.partition < $1.partition }
    }

    private func request(_ partitions: [Int32], asked: [Int32: Int64], from connection: BrokerConnection) throws -> PendingResponse<FetchResponse> {
        var version = try connection.negotiatedVersion(of: FetchRequest.self)
        if layout.topicId == .zero { version = min(version, 12) }  // v13+ names topics by id only
        let request = FetchRequest(
            maxWaitMs: configuration.maxWaitMs, minBytes: configuration.minBytes, maxBytes: configuration.maxBytes,
            isolationLevel: configuration.isolationLevel,
            topics: [.init(topic: layout.name, topicId: layout.topicId, partitions: partitions.map {
                .init(partition: $0, fetchOffset: asked[$0] ?? 0, partitionMaxBytes: configuration.partitionMaxBytes)
            })]
        )
        return try connection.enqueue(request, version: version)
    }

    /// Frames the records of one partition's answer and counts them from the batch headers.
    static func frame(_ data: FetchResponse.PartitionData, fetchOffset: Int64) throws -> Fetched {
        let records = data.records ?? ByteBuffer()
        var reader = RecordBatchReader(records, allowsTruncatedTail: true)
        var position = fetchOffset
        var count = 0
        var bytes = 0
        while let batch = try reader.next() {
            guard batch.nextOffset > position else { continue }  // wholly before the position
            if !batch.isControlBatch {
                let records = Int(batch.recordCount)
                count += batch.baseOffset >= position ? records : min(records, Int(batch.lastOffset - position + 1))
            }
            bytes += batch.sizeInBytes
            position = batch.nextOffset
        }
        return Fetched(
            partition: data.partitionIndex, fetchOffset: fetchOffset, highWatermark: data.highWatermark,
            records: records.getSlice(at: records.readerIndex, length: reader.position - records.readerIndex) ?? ByteBuffer(),
            recordCount: count, batchBytes: bytes, nextOffset: position
        )
    }
}
