import BrookCoordinator
import BrookModel
import Logging
import Synchronization

/// Starts the group coordinator on first use, as Kafka does: the first FindCoordinator (or
/// group request) creates `__consumer_offsets` (`offsets.topic.num.partitions` partitions,
/// compacted) and loads the coordinator from it. A broker that finds the topic at start-up
/// loads the coordinator at once.
final class GroupCoordinatorHost: Sendable {
    static let topicName = "__consumer_offsets"

    struct Settings: Sendable {
        var group = GroupConfiguration()
        var segmentBytes = 104_857_600
    }

    let settings: Settings
    let metadata: MetadataStore
    let partitions: PartitionManager
    let logger: Logger
    private let current = Mutex<GroupCoordinator?>(nil)

    init(settings: Settings, metadata: MetadataStore, partitions: PartitionManager, logger: Logger) {
        self.settings = settings
        self.metadata = metadata
        self.partitions = partitions
        self.logger = logger
    }

    /// The coordinator if it has started.
    var started: GroupCoordinator? { current.withLock { $0 } }

    /// The coordinator, creating the offsets topic and loading it when needed.
    func coordinator() throws -> GroupCoordinator {
        try current.withLock { current in
            if let current { return current }
            let coordinator = try start()
            current = coordinator
            return coordinator
        }
    }

    /// Loads the coordinator now if its topic already exists (broker start-up).
    func loadIfPresent() throws {
        guard metadata.image.topics[Self.topicName] != nil else { return }
        _ = try coordinator()
    }

    private func start() throws -> GroupCoordinator {
        let topic = CoordinatorTopic(
            name: Self.topicName, partitions: settings.group.offsetsTopicPartitions, segmentBytes: settings.segmentBytes)
        let logs = try topic.logs(metadata: metadata, partitionManager: partitions)
        var configuration = settings.group
        configuration.offsetsTopicPartitions = Int32(logs.count)
        let coordinator = GroupCoordinator(configuration: configuration, logs: logs, logger: logger)
        try coordinator.load(catalog: metadata.image.topicCatalog)
        return coordinator
    }
}
