import BrookModel
import BrookProtocol
import BrookStorage
import Logging
import Synchronization

/// Keeps the hosted partitions in step with the metadata: opens a log for every partition this
/// node is a replica of and drops the logs of deleted topics. Each log is opened for its topic's id, so a
/// folder left by an earlier topic of the same name is set aside (see ``LogManager``) and never
/// served as the new topic's data.
final class PartitionManager: Sendable {
    let table = PartitionTable()
    let logs: LogManager
    let config: BrokerConfigStore
    let logger: Logger
    /// This broker's node id: a partition it is the leader of serves producers and consumers.
    let localId: Int32
    /// This process's incarnation id (a new one at every start), as it registers with the
    /// controller: in a cluster, partitions wait for that registration before they act.
    let incarnation: Uuid
    private let roleChanges = Mutex<(@Sendable (Partition, ReplicaState.RoleChange) -> Void)?>(nil)
    /// Told when a partition's log is dropped (its fetcher lets it go).
    private let removals = Mutex<(@Sendable (TopicPartition) -> Void)?>(nil)
    /// The high watermarks `replication-offset-checkpoint` held at start, each taken by its
    /// partition when it opens (nil until first read).
    private let checkpointedHighWatermarks = Mutex<[TopicPartition: Int64]?>(nil)

    init(logs: LogManager, config: BrokerConfigStore, logger: Logger, incarnation: Uuid = .random()) {
        self.logs = logs
        self.config = config
        self.logger = logger
        self.localId = config.current.nodeId
        self.incarnation = incarnation
    }

    /// Tells `handler` every partition whose log is dropped.
    func onRemove(_ handler: @escaping @Sendable (TopicPartition) -> Void) {
        removals.withLock { $0 = handler }
    }

    /// The log configuration of a topic: its overrides over the broker's defaults.
    func logConfig(for topic: MetadataImage.Topic) throws(StorageError) -> LogConfig {
        let broker = config.current
        var values: [String: String] = [:]
        for entry in TopicConfigDefinitions.all {
            let key = entry.definition.name
            guard LogConfig.knownKeys.contains(key) else { continue }
            if let value = topic.configs[key] ?? broker.topicDefault(key)?.value {
                values[key] = value
            }
        }
        return try LogConfig(overrides: values)
    }

    /// In a cluster, before the quorum has replayed the metadata: opens every log found on disk
    /// with the broker's default log config, recovering those an unclean stop left, so that the
    /// partitions the replayed metadata then names (`openHostedPartitions`) are opened as they
    /// were left. Topic overrides apply once their records are replayed.
    func loadEveryLogOnDisk() async throws {
        let defaults = try logConfig(for: MetadataImage.Topic(name: "", id: .zero, partitions: [], configs: [:]))
        // The quorum's own log is not a partition: the quorum opens it.
        try await logs.loadLogs(config: { $0.topic == "__cluster_metadata" ? nil : defaults }, topicId: { _ in nil })
    }

    /// Opens the logs found on disk for the topics in `image`, then creates any that are missing.
    func load(image: MetadataImage) async throws {
        let topics = image.topics
        let configs = try topics.mapValues { try logConfig(for: $0) }
        try await logs.loadLogs(
            config: { partition in
                guard let topic = topics[partition.topic], topic.partitions.contains(where: { $0.index == partition.partition }) else {
                    return nil
                }
                return configs[partition.topic]
            },
            topicId: { partition in topics[partition.topic]?.id.storageId }
        )
        for topic in topics.values {
            try open(topic, partitions: topic.partitions)
        }
    }

    /// Opens (creating when needed) the logs of `partitions` of `topic`, and gives each its
    /// role as the metadata names it: a partition already open keeps its log and takes the new
    /// leader, epoch and ISR (``Partition/apply(_:now:)``); role changes go to `onRoleChange`.
    func open(_ topic: MetadataImage.Topic, partitions: [MetadataImage.Partition]) throws {
        let logConfig = try logConfig(for: topic)
        let now = ReplicaManager.nowMs()
        var created: [TopicPartition: Partition] = [:]
        var changes: [(Partition, ReplicaState.RoleChange)] = []
        for partition in partitions {
            let key = TopicPartition(topic: topic.name, partition: partition.index)
            if let existing = table.partition(key), existing.topicId == topic.id {
                changes.append((existing, try existing.apply(partition, now: now)))
                continue
            }
            let log = try logs.getOrCreate(key, config: logConfig, topicId: topic.id.storageId)
            let highWatermark = min(checkpointedHighWatermark(of: key), log.logEndOffset)
            let opened = Partition(
                topicPartition: key, topicId: topic.id, log: log, state: ReplicaState(localId: localId, highWatermark: highWatermark))
            changes.append((opened, try opened.apply(partition, now: now)))
            created[key] = opened
        }
        if !created.isEmpty { table.update { $0.merge(created) { _, new in new } } }
        if let onRoleChange = roleChanges.withLock({ $0 }) {
            for (partition, change) in changes { onRoleChange(partition, change) }
        }
    }

