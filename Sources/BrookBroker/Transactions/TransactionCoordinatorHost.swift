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
    private let loader: CoordinatorLoader<TransactionCoordinator>

    init(
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, markers: any TransactionMarkerWriter,
        producerIds: ProducerIdManager, logger: Logger
    ) {
        self.settings = settings
        self.metadata = metadata
        self.partitions = partitions
        self.markers = markers
        self.producerIds = producerIds
        self.logger = logger
        self.loader = CoordinatorLoader(
            load: {
                try Self.start(
                    settings: settings, metadata: metadata, partitions: partitions, markers: markers,
                    producerIds: producerIds, logger: logger)
            },
            shutdown: { $0.shutdown() },
            reportFailure: { logger.error("the transaction coordinator could not be loaded (the next request retries): \($0)") })
    }

    /// The coordinator once loaded.
    var started: TransactionCoordinator? { loader.ready }


    /// The coordinator; creates the state topic (and loads the empty coordinator at once) when
    /// missing, or starts replaying it and throws ``CoordinatorUnavailable/loadInProgress``.
    func coordinator() throws(CoordinatorUnavailable) -> TransactionCoordinator {
        try loader.coordinator(inline: metadata.image.topics[Self.topicName] == nil)
    }

    /// The shard owning `transactionalId`, or the error to answer with.
    func shard(for transactionalId: String) -> Result<TransactionShard, TransactionError> {
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
        guard metadata.image.topics[Self.topicName] != nil else { return }
        loader.loadInBackground()
    }

    /// Loads the coordinator on this thread (tests).
    @discardableResult
    func loadNow() throws -> TransactionCoordinator { try loader.loadNow() }

    /// Stops handing the coordinator out (shutdown).
    func close() { loader.close() }

    /// The highest coordinator epoch a transaction coordinator of this cluster has had: the
    /// highest leader epoch of the `__transaction_state` partitions (0 before the topic exists).
    /// A WriteTxnMarkers claiming a higher one comes from no coordinator.
    var highestCoordinatorEpoch: Int32 {
        metadata.image.topics[Self.topicName]?.partitions.map(\.leaderEpoch).max().map { max(0, $0) } ?? 0
    }

    /// Creates or opens the state topic, takes a new leader epoch for each of its partitions
    /// (the coordinator epochs of this load, so they grow with every start and survive
    /// restarts in the metadata log, as the leader epochs Kafka takes them from do), and loads
    /// the coordinator.
    private static func start(
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, markers: any TransactionMarkerWriter,
        producerIds: ProducerIdManager, logger: Logger
    ) throws -> TransactionCoordinator {
        let topic = CoordinatorTopic(
            name: Self.topicName, partitions: settings.transaction.statePartitions, segmentBytes: settings.segmentBytes)
        _ = try topic.logs(metadata: metadata, partitionManager: partitions)
        let elected = try metadata.bumpLeaderEpochs(topic: Self.topicName)
        // The partitions append in the new epoch.
        try partitions.open(elected, partitions: elected.partitions)
        let logs = try topic.logs(metadata: metadata, partitionManager: partitions)
        let epochs = elected.partitions.sorted { $0.index < $1.index }.map(\.leaderEpoch)
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
