import BrookCoordinator
import BrookModel
import Logging

/// An internal compacted topic that backs a coordinator (`__consumer_offsets`,
/// `__transaction_state`): found or created with its partitions opened, one coordinator log per
/// partition in partition order.
struct CoordinatorTopic {
    var name: String
    var partitions: Int32
    var segmentBytes: Int

    /// The topic's partitions as coordinator logs, creating the topic first when it does not
    /// exist (replication factor 1 on one node).
    func logs(metadata: MetadataStore, partitionManager: PartitionManager) throws -> [any CoordinatorLog] {
        var topic = metadata.image.topics[name]
        if topic == nil {
            let created = try metadata.createTopic(
                name: name, partitions: partitions, replicationFactor: 1,
                configs: ["cleanup.policy": "compact", "segment.bytes": String(segmentBytes), "compression.type": "producer"]
            )
            try partitionManager.open(created, partitions: created.partitions)
            topic = created
            partitionManager.logger.info("created \(name) with \(created.partitions.count) partitions")
        }
        guard let topic else { throw CoordinatorTopicMissing() }
        return try topic.partitions.sorted { $0.index < $1.index }.map { partition in
            guard let hosted = partitionManager.table.partition(TopicPartition(topic: name, partition: partition.index)) else {
                throw CoordinatorTopicMissing()
            }
            return OffsetsTopicLog(partition: hosted)
        }
    }
}

/// A coordinator's topic or one of its partitions is missing.
struct CoordinatorTopicMissing: Error {}
