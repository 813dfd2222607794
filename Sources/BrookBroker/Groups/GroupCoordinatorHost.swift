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
    /// In a cluster, the active controller (which creates the offsets topic); nil on one node.
    let controller: ControllerClient?
    private let loaders: OwnedCoordinatorLoader<GroupCoordinator>

    /// - Parameter loadThreads: where the coordinator's topic is replayed (the process-wide
    ///   load threads unless a test gives it threads of its own).
    init(
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, logger: Logger,
        loadThreads: NIOThreadPool = CoordinatorLoader<GroupCoordinator>.loadThreads, controller: ControllerClient? = nil
    ) {
        self.settings = settings
        self.metadata = metadata
        self.partitions = partitions
        self.logger = logger
        self.controller = controller
        self.loaders = OwnedCoordinatorLoader(
            make: { ownership in
                CoordinatorLoader(
                    pool: loadThreads,
                    load: {
                        try Self.start(settings: settings, metadata: metadata, partitions: partitions, ownership: ownership, logger: logger)
                    },
                    shutdown: { $0.shutdown() },
                    reportFailure: { logger.error("the group coordinator could not be loaded (the next request retries): \($0)") })
            },
            shutdown: { $0.shutdown() })
    }

    private var topic: CoordinatorTopic {
        CoordinatorTopic(name: Self.topicName, partitions: settings.group.offsetsTopicPartitions, segmentBytes: settings.segmentBytes)
    }

    /// The partitions this broker coordinates: all on one node; in a cluster those it leads,
    /// nil while the offsets topic does not exist.
    var ownership: CoordinatorOwnership? {
        guard controller != nil else { return .everything }
        return CoordinatorOwnership.of(Self.topicName, in: metadata.image, nodeId: metadata.nodeId)
    }

    /// The coordinator once loaded.
    var started: GroupCoordinator? { loaders.ready }

    /// The coordinator; creates the offsets topic (and loads the empty coordinator at once) when
    /// missing, or starts replaying it and throws ``CoordinatorUnavailable/loadInProgress``. In
    /// a cluster, a missing topic is asked of the controller and COORDINATOR_NOT_AVAILABLE
    /// answered until it exists; the coordinator reloads when the partitions led here change.
    func coordinator() throws(CoordinatorUnavailable) -> GroupCoordinator {
        guard let ownership else {
            requestTopic()
            throw .failed("\(Self.topicName) is being created")
        }
        return try loaders.loader(for: ownership).coordinator(inline: controller == nil && metadata.image.topics[Self.topicName] == nil)
    }

    /// In a cluster, asks for the offsets topic if it does not exist yet.
    func requestTopic() {
        guard let controller, metadata.image.topics[Self.topicName] == nil else { return }
        topic.requestCreation(metadata: metadata, controller: controller, logger: logger)
    }

    /// Retires a coordinator loaded for partitions this broker no longer leads (the service's
    /// timer calls it, so that no stale coordinator keeps expiring sessions).
    func followOwnership() {
        guard controller != nil, let ownership else { return }
        _ = loaders.loader(for: ownership)
    }

    /// Starts replaying the coordinator's topic in the background if it exists (broker start-up).
    func loadIfPresent() {
        guard metadata.image.topics[Self.topicName] != nil, let ownership else { return }
        loaders.loader(for: ownership).loadInBackground()
    }

    /// Loads the coordinator on this thread (tests).
    @discardableResult
    func loadNow() throws -> GroupCoordinator {
        guard let ownership else { throw CoordinatorTopicMissing() }
        return try loaders.loader(for: ownership).loadNow()
    }

    /// Stops handing the coordinator out (shutdown).
    func close() { loaders.close() }

    private static func start(
        settings: Settings, metadata: MetadataStore, partitions: PartitionManager, ownership: CoordinatorOwnership, logger: Logger
    ) throws -> GroupCoordinator {
        let topic = CoordinatorTopic(
            name: Self.topicName, partitions: settings.group.offsetsTopicPartitions, segmentBytes: settings.segmentBytes)
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
