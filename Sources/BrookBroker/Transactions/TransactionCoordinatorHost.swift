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
    }

    let settings: Settings
    let metadata: MetadataStore
    let partitions: PartitionManager
    let markers: any TransactionMarkerWriter
    let producerIds: ProducerIdManager
    let logger: Logger
    /// In a cluster, the active controller (which creates the state topic); nil on one node.
    let controller: ControllerClient?
    private let loaders: OwnedCoordinatorLoader<TransactionCoordinator>

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
        self.controller = controller
        self.loaders = OwnedCoordinatorLoader(
            make: { ownership in
                CoordinatorLoader(
                    load: {
                        try Self.start(
                            settings: settings, metadata: metadata, partitions: partitions, markers: markers,
                            producerIds: producerIds, ownership: ownership, logger: logger)
                    },
                    shutdown: { $0.shutdown() },
                    reportFailure: { logger.error("the transaction coordinator could not be loaded (the next request retries): \($0)") })
            },
            shutdown: { $0.shutdown() })
    }

    private var topic: CoordinatorTopic {
        CoordinatorTopic(name: Self.topicName, partitions: settings.transaction.statePartitions, segmentBytes: settings.segmentBytes)
    }

    /// The partitions this broker coordinates: all on one node; in a cluster those it leads,
    /// nil while the state topic does not exist.
    var ownership: CoordinatorOwnership? {
        guard controller != nil else { return .everything }
        return CoordinatorOwnership.of(Self.topicName, in: metadata.image, nodeId: metadata.nodeId)
    }

    /// The coordinator once loaded.
    var started: TransactionCoordinator? { loaders.ready }

    /// The coordinator; creates the state topic (and loads the empty coordinator at once) when
    /// missing, or starts replaying it and throws ``CoordinatorUnavailable/loadInProgress``. In
    /// a cluster, a missing topic is asked of the controller and COORDINATOR_NOT_AVAILABLE
    /// answered until it exists; the coordinator reloads when the partitions led here change.
    func coordinator() throws(CoordinatorUnavailable) -> TransactionCoordinator {
        guard let ownership else {
            requestTopic()
            throw .failed("\(Self.topicName) is being created")
        }
        return try loaders.loader(for: ownership).coordinator(inline: controller == nil && metadata.image.topics[Self.topicName] == nil)
    }

    /// In a cluster, asks for the state topic if it does not exist yet.
    func requestTopic() {
        guard let controller, metadata.image.topics[Self.topicName] == nil else { return }
        topic.requestCreation(metadata: metadata, controller: controller, logger: logger)
    }

    /// Retires a coordinator loaded for partitions this broker no longer leads (the service's
    /// timer calls it).
    func followOwnership() {
        guard controller != nil, let ownership else { return }
        _ = loaders.loader(for: ownership)
    }

    /// The shard owning `transactionalId`, or the error to answer with: in a cluster,
    /// NOT_COORDINATOR when another broker leads its partition.
    func shard(for transactionalId: String) -> Result<TransactionShard, TransactionError> {
        if controller != nil, let ownership, let count = metadata.image.topics[Self.topicName]?.partitions.count,
            !ownership.owns(GroupCoordinator.partition(for: transactionalId, partitions: Int32(count)))
        {
            return .failure(TransactionError(.notCoordinator))
        }
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
    func loadIfPresent() {
        guard metadata.image.topics[Self.topicName] != nil, let ownership else { return }
        loaders.loader(for: ownership).loadInBackground()
    }

    /// Loads the coordinator on this thread (tests).
    @discardableResult
    func loadNow() throws -> TransactionCoordinator {
        guard let ownership else { throw CoordinatorTopicMissing() }
        return try loaders.loader(for: ownership).loadNow()
    }

    /// Stops handing the coordinator out (shutdown).
    func close() { loaders.close() }

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
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, markers: any TransactionMarkerWriter,
        producerIds: ProducerIdManager, ownership: CoordinatorOwnership, logger: Logger
    ) throws -> TransactionCoordinator {
        let topic = CoordinatorTopic(
            name: Self.topicName, partitions: settings.transaction.statePartitions, segmentBytes: settings.segmentBytes)
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
