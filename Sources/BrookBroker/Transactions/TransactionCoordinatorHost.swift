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

    private func start() throws -> TransactionCoordinator {
        let topic = CoordinatorTopic(
            name: Self.topicName, partitions: settings.transaction.statePartitions, segmentBytes: settings.segmentBytes)
        let logs = try topic.logs(metadata: metadata, partitionManager: partitions)
        var configuration = settings.transaction
        configuration.statePartitions = Int32(logs.count)
        let producerIds = producerIds
        let coordinator = TransactionCoordinator(
            configuration: configuration, logs: logs, markers: markers, newProducerId: { try producerIds.next() }, logger: logger)
        try coordinator.load()
        return coordinator
    }
}
