import BrookCoordinator
import BrookModel
import BrookProtocol
import Logging

/// An internal compacted topic that backs a coordinator (`__consumer_offsets`,
/// `__transaction_state`): found or created with its partitions opened, one coordinator log per
/// partition in partition order.
struct CoordinatorTopic: Sendable {
    var name: String
    var partitions: Int32
    var segmentBytes: Int
    /// In a cluster, the replicas of each partition (`offsets.topic.replication.factor`,
    /// `transaction.state.log.replication.factor`), as many as there are live brokers when it
    /// is created if fewer (Kafka would refuse until enough brokers joined).
    var replicationFactor: Int16 = 1
    /// In a cluster, the topic's `min.insync.replicas` (`transaction.state.log.min.isr`), as
    /// capped as the replication factor; nil leaves the broker's.
    var minInSyncReplicas: Int? = nil

    /// The topic's partitions as coordinator logs, creating the topic first when it does not
    /// exist (replication factor 1 on one node).
    func logs(metadata: MetadataStore, partitionManager: PartitionManager) throws -> [any CoordinatorLog] {
        var topic = metadata.image.topics[name]
        if topic == nil {
            let created = try metadata.createTopic(name: name, partitions: partitions, replicationFactor: 1, configs: configs)
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

extension CoordinatorTopic {
    /// The configs the topic is created with: compacted, batches kept as the coordinator wrote them.
    var configs: [String: String] {
        ["cleanup.policy": "compact", "segment.bytes": String(segmentBytes), "compression.type": "producer"]
    }

    /// In a cluster: the topic as coordinator logs, one per partition in partition order, those
    /// this broker does not lead (by `ownership`) standing in empty. Their logs open as the
    /// quorum's records arrive; until then the load fails and the next request tries again.
    func logs(for ownership: CoordinatorOwnership, metadata: MetadataStore, partitionManager: PartitionManager) throws -> [any CoordinatorLog] {
        guard let topic = metadata.image.topics[name] else { throw CoordinatorTopicMissing() }
        return try topic.partitions.sorted { $0.index < $1.index }.map { partition -> any CoordinatorLog in
            guard ownership.owns(partition.index) else { return UnownedCoordinatorLog() }
            guard let hosted = partitionManager.table.partition(TopicPartition(topic: name, partition: partition.index)) else {
                throw CoordinatorTopicMissing()
            }
            return OffsetsTopicLog(partition: hosted)
        }
    }

    /// In a cluster, creates the topic on first use, spread over the brokers like any other:
    /// here when this node is the active controller, else by asking it (CreateTopics). Blocks;
    /// call it from a coordinator thread. Failures are logged: the next lookup asks again.
    func requestCreation(metadata: MetadataStore, controller: ControllerClient, logger: Logger) {
        let replicas = Int16(clamping: max(1, min(Int(replicationFactor), metadata.image.usableBrokers.count)))
        var configs = self.configs
        if let minInSyncReplicas { configs["min.insync.replicas"] = String(max(1, min(minInSyncReplicas, Int(replicas)))) }
        do {
            if controller.isController {
                _ = try metadata.createTopic(name: name, partitions: partitions, replicationFactor: replicas, configs: configs)
                return
            }
            try controller.blocking { [configs] in
                try await controller.createTopic(name, partitions: partitions, replicationFactor: replicas, configs: configs)
            }
        } catch let error as MetadataError where error.code == .topicAlreadyExists {
            return
        } catch {
            logger.warning("could not create \(name): \(error)")
        }
    }
}

/// A coordinator's topic or one of its partitions is missing.
struct CoordinatorTopicMissing: Error {}
