@testable import BrookBroker
import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Foundation
import Logging
import NIOCore

/// A broker's partitions without a network: logs in a fresh temporary directory, a config store,
/// a metadata store over an in-memory log, and a ``PartitionManager`` that opens the topics
/// created through ``topic(_:partitions:configs:)`` and follows config changes as the broker does.
/// Tests call ``remove()`` in `defer`.
struct PartitionFixture {
    let directory: String
    let config: BrokerConfigStore
    let metadata: MetadataStore
    let manager: PartitionManager

    init(overrides: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.path + "/brook-partitions-\(UUID().uuidString)"
        config = BrokerConfigStore(try BrokerConfig(overrides: overrides))
        metadata = try MetadataStore(
            log: InMemoryMetadataLog(), clusterId: "test-cluster", nodeId: 1,
            brokers: [MetadataImage.Broker(nodeId: 1, host: "127.0.0.1", port: 9092, rack: nil)]
        )
        manager = PartitionManager(
            logs: try LogManager(configuration: .init(logDirs: [directory])), config: config,
            logger: Logger(label: "test")
        )
        manager.followConfigChanges(of: metadata)
    }

    /// Creates a topic in the metadata and opens its logs.
    @discardableResult
    func topic(_ name: String, partitions: Int32 = 1, configs: [String: String] = [:]) throws -> MetadataImage.Topic {
        let topic = try metadata.createTopic(name: name, partitions: partitions, replicationFactor: 1, configs: configs)
        try manager.open(topic, partitions: topic.partitions)
        return topic
    }

    func partition(_ topic: String, _ index: Int32 = 0) -> Partition {
        manager.table.partition(TopicPartition(topic: topic, partition: index))!
    }

    /// Every batch stored in the partition's log, as read back from its segments.
    func storedBatches(_ topic: String, _ index: Int32 = 0) throws -> [RecordBatch] {
        let log = partition(topic, index).log
        guard let region = try log.read(from: log.logStartOffset, maxBytes: 64 << 20).region else { return [] }
        return try RecordBatchReader.batches(in: try region.readBytes())
    }

    var alterer: ConfigAlterer { ConfigAlterer(config: config, metadata: metadata) }

    /// A group coordinator over these partitions; its `__consumer_offsets` (of
    /// `offsetsTopicPartitions` partitions) is created on first use.
    func groups(offsetsTopicPartitions: Int32 = 1) -> GroupCoordinatorHost {
        var settings = GroupCoordinatorHost.Settings()
        settings.group.offsetsTopicPartitions = offsetsTopicPartitions
        return GroupCoordinatorHost(settings: settings, metadata: metadata, partitions: manager, logger: Logger(label: "test"))
    }

    var handler: ProduceHandler { ProduceHandler(partitions: manager.table) }

    func remove() {
        try? manager.logs.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Batches built the way producers build them.
enum ProducedBatch {
    /// One record per entry (nil keys allowed), at consecutive offsets, with the given codec.
    static func make(
        _ keys: [String?], codec: CompressionCodec = .none, producerId: Int64 = -1, baseSequence: Int32 = -1,
        headers: [Record.Header] = []
    ) throws -> ByteBuffer {
        var configuration = RecordBatchBuilder.Configuration(
            compression: codec, producerId: producerId, producerEpoch: producerId >= 0 ? 3 : -1, baseSequence: baseSequence)
        configuration.baseTimestamp = 1_000
        var builder = RecordBatchBuilder(configuration: configuration)
        for (index, key) in keys.enumerated() {
            builder.append(
                timestamp: 1_000 + Int64(index), key: key.map { ByteBuffer(string: $0) },
                value: ByteBuffer(string: String(repeating: "value-\(index) ", count: 10)), headers: headers)
        }
        return try builder.build()
    }

    /// A Produce request of `records` for partition 0 of `topic`.
    static func request(_ topic: String, _ records: ByteBuffer, acks: Int16 = 1) -> ProduceRequest {
        ProduceRequest(acks: acks, timeoutMs: 1_000, topicData: [
            .init(name: topic, partitionData: [.init(index: 0, records: records)]),
        ])
    }
}

extension ProduceResponse {
    /// The answer for partition 0 of the first topic.
    var first: PartitionProduceResponse { responses[0].partitionResponses[0] }
}
