import BrookCoordinator
import BrookModel
import Logging
import NIOPosix
import Synchronization

/// Starts the group coordinator on first use, as Kafka does: the first FindCoordinator (or
/// group request) creates `__consumer_offsets` (`offsets.topic.num.partitions` partitions,
/// compacted) and loads the coordinator from it. A broker that finds the topic at start-up
/// replays it in the background (``CoordinatorLoader``): group requests meanwhile are answered
/// COORDINATOR_LOAD_IN_PROGRESS, and nothing waits on a lock for the replay.
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
    private let loader: CoordinatorLoader<GroupCoordinator>

    /// - Parameter loadThreads: where the coordinator's topic is replayed (the process-wide
    ///   load threads unless a test gives it threads of its own).
    init(
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, logger: Logger,
        loadThreads: NIOThreadPool = CoordinatorLoader<GroupCoordinator>.loadThreads
    ) {
        self.settings = settings
        self.metadata = metadata
        self.partitions = partitions
        self.logger = logger
        self.loader = CoordinatorLoader(
            pool: loadThreads,
            load: { try Self.start(settings: settings, metadata: metadata, partitions: partitions, logger: logger) },
            shutdown: { $0.shutdown() },
            reportFailure: { logger.error("the group coordinator could not be loaded (the next request retries): \($0)") })
    }

    /// The coordinator once loaded.
    var started: GroupCoordinator? { loader.ready }


    /// The coordinator; creates the offsets topic (and loads the empty coordinator at once) when
    /// missing, or starts replaying it and throws ``CoordinatorUnavailable/loadInProgress``.
    func coordinator() throws(CoordinatorUnavailable) -> GroupCoordinator {
        try loader.coordinator(inline: metadata.image.topics[Self.topicName] == nil)
    }

    /// Starts replaying the coordinator's topic in the background if it exists (broker start-up).
    func loadIfPresent() {
        guard metadata.image.topics[Self.topicName] != nil else { return }
        loader.loadInBackground()
    }

    /// Loads the coordinator on this thread (tests).
    @discardableResult
    func loadNow() throws -> GroupCoordinator { try loader.loadNow() }

    /// Stops handing the coordinator out (shutdown).
    func close() { loader.close() }

    private static func start(
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, logger: Logger
    ) throws -> GroupCoordinator {
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