    /// The high watermark the checkpoint at start held for `key` (0 when none), once.
    private func checkpointedHighWatermark(of key: TopicPartition) -> Int64 {
        checkpointedHighWatermarks.withLock { values in
            if values == nil { values = logs.checkpointedHighWatermarks() }
            return values?.removeValue(forKey: key) ?? 0
        }
    }

    /// Every hosted partition's high watermark, for `replication-offset-checkpoint`.
    var highWatermarks: [TopicPartition: Int64] {
        var values: [TopicPartition: Int64] = [:]
        for partition in table.all { values[partition.topicPartition] = partition.highWatermark }
        return values
    }

    /// Tells `handler` every role change of a hosted partition (the replica manager's fetchers).
    func onRoleChange(_ handler: @escaping @Sendable (Partition, ReplicaState.RoleChange) -> Void) {
        roleChanges.withLock { $0 = handler }
    }

    /// Drops a deleted topic's logs.
    func remove(_ topic: MetadataImage.Topic) {
        remove(topic.partitions.map { TopicPartition(topic: topic.name, partition: $0.index) })
    }

    /// Drops the logs of the topic with id `topicId` that this broker has open.
    func remove(topicId: Uuid) {
        remove(table.all.filter { $0.topicId == topicId }.map(\.topicPartition))
    }

    /// Drops the logs of `keys` (deleted, or moved to other brokers).
    func remove(_ keys: [TopicPartition]) {
        table.update { table in
            for key in keys { table[key] = nil }
        }
        if let removed = removals.withLock({ $0 }) {
            for key in keys { removed(key) }
        }
        for key in keys {
            do {
                try logs.delete(key)
            } catch {
                logger.error("could not delete the log of \(key): \(error)")
            }
        }
    }

    /// Applies a topic's changed configs to its open logs.
    func reconfigure(_ topic: MetadataImage.Topic) {
        guard let logConfig = try? logConfig(for: topic) else { return }
        for partition in topic.partitions {
            table.partition(TopicPartition(topic: topic.name, partition: partition.index))?.log.updateConfig(logConfig)
        }
    }
}

extension PartitionManager {
    /// Keeps the open logs' configurations current: a change of a topic's overrides reconfigures
    /// its partitions, and a dynamic broker config change reconfigures every topic (broker values
    /// such as `log.cleaner.min.cleanable.ratio` are the topics' defaults).
    ///
    /// Broker changes are followed through the ``BrokerConfigStore``, not the metadata log: the
    /// store takes the new values only after they are written to the log, so reconfiguring when
    /// the log record commits would read the old ones.
    func followConfigChanges(of metadata: MetadataStore) {
        // Weak captures: strong ones would form cycles (config store -> observer -> manager ->
        // config store, and through the metadata store's listeners).
        metadata.addListener { [weak self] records, image in
            guard let self else { return }
            var changed: Set<String> = []
            for record in records {
                guard case .config(let change) = record,
                      change.resourceType == MetadataRecord.ConfigResourceType.topic.rawValue else { continue }
                changed.insert(change.resourceName)
            }
            for name in changed.sorted() {
                if let topic = image.topics[name] { reconfigure(topic) }
            }
        }
        config.addObserver { [weak self, weak metadata] _ in
            guard let self, let metadata else { return }
            for topic in metadata.image.topics.values { reconfigure(topic) }
        }
    }
}

extension Uuid {
    /// The same id as the storage layer spells it (`partition.metadata`).
    var storageId: KafkaUUID {
        KafkaUUID(mostSignificantBits: mostSignificantBits, leastSignificantBits: leastSignificantBits)
    }
}
