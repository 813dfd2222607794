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
        /// `offsets.topic.replication.factor`, in a cluster.
        var replicationFactor: Int16 = 3
    }

    let settings: Settings
    let metadata: MetadataStore
    let partitions: PartitionManager
    let logger: Logger
    /// Which partitions of `__consumer_offsets` this broker coordinates, and their coordinator.
    let hosting: CoordinatorHosting<GroupCoordinator>

    /// - Parameters:
    ///   - loadThreads: where the coordinator's topic is replayed (the process-wide load
    ///     threads unless a test gives it threads of its own).
    ///   - controller: in a cluster, the active controller (which creates the offsets topic).
    init(
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, logger: Logger,
        loadThreads: NIOThreadPool = CoordinatorLoader<GroupCoordinator>.loadThreads, controller: ControllerClient? = nil
    ) {
        self.settings = settings
        self.metadata = metadata
        self.partitions = partitions
        self.logger = logger
        let topic = CoordinatorTopic(
            name: Self.topicName, partitions: settings.group.offsetsTopicPartitions, segmentBytes: settings.segmentBytes,
            replicationFactor: settings.replicationFactor)
        self.hosting = CoordinatorHosting(
            topic: topic, metadata: metadata, controller: controller, logger: logger,
            loader: { ownership in
                CoordinatorLoader(
                    pool: loadThreads,
                    load: { try Self.start(topic, settings: settings, metadata: metadata, partitions: partitions, ownership: ownership, logger: logger) },
                    shutdown: { $0.shutdown() },
                    reportFailure: { logger.error("the group coordinator could not be loaded (the next request retries): \($0)") })
            },
            shutdown: { $0.shutdown() })
    }

    /// The coordinator once loaded.
    var started: GroupCoordinator? { hosting.started }

    /// The coordinator; creates the offsets topic (and loads the empty coordinator at once) when
    /// missing, or starts replaying it and throws ``CoordinatorUnavailable/loadInProgress``
    /// (see ``CoordinatorHosting`` for a cluster).
    func coordinator() throws(CoordinatorUnavailable) -> GroupCoordinator { try hosting.coordinator() }

    /// Starts replaying the coordinator's topic in the background if it exists (broker start-up).
    func loadIfPresent() { hosting.loadIfPresent() }

    /// Loads the coordinator on this thread (tests).
    @discardableResult
    func loadNow() throws -> GroupCoordinator { try hosting.loadNow() }

    /// Stops handing the coordinator out (shutdown).
    func close() { hosting.close() }

    private static func start(
        _ topic: CoordinatorTopic, settings: Settings, metadata: MetadataStore, partitions: PartitionManager,
        ownership: CoordinatorOwnership, logger: Logger
    ) throws -> GroupCoordinator {
        let logs = ownership == .everything
            ? try topic.logs(metadata: metadata, partitionManager: partitions)
            : try topic.logs(for: ownership, metadata: metadata, partitionManager: partitions)
        var configuration = settings.group
        configuration.offsetsTopicPartitions = Int32(logs.count)
        let coordinator = GroupCoordinator(configuration: configuration, logs: logs, logger: logger)
        try coordinator.load(catalog: metadata.image.topicCatalog)
        return coordinator
    }
}
