import BrookCoordinator
import BrookModel
import BrookProtocol
import Logging
import Synchronization

/// Starts the transaction coordinator on first use, as Kafka does: the first FindCoordinator for
/// a transactional id (or transactional request) creates `__transaction_state`
/// (`transaction.state.log.num.partitions` partitions, compacted) and loads the coordinator from
/// it. A broker that finds the topic at start-up replays it in the background
/// (``CoordinatorLoader``), answering COORDINATOR_LOAD_IN_PROGRESS meanwhile.
final class TransactionCoordinatorHost: Sendable {
    static let topicName = "__transaction_state"

    struct Settings: Sendable {
        var transaction = TransactionConfiguration()
        var segmentBytes = 104_857_600
        /// `transaction.state.log.replication.factor` and `transaction.state.log.min.isr`, in a cluster.
        var replicationFactor: Int16 = 3
        var minInSyncReplicas = 2
    }

    let settings: Settings
    let metadata: MetadataStore
    let partitions: PartitionManager
    let markers: any TransactionMarkerWriter
    let producerIds: ProducerIdManager
    let logger: Logger
    /// Which partitions of `__transaction_state` this broker coordinates, and their coordinator.
    let hosting: CoordinatorHosting<TransactionCoordinator>

    /// - Parameter controller: in a cluster, the active controller (which creates the state topic).
    init(
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, markers: any TransactionMarkerWriter,
        producerIds: ProducerIdManager, logger: Logger, controller: ControllerClient? = nil
    ) {
        self.settings = settings
        self.metadata = metadata
        self.partitions = partitions
        self.markers = markers
        self.producerIds = producerIds
        self.logger = logger
        let topic = CoordinatorTopic(
            name: Self.topicName, partitions: settings.transaction.statePartitions, segmentBytes: settings.segmentBytes,
            replicationFactor: settings.replicationFactor, minInSyncReplicas: settings.minInSyncReplicas)
        self.hosting = CoordinatorHosting(
            topic: topic, metadata: metadata, controller: controller, logger: logger,
            loader: { ownership in
                CoordinatorLoader(
                    load: {
                        try Self.start(
                            topic, settings: settings, metadata: metadata, partitions: partitions, markers: markers,
                            producerIds: producerIds, ownership: ownership, logger: logger)
                    },
                    shutdown: { $0.shutdown() },
                    reportFailure: { logger.error("the transaction coordinator could not be loaded (the next request retries): \($0)") })
            },
            shutdown: { $0.shutdown() })
    }

    /// The coordinator once loaded.
    var started: TransactionCoordinator? { hosting.started }

    /// The coordinator; creates the state topic (and loads the empty coordinator at once) when
    /// missing, or starts replaying it and throws ``CoordinatorUnavailable/loadInProgress``
    /// (see ``CoordinatorHosting`` for a cluster).
    func coordinator() throws(CoordinatorUnavailable) -> TransactionCoordinator { try hosting.coordinator() }

    /// The shard owning `transactionalId`, or the error to answer with: in a cluster,
    /// NOT_COORDINATOR when another broker leads its partition.
    func shard(for transactionalId: String) -> Result<TransactionShard, TransactionError> {
        guard hosting.coordinates(transactionalId) else { return .failure(TransactionError(.notCoordinator)) }
        do throws(CoordinatorUnavailable) {
            return .success(try coordinator().shard(for: transactionalId))
        } catch .loadInProgress {
            return .failure(TransactionError(.coordinatorLoadInProgress))
        } catch {
            logger.error("the transaction coordinator is not available: \(error)")
            return .failure(TransactionError(.coordinatorNotAvailable))
        }
    }

    /// Starts replaying the state topic in the background if it exists (broker start-up).
    func loadIfPresent() { hosting.loadIfPresent() }

    /// Loads the coordinator on this thread (tests).
    @discardableResult
    func loadNow() throws -> TransactionCoordinator { try hosting.loadNow() }

    /// Stops handing the coordinator out (shutdown).
    func close() { hosting.close() }

    /// The highest coordinator epoch a transaction coordinator of this cluster has had: the
    /// highest leader epoch of the `__transaction_state` partitions (0 before the topic exists).
    /// A WriteTxnMarkers claiming a higher one comes from no coordinator.
    var highestCoordinatorEpoch: Int32 {
        metadata.image.topics[Self.topicName]?.partitions.map(\.leaderEpoch).max().map { max(0, $0) } ?? 0
    }

    /// Creates or opens the state topic and loads the coordinator. On one node it first takes a
    /// new leader epoch for each partition (the coordinator epochs of this load, so they grow
    /// with every start and survive restarts in the metadata log, as the leader epochs Kafka
    /// takes them from do); in a cluster the controller's elections grow them, and the
    /// coordinator takes those of the partitions it leads.
    private static func start(
        _ topic: CoordinatorTopic, settings: Settings, metadata: MetadataStore, partitions: PartitionManager,
        markers: any TransactionMarkerWriter, producerIds: ProducerIdManager, ownership: CoordinatorOwnership, logger: Logger
    ) throws -> TransactionCoordinator {
        let logs: [any CoordinatorLog]
        let epochs: [Int32]
        if let led = ownership.ledEpochs {
            logs = try topic.logs(for: ownership, metadata: metadata, partitionManager: partitions)
            epochs = (0..<Int32(logs.count)).map { led[$0] ?? 0 }
        } else {
            _ = try topic.logs(metadata: metadata, partitionManager: partitions)
            let elected = try metadata.bumpLeaderEpochs(topic: Self.topicName)
            // The partitions append in the new epoch.
            try partitions.open(elected, partitions: elected.partitions)
            logs = try topic.logs(metadata: metadata, partitionManager: partitions)
            epochs = elected.partitions.sorted { $0.index < $1.index }.map(\.leaderEpoch)
        }
        var configuration = settings.transaction
        configuration.statePartitions = Int32(logs.count)
        let producerIds = producerIds
        let coordinator = TransactionCoordinator(
            configuration: configuration, logs: logs, markers: markers, newProducerId: { try producerIds.next() },
            coordinatorEpochs: epochs, logger: logger)
        try coordinator.load()
        logger.info("transaction coordinator loaded \(Self.topicName) at coordinator epochs \(Set(epochs).sorted())")
        return coordinator
    }
}
