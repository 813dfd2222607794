import BrookCoordinator
import BrookModel
import BrookProtocol
import Logging
import Synchronization

/// Starts the transaction coordinator on first use, as Kafka does: the first FindCoordinator for
/// a transactional id (or transactional request) creates `__transaction_state`
/// (`transaction.state.log.num.partitions` partitions, compacted) and loads the coordinator from
/// it. A broker that finds the topic at start-up loads the coordinator at once.
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
    private let current = Mutex<TransactionCoordinator?>(nil)

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
    }

    /// The coordinator if it has started.
    var started: TransactionCoordinator? { current.withLock { $0 } }

    /// The coordinator, creating the state topic and loading it when needed.
    func coordinator() throws -> TransactionCoordinator {
        try current.withLock { current in
            if let current { return current }
            let coordinator = try start()
            current = coordinator
            return coordinator
        }
    }

    /// The shard owning `transactionalId`, or the error to answer with.
    func shard(for transactionalId: String) -> Result<TransactionShard, TransactionError> {
        do {
            return .success(try coordinator().shard(for: transactionalId))
        } catch {
            logger.error("the transaction coordinator is not available: \(error)")
            return .failure(TransactionError(.coordinatorNotAvailable))
        }
    }

    /// Loads the coordinator now if its topic already exists (broker start-up).
    func loadIfPresent() throws {
        guard metadata.image.topics[Self.topicName] != nil else { return }
        _ = try coordinator()
    }

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
    private func start() throws -> TransactionCoordinator {
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
